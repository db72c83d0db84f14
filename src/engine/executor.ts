/**
 * Who runs one engine command in a workspace. The runner is given an executor rather than spawning itself, so a
 * sandboxed executor (bubblewrap) or a remote worker can take the place of the local one.
 */
import { runEngineCommand, type EngineCommand, type EngineCommandResult } from './process.js';

export interface EngineExecutor {
  /** Runs the command to its end, or until its stopper stops it. Never rejects for a non-zero exit. */
  run(command: EngineCommand): Promise<EngineCommandResult>;
}

/** On this host: execa, a minimal environment, its own process group, the death-signal guardian (process.ts). */
export class LocalEngineExecutor implements EngineExecutor {
  run(command: EngineCommand): Promise<EngineCommandResult> {
    return runEngineCommand(command);
  }
}
