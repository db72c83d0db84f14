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
    let recent = this.hits.get(key);
    if (!recent) {
      recent = [];
      this.hits.set(key, recent);
    }
    // Hits are appended as they come, oldest first: only the front can have left the window. (Copying the whole
    // window on every hit cost a busy guild's every command O(its hits in the last minute).)
    let expired = 0;
    while (expired < recent.length && recent[expired]! <= now - this.windowMs) expired += 1;
    if (expired > 0) recent.splice(0, expired);
    if (recent.length >= this.limit) return recent[0]! + this.windowMs - now;
    recent.push(now);
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
