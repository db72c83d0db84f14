/**
 * The one mapping of how a run ended — a stop (cancel, timeout, shutdown) or a failure — to what is recorded and
 * shown: the run's status, the error the member reads, and what happens to a resource the run was changing.
 */
import type { RunKind, RunStatus } from '../db/schema.js';
import { RunCancelled, RunnerShuttingDown, RunTimedOut } from './errors.js';
import type { StopReason } from './process.js';

/** How a run that did not succeed ended. */
export type RunEnd = StopReason | 'failed';

export type EndedRunStatus = Exclude<RunStatus, 'queued' | 'running' | 'succeeded'>;

interface EndMeaning {
  status: EndedRunStatus;
  /** A resource left half-applied or half-destroyed: interrupted (resumable by planning again) or failed. */
  resourceStatus: 'failed' | 'interrupted';
  /** Why, as the resource's last error. */
  resourceError: string;
}

const MEANINGS: Record<RunEnd, EndMeaning> = {
  timed_out: { status: 'timed_out', resourceStatus: 'failed', resourceError: 'The run took too long and was stopped.' },
  cancelled: { status: 'cancelled', resourceStatus: 'failed', resourceError: 'The run was cancelled.' },
  shutdown: { status: 'interrupted', resourceStatus: 'interrupted', resourceError: 'The bot shut down during the run.' },
  failed: { status: 'failed', resourceStatus: 'failed', resourceError: 'The engine reported an error; see the run for details.' },
};

export function meaningOf(end: RunEnd): EndMeaning {
  return MEANINGS[end];
}

/**
 * The error a member reads for a stopped run. `stoppedThisRun` is false when the stop came from the bot closing
 * its queue rather than from this run's own stopper (then the run is not named: it never began).
 */
export function stopError(reason: StopReason, runId: number, kind: RunKind | 'outputs', timeoutMs: number, stoppedThisRun: boolean): Error {
  if (reason === 'timed_out') return new RunTimedOut(runId, kind, timeoutMs);
  if (reason === 'cancelled') return new RunCancelled(runId, kind);
  return new RunnerShuttingDown(stoppedThisRun ? runId : undefined, kind);
}

/** A stop that ended a run. Its subclass says when. */
export abstract class RunStopped extends Error {
  constructor(readonly reason: StopReason) {
    super(`run stopped: ${reason}`);
  }
}

/** Stopped while waiting for its slot, or before its first engine command started: nothing was changed. */
export class StoppedBeforeStart extends RunStopped {}

/** Stopped once started: an engine command was cut short, or the next one was kept from starting. */
export class StoppedDuringRun extends RunStopped {}
