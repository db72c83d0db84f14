import { DirectMessageRefused, MessageUnreachable, type Notice, type Notifier, type PostedMessage } from '../../src/notify/notifier.js';

export interface SentNotice {
  to: { user: string } | { channel: string };
  notice: Notice;
}

/** An edit of an earlier channel post. */
export interface EditedNotice {
  message: PostedMessage;
  notice: Notice;
}

/**
 * A notifier that records what it was asked to send. Members can have their DMs closed (DirectMessageRefused, as
 * Discord's 50007), and the next N sends can fail with a transient error, to exercise retries and crashes.
 */
export class RecordingNotifier implements Notifier {
  readonly sent: SentNotice[] = [];
  readonly edits: EditedNotice[] = [];
  private readonly deletedMessages = new Set<string>();
  private editFailures = 0;
  private posts = 0;
  private readonly dmsClosed = new Set<string>();
  private transientFailures = 0;
  private channelBroken = false;
  private readonly missingChannels = new Set<string>();
  private successesLeft = Number.POSITIVE_INFINITY;

  constructor(private readonly guildNames: Record<string, string> = {}) {}

  /** The member's DMs are closed from now on. */
  closeDms(userId: string): this {
    this.dmsClosed.add(userId);
    return this;
  }

  /** The next `count` sends (DM or channel) throw a plain Error, like a network failure or a dying process. */
  failNext(count: number): this {
    this.transientFailures = count;
    return this;
  }

  /** After `successes` more deliveries, every send throws: the connection (or the process) is gone. */
  dieAfter(successes: number): this {
    this.successesLeft = successes;
    return this;
  }

  /** Every post to a channel fails (missing permission, deleted channel...). */
  breakChannels(): this {
    this.channelBroken = true;
    return this;
  }

  async sendDirect(userId: string, notice: Notice): Promise<void> {
    this.maybeFail();
    if (this.dmsClosed.has(userId)) throw new DirectMessageRefused(userId, 'Cannot send messages to this user (50007)');
    this.sent.push({ to: { user: userId }, notice });
  }

  private heldPost: { title: string; reach: () => void; held: Promise<void> } | undefined;

  /**
   * The next post titled `title` never completes (the process stops there, as in a crash), until `cut()` fails it
   * the way a dead process's connection would. `reached` resolves once the post was attempted.
   */
  holdNextPostTitled(title: string): { reached: Promise<void>; cut: () => void } {
    let reach = (): void => undefined;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    let cut = (): void => undefined;
    const held = new Promise<void>((_, reject) => (cut = () => reject(new Error('connection gone'))));
    this.heldPost = { title, reach, held };
    return { reached, cut };
  }

  async sendToChannel(channelId: string, notice: Notice): Promise<PostedMessage> {
    if (this.heldPost?.title === notice.title) {
      const { reach, held } = this.heldPost;
      this.heldPost = undefined;
      reach();
      await held;
    }
    this.maybeFail();
    if (this.channelBroken) throw new Error('Missing Access');
    this.sent.push({ to: { channel: channelId }, notice });
    this.posts += 1;
    return { channelId, messageId: `m${this.posts}` };
  }

  /** The message is deleted: editing it fails for good (as Discord's 10008). */
  deleteMessage(messageId: string): this {
    this.deletedMessages.add(messageId);
    return this;
  }

  /** The next `count` edits throw a plain Error (a passing network failure). */
  failNextEdits(count: number): this {
    this.editFailures = count;
    return this;
  }

  async editChannelMessage(message: PostedMessage, notice: Notice): Promise<void> {
    if (this.editFailures > 0) {
      this.editFailures -= 1;
      throw new Error('connect ECONNRESET');
    }
    if (this.deletedMessages.has(message.messageId)) throw new MessageUnreachable(message, 'Unknown Message (10008)');
    this.edits.push({ message, notice });
  }

  /** Edits made to one posted message. */
  editsOf(messageId: string): Notice[] {
    return this.edits.filter((e) => e.message.messageId === messageId).map((e) => e.notice);
  }

  /** Every channel exists in every guild, except those marked missing (deleted, or never in that guild). */
  async channelInGuild(guildId: string, channelId: string): Promise<boolean> {
    return !this.missingChannels.has(`${guildId}/${channelId}`) && !this.missingChannels.has(channelId);
  }

  /** The channel does not exist (in `guildId` only, when given). */
  removeChannel(channelId: string, guildId?: string): this {
    this.missingChannels.add(guildId === undefined ? channelId : `${guildId}/${channelId}`);
    return this;
  }

  async guildName(guildId: string): Promise<string | undefined> {
    return this.guildNames[guildId];
  }

  /** Direct messages sent to one member. */
  dmsTo(userId: string): Notice[] {
    return this.sent.filter((s) => 'user' in s.to && s.to.user === userId).map((s) => s.notice);
  }

  /** Posts made in one channel. */
  postsIn(channelId: string): Notice[] {
    return this.sent.filter((s) => 'channel' in s.to && s.to.channel === channelId).map((s) => s.notice);
  }

  private maybeFail(): void {
    if (this.transientFailures > 0) {
      this.transientFailures -= 1;
      throw new Error('connect ECONNRESET');
    }
    if (this.successesLeft <= 0) throw new Error('process is going down');
    this.successesLeft -= 1;
  }
}
