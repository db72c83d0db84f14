import type { Message } from './conversation.js';

/**
 * Live progress without flooding: keeps only the newest message and sends it at most once per interval
 * (Discord rate-limits edits). `cancel()` drops what is pending, before the final message replaces it.
 */
export class ThrottledEditor {
  private pending: Message | undefined;
  private lastSentAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly send: (message: Message) => Promise<void>,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  update(message: Message): void {
    this.pending = message;
    if (this.timer) return;
    const wait = Math.max(0, this.lastSentAt + this.intervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sendPending();
    }, wait);
    this.timer.unref();
  }

  /** Drops anything pending (the final message is about to replace it). */
  async cancel(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    await this.inFlight;
  }

  private sendPending(): void {
    const message = this.pending;
    if (!message) return;
    this.pending = undefined;
    this.lastSentAt = this.now();
    // A failed progress edit is not worth failing the run over; the final result is sent separately.
    this.inFlight = this.inFlight.then(() => this.send(message)).catch(() => undefined);
  }
}
