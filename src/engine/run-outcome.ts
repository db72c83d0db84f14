/**
 * Which stop (cancel, timeout, shutdown) counts for a run's outcome. A stop is a request; what happened is decided
 * by the engine. An engine that exited 0 finished its work — an apply created the resources, a destroy removed
 * them — even if a stop arrived while it was finishing, after it exited, or while the bot was writing the records.
 * Recording such a run as cancelled would leave a live resource marked failed and outside the budget. So a stop
 * counts only when it ended a command early; once a command has succeeded, a later stop merely keeps the next
 * command from starting (RunStopper refuses to spawn), which then counts.
 */
import type { EngineCommandResult, StopReason } from './process.js';

/** The stop that cut this command short, or undefined when the command finished (exit 0) or was never stopped. */
export function interruptingStop(result: Pick<EngineCommandResult, 'exitCode' | 'stoppedBy'>): StopReason | undefined {
  if (result.exitCode === 0) return undefined;
  return result.stoppedBy;
}
