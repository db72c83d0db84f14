/**
 * How the domain tells a member something outside of a command reply (JIT grants, expiries, requests, reminders).
 * The Discord layer implements it with DMs and channel messages, the console with printed lines, tests with a recorder.
 * Notices carry rich text (src/shared/text.ts): members, times and commands are typed, each front end renders them.
 */
import type { RichText } from '../shared/text.js';

/**
 * A button on a notice whose custom id names a durable record (src/interaction/durable-components.ts), so a press
 * works whenever it comes, after a restart too: the handler reads the record, not the process's memory.
 */
export interface DurableButton {
  customId: string;
  label: string;
  style?: 'primary' | 'secondary' | 'success' | 'danger';
}

export interface Notice {
  title: RichText;
  description?: RichText;
  fields?: Array<{ name: RichText; value: RichText }>;
  /** Green for good news, amber for warnings, red for failures; front ends may ignore it. */
  tone?: 'info' | 'success' | 'warning' | 'danger';
  /** Buttons shown with the notice (a DM or channel post, or a message a press updates). */
  buttons?: DurableButton[];
}

/** Where a channel post landed, so it can be edited later (an approval card shown closed). */
export interface PostedMessage {
  channelId: string;
  messageId: string;
}

export interface Notifier {
  /** Sends a direct message. Throws DirectMessageRefused when the member cannot be reached (DMs closed, left, unknown). */
  sendDirect(userId: string, notice: Notice): Promise<void>;
  /** Posts in a guild channel (the guild's notification channel); says where the post landed. */
  sendToChannel(channelId: string, notice: Notice): Promise<PostedMessage>;
  /**
   * Replaces a post made by `sendToChannel` with `notice` (no buttons unless it has some). Throws MessageUnreachable
   * when it cannot be edited for good (deleted message or channel, permission lost); other errors may pass.
   */
  editChannelMessage(message: PostedMessage, notice: Notice): Promise<void>;
  /**
   * Whether `channelId` is a text channel of this guild the bot can see, so notices posted there can arrive: checked
   * before a policy names it as the notification channel (a typo'd or foreign id would fail only at the first notice).
   */
  channelInGuild(guildId: string, channelId: string): Promise<boolean>;
  /** The guild's display name, for notices; undefined when the front end does not know it. */
  guildName(guildId: string): Promise<string | undefined>;
}

/** The member cannot receive a DM (Discord error 50007, or the user is gone). Not retryable. */
export class DirectMessageRefused extends Error {
  constructor(
    readonly userId: string,
    readonly reason: string,
  ) {
    super(`cannot send a direct message to ${userId}: ${reason}`);
    this.name = 'DirectMessageRefused';
  }
}

/** A posted message that cannot be edited, for good (Discord 10008 unknown message, 10003, 50001, 50013). Not retryable. */
export class MessageUnreachable extends Error {
  constructor(
    readonly target: PostedMessage,
    readonly reason: string,
  ) {
    super(`cannot edit message ${target.messageId} in channel ${target.channelId}: ${reason}`);
    this.name = 'MessageUnreachable';
  }
}
