/**
 * The one interface command handlers talk to. Discord implements it with discord.js interactions; the console front
 * end implements it with a terminal. Handlers never know which one they are talking to.
 */
import type { Notice } from '../notify/notifier.js';
import type { RichText } from '../shared/text.js';

/** The member who acted. `isGuildAdmin` means Manage Server or Administrator in this guild. */
export interface Actor {
  id: string;
  displayName: string;
  isBot: boolean;
  isGuildAdmin: boolean;
}

export type ButtonStyle = 'primary' | 'secondary' | 'success' | 'danger';

export interface ButtonSpec {
  id: string;
  label: string;
  style?: ButtonStyle;
}

/** A file shown with a message (a chart image): Discord uploads it, the console saves it and prints where. */
export interface MessageAttachment {
  /** File name with its extension, e.g. `bytes-over-time.png`: letters, digits, '.', '_' and '-' only. */
  name: string;
  data: Uint8Array;
  /** What the file shows, for screen readers (Discord's alt text). */
  description?: string;
}

/** What a handler shows: text, notices (embeds in Discord), optional buttons, optional files. */
export interface Message {
  content?: RichText;
  notices?: Notice[];
  buttons?: ButtonSpec[];
  /** Files to attach. An edit without them leaves the files an earlier version of the message had. */
  attachments?: MessageAttachment[];
  /** Only the actor sees it. Honoured on the first response and on follow-ups. */
  ephemeral?: boolean;
}

export interface ModalField {
  id: string;
  label: string;
  placeholder?: string;
  required?: boolean;
  multiline?: boolean;
  maxLength?: number;
  /** What the field holds when the form opens (a correction shows what was typed); never set for a secret. */
  value?: string;
  /** What to type, said with the field where there is room (the console prints it; Discord shows `placeholder`). */
  description?: string;
}

export interface ModalSpec {
  title: string;
  fields: ModalField[];
  /** False when what is typed is not a secret (it is saved with what it is for); forms are secret unless they say. */
  secret?: boolean;
}

export interface ModalAnswer {
  values: Record<string, string>;
}

export interface ButtonChoice {
  buttonId: string;
  by: Actor;
}

export interface OfferButtonsOptions {
  /** Put the buttons on the command's own response, or on a new message in the channel everyone can see. */
  where: 'response' | 'channel';
  timeoutMs: number;
  /** Returns why this member may not press, or null when they may. The front end tells a refused member privately. */
  authorize(actor: Actor): RichText | null;
  /** What the message says once a button is pressed or the offer times out (buttons removed). */
  settled?(choice: ButtonChoice | null): Message;
}

export interface Conversation {
  readonly guildId: string;
  readonly channelId: string;
  readonly actor: Actor;
  readonly commandName: string;
  /** 'none' before any response; 'deferred' after defer() until the first edit; 'answered' after that. */
  responseState(): 'none' | 'deferred' | 'answered';
  /** First response. */
  reply(message: Message): Promise<void>;
  /** Acknowledge now, answer later with edit(); needed for anything that may take more than three seconds. */
  defer(options?: { ephemeral?: boolean }): Promise<void>;
  /** Replace the command's response. */
  edit(message: Message): Promise<void>;
  followUp(message: Message): Promise<void>;
  /** Whether edit/followUp still work (Discord: 15 minutes after the command). Later results go to the channel. */
  canStillRespond(): boolean;
  /** A message in the command's channel, visible to everyone, independent of the command's token. */
  postToChannel(message: Message): Promise<void>;
  /**
   * Must be the first response. Resolves null if the member dismisses it or time runs out. Once submitted, the
   * conversation continues on the submission: the next reply, defer or error message answers the form.
   */
  askModal(spec: ModalSpec, timeoutMs: number): Promise<ModalAnswer | null>;
  /**
   * A form after the conversation has answered (the next step of a long form, a correction). Discord opens a form
   * only in answer to a press, so it shows `prompt` privately with one button, `openLabel`, that opens the form for
   * the actor; the console shows the prompt and asks at once. Null when the member does not go on in time or
   * dismisses the form. Once submitted, the conversation continues on the submission, as after askModal.
   */
  askFurtherModal(prompt: Message, openLabel: string, spec: ModalSpec, timeoutMs: number): Promise<ModalAnswer | null>;
  /** Shows buttons and waits for one authorised press; null on timeout. */
  offerButtons(message: Message, options: OfferButtonsOptions): Promise<ButtonChoice | null>;
}

/** A value a member typed for a `user` option, resolved by the front end. */
export interface UserOptionValue {
  id: string;
  displayName: string;
  isBot: boolean;
}

export type OptionValue = string | number | boolean | UserOptionValue;
export type RawOptions = Record<string, OptionValue>;

export interface AutocompleteRequest {
  guildId: string;
  actor: Actor;
  commandName: string;
  focused: { name: string; value: string };
  options: RawOptions;
}

export interface Choice {
  name: string;
  value: string;
}
