import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/interaction/rate-limiter.js';
import { FakeClock } from './support/clock.js';

describe('rate limiter', () => {
  it('allows up to the limit per window, says how long to wait, and lets hits through again as the window slides', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(2, 60_000, clock);
    expect(limiter.take('a')).toBe(0);
    clock.advance(10_000);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(50_000);
    expect(limiter.take('b')).toBe(0);
    clock.advance(50_000);
    expect(limiter.take('a')).toBe(0);
  });

  it('forgets idle keys once many have been seen, so memory does not grow without bound', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(5, 60_000, clock);
    for (let i = 0; i < 10_001; i++) limiter.take(`member-${i}`);
    clock.advance(61_000);
    limiter.take('late');
    expect(limiter.size).toBe(1);
  });

  it('a busy key: hits leave the window one by one as it slides, and refused hits are not counted', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(3, 1_000, clock);
    for (const at of [0, 100, 200]) {
      clock.set(Date.UTC(2026, 0, 1) + at);
      expect(limiter.take('guild')).toBe(0);
    }
    clock.set(Date.UTC(2026, 0, 1) + 999);
    expect(limiter.take('guild')).toBe(1);
    // The hit at 0 has left; the refused one at 999 never counted, so one more fits, then the window is full again.
    clock.set(Date.UTC(2026, 0, 1) + 1_000);
    expect(limiter.take('guild')).toBe(0);
    expect(limiter.take('guild')).toBe(100);
    // At 1250 the hits at 100 and 200 have left too: two fit, then the oldest left (1000) sets the wait.
    clock.set(Date.UTC(2026, 0, 1) + 1_250);
    expect(limiter.take('guild')).toBe(0);
    expect(limiter.take('guild')).toBe(0);
    expect(limiter.take('guild')).toBe(750);
  });
});
