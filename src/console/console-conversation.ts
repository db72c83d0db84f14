/**
 * The Conversation handlers talk to, implemented for a terminal: replies and edits are printed (each distinct
 * edit once), a modal becomes hidden prompts, buttons become numbered choices answered by typing the number.
 */
import type {
  Actor,
  ButtonChoice,
  ButtonSpec,
  Conversation,
  Message,
  MessageAttachment,
  ModalAnswer,
  ModalSpec,
  OfferButtonsOptions,
} from '../interaction/conversation.js';
import { actorOf, type ConsoleChannel, type ConsoleMember } from './directory.js';
import type { RichText } from '../shared/text.js';
import type { ConsoleRenderer } from './render.js';
import type { Timers } from './timers.js';

/** One thing a running command waits for from the keyboard. */
export interface PendingOffer {
  buttons: readonly ButtonSpec[];
  /** Returns null when the press was taken, or the reason it was refused. */
  press(index: number, member: ConsoleMember): RichText | null;
  /** The session is ending: the offer resolves as if it had timed out, without printing. */
  cancel(): void;
}

/** What a console conversation needs from the session that runs it. */
export interface ConversationHost {
  readonly renderer: ConsoleRenderer;
  readonly timers: Timers;
  /** Whether a person types at a terminal; otherwise lines come from a script, which a form must not ask again. */
  readonly interactive: boolean;
  print(text: string): void;
  /** Writes an attached file where the operator can open it; returns its path. */
  saveAttachment(file: MessageAttachment): string;
  /** Reads the next line as a secret answer; null if the session ends first. */
  readSecret(label: string, owner: CommandTask): Promise<string | null>;
  /** Cancels the secret prompts a command still has open (its form timed out). */
  cancelSecrets(owner: CommandTask): void;
  addOffer(offer: PendingOffer, owner: CommandTask): void;
  removeOffer(offer: PendingOffer): void;
  /** The command gave its first response (at a terminal the prompt may come back). */
  taskAnswered(): void;
}

/**
 * A running command: how many keyboard answers it is waiting for, and whether it has answered yet. A script's next
 * line is read only when every command waits for the keyboard or has ended; at a terminal, also once it has answered
 * (a deployment runs on while the prompt takes `/cloud-runs cancel`).
 */
export interface CommandTask {
  waits: number;
  responded: boolean;
}

export class ConsoleConversation implements Conversation {
  readonly guildId: string;
  readonly channelId: string;
  private state: 'none' | 'deferred' | 'answered' = 'none';
  private ephemeral = false;
  private lastShown: string | undefined;

  constructor(
    private readonly host: ConversationHost,
    private readonly task: CommandTask,
    guildId: string,
    private readonly channel: ConsoleChannel,
    readonly actor: Actor,
    readonly commandName: string,
  ) {
    this.guildId = guildId;
    this.channelId = channel.id;
  }

  responseState(): 'none' | 'deferred' | 'answered' {
    return this.state;
  }

  async reply(message: Message): Promise<void> {
    if (this.state !== 'none') throw new Error('reply() after the first response; use edit() or followUp()');
    this.ephemeral = Boolean(message.ephemeral);
    this.show(this.responseHeader('🤖'), message);
    this.state = 'answered';
    this.answered();
  }

  async defer(options: { ephemeral?: boolean } = {}): Promise<void> {
    if (this.state !== 'none') throw new Error('defer() after the first response');
    this.ephemeral = Boolean(options.ephemeral);
    this.host.print(`${this.responseHeader('⏳')} … working on it`);
    this.state = 'deferred';
    this.answered();
  }

  async edit(message: Message): Promise<void> {
    if (this.state === 'none') throw new Error('edit() before any response');
    this.show(this.responseHeader(this.state === 'deferred' ? '🤖' : '↻'), message);
    this.state = 'answered';
  }

  async followUp(message: Message): Promise<void> {
    if (this.state === 'none') throw new Error('followUp() before any response');
    this.host.print(this.host.renderer.message(`↳ /${this.commandName} ${this.audience(Boolean(message.ephemeral))}`, message));
    this.saveAttachments(message);
  }

  /** A terminal has no interaction token that expires. */
  canStillRespond(): boolean {
    return true;
  }

  async postToChannel(message: Message): Promise<void> {
    this.host.print(this.host.renderer.message(`📢 #${this.channel.name}`, message));
    this.saveAttachments(message);
  }

  async askModal(spec: ModalSpec, timeoutMs: number): Promise<ModalAnswer | null> {
    if (this.state !== 'none') throw new Error('a modal must be the first response');
    return this.readForm(spec, timeoutMs);
  }

  /** A terminal needs no button to open a form: the prompt is printed (privately) and the form asked at once. */
  async askFurtherModal(prompt: Message, _openLabel: string, spec: ModalSpec, timeoutMs: number): Promise<ModalAnswer | null> {
    this.host.print(this.host.renderer.message(`📝 /${this.commandName} ${this.audience(true)}`, { ...prompt, buttons: [] }));
    return this.readForm(spec, timeoutMs);
  }

  private async readForm(spec: ModalSpec, timeoutMs: number): Promise<ModalAnswer | null> {
    this.state = 'answered';
    const kept = spec.secret === false ? 'What you type is hidden as you type it' : 'What you type is hidden and never kept';
    this.host.print(`📝 ${spec.title} — a private form for @${this.actor.displayName}. ${kept}; leave a required field empty to cancel.`);
    let timedOut = false;
    const timer = this.host.timers.schedule(timeoutMs, () => {
      timedOut = true;
      this.host.cancelSecrets(this.task);
    });
    try {
      const values: Record<string, string> = {};
      for (const field of spec.fields) {
        const required = field.required ?? true;
        const optional = !required && !/optional/i.test(field.label) ? ' (optional)' : '';
        const label = `  ${field.label}${optional} [hidden]: `;
        if (field.description) this.host.print(`  ${field.label}: ${field.description}`);
        for (;;) {
          const answer = await this.host.readSecret(label, this.task);
          if (answer === null) {
            this.host.print(timedOut ? '⌛ The form timed out; nothing you typed was kept.' : '✖ The form was closed; nothing you typed was kept.');
            return null;
          }
          if (answer === '' && required) {
            this.host.print('✖ Form cancelled (a required field was left empty); nothing you typed was kept.');
            return null;
          }
          if (field.maxLength !== undefined && [...answer].length > field.maxLength) {
            if (!this.host.interactive) {
              // Asking again would take the script's next lines, commands included, as secrets.
              this.host.print(`✖ Form cancelled: ${field.label} is longer than ${field.maxLength} characters; nothing you typed was kept.`);
              return null;
            }
            this.host.print(`  That is longer than ${field.maxLength} characters; type it again.`);
            continue;
          }
          values[field.id] = answer;
          break;
        }
      }
      // As in Discord, the submitted form is what the handler answers next: a fresh first response.
      this.state = 'none';
      return { values };
    } finally {
      timer.cancel();
    }
  }

  async offerButtons(message: Message, options: OfferButtonsOptions): Promise<ButtonChoice | null> {
    const buttons = message.buttons ?? [];
    let header: string;
    if (options.where === 'response') {
      if (this.state === 'none') this.ephemeral = Boolean(message.ephemeral);
      header = this.responseHeader(this.state === 'answered' ? '↻' : '🤖');
      this.state = 'answered';
    } else header = `📢 #${this.channel.name}`;
    this.lastShown = undefined;
    this.host.print(this.host.renderer.message(header, message, buttons));
    this.saveAttachments(message);
    this.host.print(
      `  ↳ type a number to press it as the acting member, or "1 as NAME" to press as someone else`,
    );

    const settledHeader = options.where === 'response' ? this.responseHeader('↻') : `↻ #${this.channel.name}`;
    return new Promise<ButtonChoice | null>((resolve) => {
      const offer: PendingOffer = {
        buttons,
        press: (index, member) => {
          const button = buttons[index];
          if (!button) return `Choose a number from 1 to ${buttons.length}.`;
          const by = actorOf(member);
          const refusal = options.authorize(by);
          if (refusal) return refusal;
          timer.cancel();
          this.host.removeOffer(offer);
          const choice = { buttonId: button.id, by };
          this.host.print(`👆 @${member.name} pressed [${index + 1}] ${button.label}`);
          this.host.print(this.host.renderer.message(settledHeader, options.settled?.(choice) ?? { ...message, buttons: [] }));
          resolve(choice);
          return null;
        },
        cancel: () => {
          timer.cancel();
          this.host.removeOffer(offer);
          resolve(null);
        },
      };
      const timer = this.host.timers.schedule(options.timeoutMs, () => {
        this.host.removeOffer(offer);
        this.host.print(`⌛ Nobody pressed a button in time; the buttons of /${this.commandName} expired.`);
        this.host.print(this.host.renderer.message(settledHeader, options.settled?.(null) ?? { ...message, buttons: [] }));
        resolve(null);
      });
      this.host.addOffer(offer, this.task);
    });
  }

  private answered(): void {
    if (this.task.responded) return;
    this.task.responded = true;
    this.host.taskAnswered();
  }

  private responseHeader(icon: string): string {
    return `${icon} /${this.commandName} ${this.audience(this.ephemeral)}`;
  }

  private audience(ephemeral: boolean): string {
    return ephemeral ? `→ @${this.actor.displayName} (only you)` : `→ #${this.channel.name}`;
  }

  /** Prints a response unless it says exactly what the last one said (live progress repeats itself). */
  private show(header: string, message: Message): void {
    const body = this.host.renderer.message('', message);
    if (body === this.lastShown) return;
    this.lastShown = body;
    this.host.print(this.host.renderer.message(header, message));
    this.saveAttachments(message);
  }

  /** A terminal cannot show an image: each file is saved and its path printed under the message. */
  private saveAttachments(message: Message): void {
    for (const file of message.attachments ?? []) {
      const path = this.host.saveAttachment(file);
      const about = file.description === undefined ? '' : ` — ${file.description}`;
      this.host.print(`  📎 ${file.name} (${file.data.byteLength.toLocaleString('en-US')} bytes) saved to ${path}${about}`);
    }
  }
}
