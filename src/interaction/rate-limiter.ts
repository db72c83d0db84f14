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
    const recent = (this.hits.get(key) ?? []).filter((at) => at > now - this.windowMs);
    if (recent.length >= this.limit) {
      this.hits.set(key, recent);
      return recent[0]! + this.windowMs - now;
    }
    recent.push(now);
    this.hits.set(key, recent);
    return 0;
  }
}
