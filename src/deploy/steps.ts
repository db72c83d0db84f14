/** What the deploy and destroy use cases share with any front end that drives them. */
import type { RunRequest } from '../engine/runner.js';

/** A member taking part in a step, with their server admin flag (Manage Server) as last seen. */
export interface Member {
  id: string;
  isGuildAdmin: boolean;
}

/** What a front end hears while a run goes on. */
export type RunObserver = Required<Pick<RunRequest, 'onEvent' | 'onQueued'>>;

/**
 * How a front end shows a run while it goes: the service calls it only once the run is sure to be asked for, and it
 * calls `run` with its observer, showing the events until the run settles.
 */
export type ShowProgress = <T>(run: (observer: RunObserver) => Promise<T>) => Promise<T>;
