import { DirectMessageRefused, type Notice, type Notifier, type PostedMessage } from '../notify/notifier.js';
import type { ConsoleDirectory } from './directory.js';
import { buttonSpecs, type ConsoleDurableOffers } from './durable-offers.js';
import type { ConsoleRenderer } from './render.js';

/** DMs and channel posts (JIT grants, expiries, requests, reminders) printed with who would have received them. */
export class ConsoleNotifier implements Notifier {
  #posts = 0;

  constructor(
    private readonly directory: ConsoleDirectory,
    private readonly renderer: ConsoleRenderer,
    private readonly print: (text: string) => void,
    /** Where the durable buttons of a notice (Approve, Extend) become numbered choices. */
    private readonly offers?: ConsoleDurableOffers,
  ) {}

  async sendDirect(userId: string, notice: Notice): Promise<void> {
    const member = this.directory.memberById(userId);
    // Like Discord's "unknown user": the fallback to the notification channel kicks in.
    if (!member) throw new DirectMessageRefused(userId, 'not a member of the console server');
    if (!member.dmsOpen) throw new DirectMessageRefused(userId, 'the member closed their DMs');
    this.print(this.renderer.message(`📨 DM to @${member.name}:`, { notices: [notice] }, buttonSpecs(notice.buttons ?? [])));
    this.offers?.offer(notice.buttons ?? [], { kind: 'dm', member });
  }

  async sendToChannel(channelId: string, notice: Notice): Promise<PostedMessage> {
    const channel = this.directory.channelById(channelId);
    this.print(this.renderer.message(`📢 #${channel?.name ?? channelId}:`, { notices: [notice] }, buttonSpecs(notice.buttons ?? [])));
    if (channel) this.offers?.offer(notice.buttons ?? [], { kind: 'channel', channel });
    this.#posts += 1;
    return { channelId, messageId: `console-${this.#posts}` };
  }

  /** A printed line cannot change: the new state is printed as an update of the earlier post. */
  async editChannelMessage(message: PostedMessage, notice: Notice): Promise<void> {
    const channel = this.directory.channelById(message.channelId);
    this.print(this.renderer.message(`✏️ #${channel?.name ?? message.channelId} (update of an earlier post):`, { notices: [notice] }, buttonSpecs(notice.buttons ?? [])));
  }

  async channelInGuild(guildId: string, channelId: string): Promise<boolean> {
    return guildId === this.directory.guildId && this.directory.channelById(channelId) !== undefined;
  }

  async guildName(guildId: string): Promise<string | undefined> {
    return guildId === this.directory.guildId ? this.directory.guildName : undefined;
  }
}
