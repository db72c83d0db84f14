/** A RecordingNotifier whose next DM waits until released: a janitor held mid-delivery, for the two-process races. */
import type { Notice } from '../../src/notify/notifier.js';
import { RecordingNotifier } from './recording-notifier.js';

export class HeldDmNotifier extends RecordingNotifier {
  #held: { reach: () => void; released: Promise<void> } | undefined;

  /** The next DM waits for `release()`; `reached` resolves once it was attempted. */
  holdNextDm(): { reached: Promise<void>; release: () => void } {
    let reach = (): void => undefined;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.#held = { reach, released };
    return { reached, release };
  }

  override async sendDirect(userId: string, notice: Notice): Promise<void> {
    const held = this.#held;
    if (held) {
      this.#held = undefined;
      held.reach();
      await held.released;
    }
    await super.sendDirect(userId, notice);
  }
}
