/**
 * Telling a process apart from a later one that got the same pid: its start time (field 22 of /proc/<pid>/stat,
 * clock ticks since boot) and the boot id. Linux only; elsewhere nothing can be verified and callers must not
 * signal a pid they cannot prove is theirs.
 */
import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  startTicks: number;
  bootId: string;
}

/** Fields of /proc/<pid>/stat: state (3), process group (5), start time (22); undefined when there is no such process. */
function readStat(pid: number): { state: string; group: number; startTicks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 is the command name in parentheses and may itself hold spaces or parentheses: count from the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const group = Number(fields[5 - 3]);
  const startTicks = Number(fields[22 - 3]);
  if (!state || !Number.isSafeInteger(startTicks) || !Number.isSafeInteger(group)) return undefined;
  return { state, group, startTicks };
}

let cachedBootId: string | null | undefined;

/** The kernel's boot id (it changes at every boot); null where there is no /proc. */
export function currentBootId(): string | null {
  if (cachedBootId !== undefined) return cachedBootId;
  try {
    cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    cachedBootId = null;
  }
  return cachedBootId;
}

/** Who `pid` is now, or undefined when it does not exist (or cannot be read). */
export function identify(pid: number): ProcessIdentity | undefined {
  const bootId = currentBootId();
  const stat = readStat(pid);
  if (!bootId || !stat) return undefined;
  return { startTicks: stat.startTicks, bootId };
}

/**
 * Whether the process recorded as (pid, identity) is still running: same pid, same start time, same boot, and
 * not a zombie (a dead process whose parent has not collected it yet is as good as gone).
 */
export function isStillRunning(pid: number, recorded: ProcessIdentity): boolean {
  if (currentBootId() !== recorded.bootId) return false;
  const stat = readStat(pid);
  return stat !== undefined && stat.startTicks === recorded.startTicks && stat.state !== 'Z' && stat.state !== 'X';
}

/** The process group of `pid` (for an engine: the group its guardian led, which holds its provider plugins too). */
export function processGroupOf(pid: number): number | undefined {
  return readStat(pid)?.group;
}
