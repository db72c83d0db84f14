import type { Clock } from '../../src/shared/clock.js';

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  readonly #listeners: Array<() => void> = [];
  constructor(private current = Date.UTC(2026, 0, 1, 12, 0, 0)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
    for (const listener of this.#listeners) listener();
  }
  /**
   * Calls `listener` after every move forward: for what a live process does on real time meanwhile (its lease
   * heartbeat), so that time a test skips is not time in which the process stood still.
   */
  whenAdvanced(listener: () => void): void {
    this.#listeners.push(listener);
  }
  advanceMinutes(minutes: number): void {
    this.advance(minutes * 60_000);
  }
  set(ms: number): void {
    this.current = ms;
  }
}
