/**
 * Durable buttons in the console: the buttons of a DM or channel post (a JIT request's Approve and Deny, a
 * reminder's Extend) shown as numbered choices, pressed as a member with "1" or "1 as carol", and run through the
 * dispatcher's durable handlers exactly as a press in Discord is. A form they open is asked field by field (hidden,
 * as every console form); an empty answer keeps a pre-filled value.
 */
import type { Actor, ButtonSpec, Message } from '../interaction/conversation.js';
import { parseDurableId, type ComponentPress, type DurableForm, type DurableId } from '../interaction/durable-components.js';
import type { DurableButton } from '../notify/notifier.js';
import type { CommandTask, PendingOffer } from './console-conversation.js';
import { actorOf, type ConsoleChannel, type ConsoleDirectory, type ConsoleMember } from './directory.js';
import type { ConsoleRenderer } from './render.js';

/** What the offers need from the console session. */
export interface DurableOfferHost {
  readonly renderer: ConsoleRenderer;
  readonly directory: ConsoleDirectory;
  print(text: string): void;
  readSecret(label: string, owner: CommandTask): Promise<string | null>;
  addOffer(offer: PendingOffer, owner: CommandTask): void;
  removeOffer(offer: PendingOffer): void;
  /** Runs `work` as a task the session waits for, as it does for a command. */
  startTask(work: (task: CommandTask) => Promise<void>): void;
  handleComponent(press: ComponentPress): Promise<void>;
}

/** Where the buttons were shown: a DM (only its recipient can press) or a channel. */
export type OfferPlace = { kind: 'dm'; member: ConsoleMember } | { kind: 'channel'; channel: ConsoleChannel };

export function buttonSpecs(buttons: readonly DurableButton[]): ButtonSpec[] {
  return buttons.map((button) => ({ id: button.customId, label: button.label, style: button.style }));
}

export class ConsoleDurableOffers {
  private host: DurableOfferHost | undefined;

  /** The session, once it exists (the notifier that shows buttons is built before it). */
  attach(host: DurableOfferHost): void {
    this.host = host;
  }

  /** Offers `buttons` of a message just printed at `place`; they wait until a press replaces the message. */
  offer(buttons: readonly DurableButton[], place: OfferPlace): void {
    const host = this.host;
    if (!host || buttons.length === 0) return;
    host.print('  ↳ type a number to press it as the acting member, or "1 as NAME" to press as someone else');
    const offer: PendingOffer = {
      buttons: buttonSpecs(buttons),
      press: (index, member) => {
        const button = buttons[index];
        if (!button) return `Choose a number from 1 to ${buttons.length}.`;
        if (place.kind === 'dm' && member.id !== place.member.id) return `Only @${place.member.name} can see this DM, so only they can press its buttons.`;
        const id = parseDurableId(button.customId);
        if (!id) return 'This button does nothing.';
        host.print(`👆 @${member.name} pressed [${index + 1}] ${button.label}`);
        host.startTask((task) => host.handleComponent(new ConsolePress({ host, offers: this, offer, place }, task, member, id, {})));
        return null;
      },
      cancel: () => host.removeOffer(offer),
    };
    // Nothing waits for these the way a command waits for its own buttons: they belong to no task.
    host.addOffer(offer, { waits: 0, responded: true });
  }
}

interface PressContext {
  host: DurableOfferHost;
  offers: ConsoleDurableOffers;
  offer: PendingOffer;
  place: OfferPlace;
}

class ConsolePress implements ComponentPress {
  readonly guildId: string | null;
  readonly channelId: string;
  readonly actor: Actor;
  readonly kind: 'button' | 'form';

  constructor(
    private readonly context: PressContext,
    private readonly task: CommandTask,
    private readonly member: ConsoleMember,
    readonly id: DurableId,
    readonly values: Readonly<Record<string, string>>,
    kind: 'button' | 'form' = 'button',
  ) {
    const { place, host } = context;
    this.guildId = place.kind === 'dm' ? null : host.directory.guildId;
    this.channelId = place.kind === 'dm' ? '' : place.channel.id;
    // As in Discord, a press in a DM comes with no server permissions.
    this.actor = place.kind === 'dm' ? { ...actorOf(member), isGuildAdmin: false } : actorOf(member);
    this.kind = kind;
  }

  async reply(message: Message): Promise<void> {
    this.context.host.print(this.context.host.renderer.message(`🔒 → @${this.member.name} (only you)`, message));
  }

  async update(message: Message): Promise<void> {
    const { host, offers, offer, place } = this.context;
    host.removeOffer(offer);
    const buttons = (message.notices ?? []).flatMap((notice) => notice.buttons ?? []);
    const where = place.kind === 'dm' ? `DM to @${place.member.name}` : `#${place.channel.name}`;
    host.print(host.renderer.message(`↻ ${where}:`, message, buttonSpecs(buttons)));
    offers.offer(buttons, place);
  }

  async showForm(form: DurableForm): Promise<void> {
    const { host } = this.context;
    host.print(`📝 ${form.title} — a form for @${this.member.name}. What you type is hidden; leave a required field empty to cancel.`);
    const values: Record<string, string> = {};
    for (const field of form.fields) {
      const keeps = field.value ? ` [Enter keeps ${field.value}]` : '';
      const optional = field.required === false && !/optional/i.test(field.label) ? ' (optional)' : '';
      const answer = await host.readSecret(`  ${field.label}${optional}${keeps} [hidden]: `, this.task);
      if (answer === null) return;
      const value = answer === '' ? (field.value ?? '') : answer;
      if (value === '' && field.required !== false) {
        host.print('✖ Form cancelled (a required field was left empty); nothing was changed.');
        return;
      }
      values[field.id] = value;
    }
    const id = parseDurableId(form.customId);
    if (!id) throw new Error(`not a durable form id: ${form.customId}`);
    // As in Discord, the submission is a new interaction, routed by the form's own custom id.
    await host.handleComponent(new ConsolePress(this.context, this.task, this.member, id, values, 'form'));
  }
}
