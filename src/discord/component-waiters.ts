import { randomBytes } from 'node:crypto';
import type { ButtonInteraction, ModalSubmitInteraction } from 'discord.js';

type Waiter =
  | { kind: 'button'; onPress(interaction: ButtonInteraction, buttonId: string): Promise<boolean> }
  | { kind: 'modal'; onSubmit(interaction: ModalSubmitInteraction): Promise<void> };

/**
 * Routes button presses and modal submissions to the handler awaiting them, by a random custom-id prefix.
 * Kept in memory: a press after a restart or after the offer timed out gets a clear "expired" answer instead.
 */
export class ComponentWaiters {
  private readonly waiters = new Map<string, Waiter>();

  newPrefix(): string {
    return `w${randomBytes(6).toString('hex')}`;
  }

  add(prefix: string, waiter: Waiter): void {
    this.waiters.set(prefix, waiter);
  }

  remove(prefix: string): void {
    this.waiters.delete(prefix);
  }

  /** Returns false when nothing waits for this custom id (expired or unknown). */
  async dispatchButton(interaction: ButtonInteraction): Promise<boolean> {
    const [prefix, buttonId] = splitCustomId(interaction.customId);
    const waiter = this.waiters.get(prefix);
    if (!waiter || waiter.kind !== 'button' || buttonId === undefined) return false;
    return waiter.onPress(interaction, buttonId);
  }

  async dispatchModal(interaction: ModalSubmitInteraction): Promise<boolean> {
    const [prefix] = splitCustomId(interaction.customId);
    const waiter = this.waiters.get(prefix);
    if (!waiter || waiter.kind !== 'modal') return false;
    this.waiters.delete(prefix);
    await waiter.onSubmit(interaction);
    return true;
  }
}

function splitCustomId(customId: string): [string, string | undefined] {
  const at = customId.indexOf(':');
  return at === -1 ? [customId, undefined] : [customId.slice(0, at), customId.slice(at + 1)];
}
