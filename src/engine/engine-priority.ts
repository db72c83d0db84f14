/**
 * Engines run at a lower CPU priority than the bot (issue 13). A plan or apply can keep a core busy for minutes
 * (the engine, its providers, a module's provisioners); the bot must still acknowledge every interaction within
 * Discord's 3 seconds, so on a busy host the scheduler gives the bot's threads the CPU first.
 *
 * The engine is started through `nice` (coreutils) wherever it is started through a chain of programs, so that
 * every process of the chain after it, the engine and the providers it starts inherit the lower priority from
 * their first instruction. An engine started directly gets it from `setpriority` right after it is spawned.
 */
import { execFileSync } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';

/** How many steps below the bot's own priority engines run (nice increment: 19 is the lowest priority). */
export const ENGINE_NICE_INCREMENT = 10;
const LOWEST_PRIORITY = 19;

const NICE_PATHS = ['/usr/bin/nice', '/bin/nice'];

let nice: string | null | undefined;

/** coreutils `nice`, tried once per process with a harmless command; null where there is none. */
export function findNice(): string | null {
  if (nice !== undefined) return nice;
  nice = null;
  if (process.platform === 'win32') return nice;
  for (const candidate of NICE_PATHS) {
    try {
      execFileSync(candidate, ['-n', String(ENGINE_NICE_INCREMENT), '/bin/sh', '-c', 'true'], { timeout: 30_000, stdio: 'ignore' });
      nice = candidate;
      return nice;
    } catch {
      // Not there: try the next one.
    }
  }
  return nice;
}

/** `argv` started at the engines' priority, through `nice` when there is one. */
export function atEnginePriority(argv: readonly string[], niceBinary: string | null = findNice()): string[] {
  return niceBinary ? [niceBinary, '-n', String(ENGINE_NICE_INCREMENT), ...argv] : [...argv];
}

/** Lowers the priority of a process that was started directly (no chain to put `nice` in). Best effort. */
export function lowerToEnginePriority(pid: number): void {
  try {
    setPriority(pid, Math.min(LOWEST_PRIORITY, getPriority() + ENGINE_NICE_INCREMENT));
  } catch {
    // Already gone, or not permitted here: the engine runs at the bot's priority.
  }
}
