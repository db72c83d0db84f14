import type { Actor, Message } from '../../src/interaction/conversation.js';
import { parseDurableId, type ComponentPress, type DurableForm } from '../../src/interaction/durable-components.js';
import { shownInDiscord } from './shown.js';

export type PressStep = { kind: 'reply' | 'update'; message: Message } | { kind: 'form'; form: DurableForm };

/**
 * A press of a durable button (or a form submission) as a front end would hand it to the dispatcher, recording what
 * the handler answered. `guildId: null` stands for a press in a DM.
 */
export class RecordingPress implements ComponentPress {
  readonly steps: PressStep[] = [];
  readonly id;
  readonly kind: 'button' | 'form';

  constructor(
    readonly actor: Actor,
    customId: string,
    readonly guildId: string | null,
    readonly channelId = '400000000000000001',
    readonly values: Readonly<Record<string, string>> = {},
  ) {
    const id = parseDurableId(customId);
    if (!id) throw new Error(`not a durable custom id: ${customId}`);
    this.id = id;
    this.kind = Object.keys(values).length > 0 || customId.includes('-form:') ? 'form' : 'button';
  }

  async reply(message: Message): Promise<void> {
    this.steps.push({ kind: 'reply', message });
  }

  async update(message: Message): Promise<void> {
    this.steps.push({ kind: 'update', message });
  }

  async showForm(form: DurableForm): Promise<void> {
    if (this.kind !== 'button' || this.steps.length > 0) throw new Error('a form can only be the first answer to a button');
    this.steps.push({ kind: 'form', form });
  }

  /** The form the handler showed, if any. */
  form(): DurableForm | undefined {
    const step = this.steps.find((s) => s.kind === 'form');
    return step?.kind === 'form' ? step.form : undefined;
  }

  /** Everything answered, as Discord would show it. */
  text(): string {
    return shownInDiscord(this.steps);
  }
}
