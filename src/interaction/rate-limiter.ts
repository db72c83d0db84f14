import type { Clock } from '../shared/clock.js';
import { systemClock } from '../shared/clock.js';

/**
 * Fixed-size sliding window of timestamps per key. Small and in memory: limits are per process, which is what
 * a per-shard bot needs (a guild's interactions always arrive on the same shard).
 */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Counts a hit and returns 0, or returns how many ms until a hit would be allowed (and counts nothing). */
  take(key: string): number {
    const now = this.clock.now();
    if (this.hits.size > SWEEP_ABOVE) this.sweep(now);
    const recent = (this.hits.get(key) ?? []).filter((at) => at > now - this.windowMs);
    if (recent.length >= this.limit) {
      this.hits.set(key, recent);
      return recent[0]! + this.windowMs - now;
    }
    recent.push(now);
    this.hits.set(key, recent);
    return 0;
  }

  /** Forgets keys with no hit inside the window, so members seen once do not stay in memory for ever. */
  private sweep(now: number): void {
    for (const [key, times] of this.hits) {
      if ((times.at(-1) ?? 0) <= now - this.windowMs) this.hits.delete(key);
    }
  }

  /** Keys currently remembered (for tests and metrics). */
  get size(): number {
    return this.hits.size;
  }
}

const SWEEP_ABOVE = 10_000;
