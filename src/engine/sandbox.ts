/**
 * Every engine command in a bubblewrap sandbox. A template is code: a `local-exec` provisioner, the `external`
 * data source or a provider runs whatever it likes with the bot's user. Inside the sandbox it finds only its own
 * workspace (at /ws), its guild's provider cache, the system (read-only) and its own processes: no other
 * workspace, no database, no bot process and so no /proc/<bot pid>/environ (sandbox-mounts.ts, sandbox-view.ts).
 *
 * The engine's environment (its credentials) reaches it the way it does outside: as the environment of the
 * processes that start it, built from nothing (child-env.ts). Nothing secret is ever on bubblewrap's command line.
 * Stopping works as outside (sandbox-launch.ts): one SIGINT, then SIGTERM and SIGKILL to its process group, one
 * SIGINT when the bot dies, and a process that lives exactly as long as the engine recorded for the next start-up.
 */
import type { GuardianTools } from './death-signal.js';
import type { EngineExecutor } from './executor.js';
import { runEngineCommand, type EngineCommand, type EngineCommandResult } from './process.js';
import { sandboxedEngineLaunch } from './sandbox-launch.js';
import { bwrapOptions } from './sandbox-mounts.js';
import { sandboxViewOf, type SandboxPolicy } from './sandbox-view.js';

export interface SandboxSettings extends SandboxPolicy {
  /** The bubblewrap binary (found and tried at start-up: sandbox-check.ts). */
  bwrap: string;
  /** setpriv and env, which the launch chain needs (death-signal.ts). */
  guardian: GuardianTools;
}

export class SandboxedEngineExecutor implements EngineExecutor {
  constructor(private readonly settings: SandboxSettings) {}

  async run(command: EngineCommand): Promise<EngineCommandResult> {
    const view = sandboxViewOf(command, this.settings);
    const inside = { ...command, binary: view.binary, args: view.args, env: view.env };
    const sandbox = { bwrap: this.settings.bwrap, options: bwrapOptions(view.mounts) };
    return runEngineCommand(inside, (c) => sandboxedEngineLaunch(c, sandbox, this.settings.guardian));
  }
}
