import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/**
 * Cooperative time slicing for long janitor loops: the bot has one thread, and a command that arrives while the
 * janitor works waits until the janitor gives the event loop back. Wall-clock time on purpose (not the injected
 * Clock): this is about how long the CPU is held, not about when grants expire.
 */
export class TimeSlicer {
  private sliceStart = performance.now();

  constructor(
    /** How long one slice may hold the event loop, in ms. */
    readonly budgetMs: number,
  ) {}

  /** Time used by the current slice so far, in ms. */
  elapsed(): number {
    return performance.now() - this.sliceStart;
  }

  /** Gives the event loop back if this slice has used its budget. */
  async maybeYield(): Promise<void> {
    if (this.elapsed() >= this.budgetMs) await this.yield();
  }

  async yield(): Promise<void> {
    await yieldToEventLoop();
    this.sliceStart = performance.now();
  }
}

/**
 * Sizes batches that cannot be split (one transaction each) so each takes about the slice budget on this machine,
 * with whatever the per-row cost turns out to be (index updates, audit entries).
 */
export class AdaptiveBatchSize {
  private size: number;

  constructor(
    private readonly budgetMs: number,
    private readonly min: number,
    private readonly max: number,
    initial = Math.min(32, max),
  ) {
    this.size = clamp(initial, min, max);
  }

  get current(): number {
    return this.size;
  }

  /** Learns from a finished batch of `rows` that took `elapsedMs`. */
  observe(rows: number, elapsedMs: number): void {
    if (rows === 0) return;
    const perRow = Math.max(elapsedMs, 0.01) / rows;
    // Move halfway towards the estimate: one slow batch (a GC pause, a busy disk) does not swing the size.
    const target = this.budgetMs / perRow;
    this.size = clamp(Math.round((this.size + target) / 2), this.min, this.max);
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
