/**
 * Engines that stop when the bot dies. On Linux an engine is started through `setpriv --pdeathsig INT --`
 * (util-linux), which asks the kernel to send the engine SIGINT the moment the bot's process ends, however it
 * ends (even kill -9). SIGINT is the engine's graceful stop: it finishes the current step, writes its state and
 * releases its lock. setpriv execs the engine, so the pid the bot sees is the engine's own and the usual stop
 * escalation (SIGINT → SIGTERM → SIGKILL to its process group) still reaches it.
 *
 * Where setpriv is missing (or too old for --pdeathsig) engines are started directly and a warning is logged
 * once: they then outlive a killed bot until the next start-up stops them (see orphans.ts).
 */
import { accessSync, constants } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { Logger } from '../logging/logger.js';

const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];

export interface EngineLaunch {
  file: string;
  args: string[];
  /** Whether the engine gets SIGINT by itself when the bot dies. */
  stopsWithBot: boolean;
}

let setprivPath: string | null | undefined;

/** The setpriv that supports --pdeathsig on this host, or null; looked up once per process. */
function findSetpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  if (process.platform !== 'linux') return setprivPath;
  for (const path of SETPRIV_PATHS) {
    try {
      accessSync(path, constants.X_OK);
      const help = execFileSync(path, ['--help'], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] });
      if (help.includes('--pdeathsig')) {
        setprivPath = path;
        break;
      }
    } catch {
      // Not there, or not runnable: try the next one.
    }
  }
  return setprivPath;
}

let warned = false;

/**
 * How to start `binary args`: through setpriv with a parent-death SIGINT where possible, else directly.
 * `setpriv` is the one found on this host unless given (null: none).
 */
export function engineLaunch(binary: string, args: string[], logger?: Logger, setpriv: string | null = findSetpriv()): EngineLaunch {
  if (setpriv) return { file: setpriv, args: ['--pdeathsig', 'INT', '--', binary, ...args], stopsWithBot: true };
  if (!warned) {
    warned = true;
    logger?.warn(
      { platform: process.platform },
      'setpriv with --pdeathsig is not available (install util-linux): engines will not be stopped if the bot is killed; the next start-up stops them',
    );
  }
  return { file: binary, args, stopsWithBot: false };
}
