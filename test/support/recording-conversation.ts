import type {
  Actor,
  ButtonChoice,
  Conversation,
  Message,
  ModalAnswer,
  ModalSpec,
  OfferButtonsOptions,
} from '../../src/interaction/conversation.js';
import { toMarkdown } from '../../src/discord/markdown.js';
import { shownInDiscord } from './shown.js';

export type RecordedStep =
  | { kind: 'reply' | 'edit' | 'followUp' | 'channel'; message: Message }
  | { kind: 'defer'; ephemeral: boolean }
  | { kind: 'modal'; spec: ModalSpec; prompt?: Message }
  | { kind: 'buttons'; message: Message }
  /** A scripted press the handler's `authorize` refused, with the reason the front end would show privately. */
  | { kind: 'refused'; buttonId: string; by: string; reason: string };

/** A scripted press; `beforePress` runs while the buttons wait (move the clock, revoke a grant...). */
export interface ScriptedPress extends ButtonChoice {
  beforePress?: () => void | Promise<void>;
}

/**
 * A Conversation that records what the handler said and answers modals and buttons from a script. For unit tests of
 * the dispatcher and of small views; end-to-end tests use the real Discord and console front ends instead.
 */
export class RecordingConversation implements Conversation {
  readonly steps: RecordedStep[] = [];
  private state: 'none' | 'deferred' | 'answered' = 'none';
  tokenAlive = true;

  constructor(
    readonly actor: Actor,
    readonly commandName: string,
    readonly guildId = '111111111111111111',
    readonly channelId = '111111111111111112',
    /** `modal` answers every form; `modals` answers them in turn (a further form, a correction), before `modal`. */
    private readonly answers: { modal?: Record<string, string> | null; modals?: Array<Record<string, string> | null>; buttons?: ScriptedPress[] } = {},
  ) {}

  responseState() {
    return this.state;
  }
  async reply(message: Message) {
    if (this.state !== 'none') throw new Error('already responded');
    this.steps.push({ kind: 'reply', message });
    this.state = 'answered';
  }
  async defer(options: { ephemeral?: boolean } = {}) {
    if (this.state !== 'none') throw new Error('already responded');
    this.steps.push({ kind: 'defer', ephemeral: options.ephemeral ?? false });
    this.state = 'deferred';
  }
  async edit(message: Message) {
    if (this.state === 'none') throw new Error('edit before any response');
    this.steps.push({ kind: 'edit', message });
    this.state = 'answered';
  }
  async followUp(message: Message) {
    if (this.state === 'none') throw new Error('follow-up before any response');
    this.steps.push({ kind: 'followUp', message });
  }
  canStillRespond() {
    return this.tokenAlive;
  }
  async postToChannel(message: Message) {
    this.steps.push({ kind: 'channel', message });
  }
  async askModal(spec: ModalSpec): Promise<ModalAnswer | null> {
    if (this.state !== 'none') throw new Error('a modal must be the first response');
    this.steps.push({ kind: 'modal', spec });
    return this.answerForm();
  }
  async askFurtherModal(prompt: Message, _openLabel: string, spec: ModalSpec): Promise<ModalAnswer | null> {
    this.steps.push({ kind: 'modal', spec, prompt });
    return this.answerForm();
  }
  private answerForm(): ModalAnswer | null {
    this.state = 'answered';
    const values = this.answers.modals?.length ? this.answers.modals.shift() : this.answers.modal;
    if (values) this.state = 'none';
    return values ? { values } : null;
  }
  async offerButtons(message: Message, options: OfferButtonsOptions): Promise<ButtonChoice | null> {
    this.steps.push({ kind: 'buttons', message });
    this.state = 'answered';
    const scripted = this.answers.buttons?.shift();
    if (!scripted) return null;
    await scripted.beforePress?.();
    const choice: ButtonChoice = { buttonId: scripted.buttonId, by: scripted.by };
    const refusal = options.authorize(choice.by);
    if (refusal === null) return choice;
    this.steps.push({ kind: 'refused', buttonId: choice.buttonId, by: choice.by.id, reason: toMarkdown(refusal) });
    return null;
  }

  /** Everything said, as Discord would show it (mentions, timestamps, escapes), as one string for "contains" assertions. */
  text(): string {
    return shownInDiscord(this.steps);
  }
}
