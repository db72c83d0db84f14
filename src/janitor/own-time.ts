import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const SCHEDSTAT = '/proc/thread-self/schedstat';
let unavailable = false;

/**
 * How long this thread has waited, in all, for a CPU while ready to run (Linux: the second figure of
 * /proc/thread-self/schedstat), in ms; undefined where the kernel does not say (then it is never asked again).
 */
export function runQueueWaitMs(): number | undefined {
  if (unavailable) return undefined;
  try {
    const waitedNs = Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[1]);
    if (Number.isFinite(waitedNs)) return waitedNs / 1e6;
  } catch {
    // Not Linux, or no schedstat: wall-clock time alone.
  }
  unavailable = true;
  return undefined;
}

/** Where OwnTime reads the time (wall clock and the thread's total wait for a CPU, both in ms). */
export interface ThreadClocks {
  wallMs: () => number;
  runQueueWaitMs: () => number | undefined;
}

const SYSTEM_CLOCKS: ThreadClocks = { wallMs: () => performance.now(), runQueueWaitMs };

/**
 * Times work on the bot's thread by what it cost the thread: wall-clock time less the time the thread waited for a
 * CPU while other processes ran (time on a CPU or blocked on the disk counts; time queued behind others does not).
 *
 * A janitor batch sized on plain wall-clock time shrinks whenever the machine is busy, although waiting for a CPU is
 * not the batch's doing and a smaller batch does not wait less; each commit has a fixed cost (the audit index pages
 * of every guild in it), so shrunken batches multiplied the CPU the janitor needed exactly when the CPU was scarce.
 */
export class OwnTime {
  readonly #started: number;
  readonly #waited: number | undefined;

  constructor(private readonly clocks: ThreadClocks = SYSTEM_CLOCKS) {
    this.#started = clocks.wallMs();
    this.#waited = clocks.runQueueWaitMs();
  }

  /** Milliseconds since construction, less the thread's wait for a CPU meanwhile (never below zero). */
  elapsedMs(): number {
    const wall = this.clocks.wallMs() - this.#started;
    const waitedNow = this.#waited === undefined ? undefined : this.clocks.runQueueWaitMs();
    const queued = waitedNow === undefined || this.#waited === undefined ? 0 : waitedNow - this.#waited;
    return Math.max(0, wall - queued);
  }
}
