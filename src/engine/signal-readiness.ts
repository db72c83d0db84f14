/**
 * When a SIGINT sent now would reach the engine. The engine is started as a background job of a shell (death-signal.ts,
 * sandbox-launch.ts), and a shell starts those with SIGINT ignored; `env --default-signal` restores it just before the
 * engine itself starts. A cancel sent in between (a few milliseconds, longer while bubblewrap sets the sandbox up)
 * would be dropped by the kernel and the run would go on as if nobody had asked: so the first SIGINT waits until the
 * engine's process no longer ignores it. From then on it either ends the engine (no handler yet) or is handled.
 *
 * Linux only (it reads /proc); elsewhere there is no chain and nothing to wait for.
 */
import { readFile, readdir } from 'node:fs/promises';

/** The pid the launch chain reported: the engine itself, or the sandbox's keeper, whose only child is the engine. */
export interface ReportedEngine {
  pid: number;
  /** The pid is the sandbox keeper's (bubblewrap's `child-pid`), not the engine's. */
  viaKeeper: boolean;
}

const SIGINT_BIT = 1 << 1; // bit (signal number − 1) of /proc/<pid>/status's SigIgn mask
const POLL_MS = 2;

/** Resolves once a SIGINT would reach the engine, the engine is gone, or `withinMs` has passed. */
export async function untilEngineTakesSigint(reported: ReportedEngine, withinMs: number): Promise<void> {
  if (process.platform !== 'linux') return;
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const engine = reported.viaKeeper ? await onlyChildOf(reported.pid) : reported.pid;
    if (engine === 'gone') return;
    if (engine !== undefined) {
      const ignored = await ignoredSignals(engine);
      if (ignored === undefined || (ignored & SIGINT_BIT) === 0) return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The low 32 bits of the SigIgn mask, or undefined when the process is gone. */
async function ignoredSignals(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const mask = status?.match(/^SigIgn:\s*([0-9a-f]+)$/m)?.[1];
  return mask === undefined ? undefined : Number.parseInt(mask.slice(-8), 16);
}

/** The keeper's child: undefined while it has none yet, 'gone' once the keeper itself has ended. */
async function onlyChildOf(pid: number): Promise<number | 'gone' | undefined> {
  const listed = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => null);
  if (listed === null) {
    const alive = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (alive === null) return 'gone';
    return childByParentScan(pid);
  }
  const first = listed.trim().split(/\s+/)[0];
  return first ? Number(first) : undefined;
}

/** Kernels built without /proc/<pid>/task/<tid>/children: look for the process whose parent is `pid`. */
async function childByParentScan(pid: number): Promise<number | undefined> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the command name, which is in parentheses and may itself hold spaces: state, then the parent pid.
    const parent = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    if (Number(parent) === pid) return Number(entry);
  }
  return undefined;
}
