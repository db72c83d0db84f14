import { DirectMessageRefused, type Notice, type Notifier } from '../notify/notifier.js';
import type { ConsoleDirectory } from './directory.js';
import type { ConsoleRenderer } from './render.js';

/** DMs and channel posts (JIT grants and expiries) printed with who would have received them. */
export class ConsoleNotifier implements Notifier {
  constructor(
    private readonly directory: ConsoleDirectory,
    private readonly renderer: ConsoleRenderer,
    private readonly print: (text: string) => void,
  ) {}

  async sendDirect(userId: string, notice: Notice): Promise<void> {
    const member = this.directory.memberById(userId);
    // Like Discord's "unknown user": the fallback to the notification channel kicks in.
    if (!member) throw new DirectMessageRefused(userId, 'not a member of the console server');
    if (!member.dmsOpen) throw new DirectMessageRefused(userId, 'the member closed their DMs');
    this.print(this.renderer.message(`📨 DM to @${member.name}:`, { notices: [notice] }));
  }

  async sendToChannel(channelId: string, notice: Notice): Promise<void> {
    const name = this.directory.channelById(channelId)?.name ?? channelId;
    this.print(this.renderer.message(`📢 #${name}:`, { notices: [notice] }));
  }

  async channelInGuild(guildId: string, channelId: string): Promise<boolean> {
    return guildId === this.directory.guildId && this.directory.channelById(channelId) !== undefined;
  }

  async guildName(guildId: string): Promise<string | undefined> {
    return guildId === this.directory.guildId ? this.directory.guildName : undefined;
  }
}
