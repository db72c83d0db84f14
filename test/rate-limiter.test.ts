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
});
