/**
 * Engines that stop when the bot dies. On Linux each engine gets a parent-death signal: the kernel sends it SIGINT
 * the moment its parent ends, however it ends (even kill -9). SIGINT is the engine's graceful stop: it finishes the
 * current step, writes its state and releases its lock.
 *
 * The engine's parent is not the bot itself but a one-line `sh` guardian: the kernel sends a parent-death signal
 * once per parent *thread* that dies, and the bot (Node) has many threads, so an engine that were the bot's own child
 * could get SIGINT several times as the bot's threads die one by one; a second SIGINT makes Terraform abort at once
 * ("Two interrupts received"). The guardian has a single thread, so the engine gets exactly one. The guardian:
 *   - dies with the bot (its own parent-death signal is SIGKILL, given by setpriv);
 *   - ignores SIGINT and SIGTERM, so the bot's stop escalation, sent to the whole process group, reaches the engine
 *     once; SIGKILL ends both;
 *   - starts the engine through `env --default-signal` (a background job of a script would otherwise start with
 *     SIGINT ignored) and `setpriv --pdeathsig INT`, writes the engine's pid on descriptor 3, waits for it and exits
 *     with its status.
 *
 * Needs util-linux setpriv with --pdeathsig (2.33+) and coreutils env with --default-signal (8.31+). Where they are
 * missing, engines are started directly and a warning is logged once: they then outlive a killed bot until the next
 * start-up stops them (see orphans.ts).
 *
 * In the sandbox the chain is the same with bubblewrap between the guardian and the engine: see sandbox-launch.ts
 * for how the one SIGINT still reaches the engine.
 */
import { execFileSync } from 'node:child_process';
import type { Logger } from '../logging/logger.js';
import { atEnginePriority } from './engine-priority.js';

const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];
const ENV_PATHS = ['/usr/bin/env', '/bin/env'];
export const SH = '/bin/sh';

/** "$@" is the command to start in the background: env, its options, setpriv, the engine and its arguments. */
const GUARDIAN_SCRIPT = 'trap "" INT TERM; "$@" 3>&- & echo $! >&3; exec 3>&-; wait $!';

export interface GuardianTools {
  setpriv: string;
  env: string;
}

export interface EngineLaunch {
  file: string;
  args: string[];
  /** Whether the engine gets SIGINT by itself when the bot dies. */
  stopsWithBot: boolean;
  /**
   * Set when the spawned process is not the engine itself: the engine's pid is then written on descriptor 3, as a
   * line (the guardian's) or as bubblewrap's `--info-fd` JSON (`"child-pid"`).
   */
  reportsEnginePid: boolean;
}

let tools: GuardianTools | null | undefined;

/** setpriv and env as the guardian needs them, or null; looked up (and tried once) per process. */
export function findGuardianTools(): GuardianTools | null {
  if (tools !== undefined) return tools;
  tools = null;
  if (process.platform !== 'linux') return tools;
  for (const setpriv of SETPRIV_PATHS) {
    for (const env of ENV_PATHS) {
      try {
        // The whole chain once, with a harmless command: proves every option is supported here.
        execFileSync(setpriv, ['--pdeathsig', 'KILL', '--', SH, '-c', GUARDIAN_SCRIPT, 'probe', env, '--default-signal', setpriv, '--pdeathsig', 'INT', '--', SH, '-c', 'true'], {
          timeout: 30_000,
          stdio: ['ignore', 'ignore', 'ignore', 'ignore'],
        });
        tools = { setpriv, env };
        return tools;
      } catch {
        // Not there, or too old: try the next one.
      }
    }
  }
  return tools;
}

let warned = false;

/**
 * How to start `binary args` with exactly the environment `env`: under the guardian where possible, else directly.
 * `guardian` is what was found on this host unless given (null: none).
 */
export function engineLaunch(
  command: { binary: string; args: string[]; env: Record<string, string> },
  logger?: Logger,
  guardian: GuardianTools | null = findGuardianTools(),
): EngineLaunch {
  const { binary, args } = command;
  if (guardian) {
    // The shell adds PWD to its children's environment; the engine gets only what it was given.
    const unset = 'PWD' in command.env ? [] : ['-u', 'PWD'];
    return {
      file: guardian.setpriv,
      args: [
        ...['--pdeathsig', 'KILL', '--', SH, '-c', GUARDIAN_SCRIPT, 'engine-guardian', guardian.env, ...unset, '--default-signal', guardian.setpriv, '--pdeathsig', 'INT', '--'],
        ...atEnginePriority([binary, ...args]),
      ],
      stopsWithBot: true,
      reportsEnginePid: true,
    };
  }
  if (!warned) {
    warned = true;
    logger?.warn(
      { platform: process.platform },
      'setpriv with --pdeathsig or env with --default-signal is not available (install util-linux and coreutils): engines will not be stopped if the bot is killed; the next start-up stops them',
    );
  }
  return { file: binary, args, stopsWithBot: false, reportsEnginePid: false };
}
