import { describe, expect, it } from 'vitest';
import { OwnTime, runQueueWaitMs, type ThreadClocks } from '../src/janitor/own-time.js';

/** Clocks a test moves by hand: the wall clock and the thread's total wait for a CPU. */
function fakeClocks(waitKnown = true) {
  const state = { wall: 1_000, waited: 500 };
  const clocks: ThreadClocks = { wallMs: () => state.wall, runQueueWaitMs: () => (waitKnown ? state.waited : undefined) };
  return { state, clocks };
}

describe('OwnTime (what a janitor batch cost its thread)', () => {
  it('leaves out the time the thread waited for a CPU behind other processes', () => {
    const { state, clocks } = fakeClocks();
    const timer = new OwnTime(clocks);
    state.wall += 40;
    state.waited += 30;
    expect(timer.elapsedMs()).toBe(10);
  });

  it('counts everything else: a batch that ran uncontended costs its wall-clock time', () => {
    const { state, clocks } = fakeClocks();
    const timer = new OwnTime(clocks);
    state.wall += 12;
    expect(timer.elapsedMs()).toBe(12);
  });

  it('is wall-clock time where the kernel does not report the wait', () => {
    const { state, clocks } = fakeClocks(false);
    const timer = new OwnTime(clocks);
    state.wall += 25;
    state.waited += 20;
    expect(timer.elapsedMs()).toBe(25);
  });

  it('never goes below zero when the two clocks disagree', () => {
    const { state, clocks } = fakeClocks();
    const timer = new OwnTime(clocks);
    state.wall += 1;
    state.waited += 3;
    expect(timer.elapsedMs()).toBe(0);
  });

  it.runIf(process.platform === 'linux')('reads a wait that never decreases from this thread on Linux', () => {
    const first = runQueueWaitMs();
    const second = runQueueWaitMs();
    expect(first).toBeTypeOf('number');
    expect(second!).toBeGreaterThanOrEqual(first!);
    const timer = new OwnTime();
    let spin = 0;
    for (let i = 0; i < 1e5; i++) spin += i;
    expect(spin).toBeGreaterThan(0);
    expect(timer.elapsedMs()).toBeGreaterThanOrEqual(0);
  });
});
