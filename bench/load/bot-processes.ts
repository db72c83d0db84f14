/**
 * The two bots under load, as real child processes on plain node: ours as `npm start` runs it (dist/main.js,
 * built first if a source is newer), and the bare discord.js bot bundled the same way. Their CPU time is read
 * from /proc/<pid>/stat, so it is the bot's own, whatever the benchmark process does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import { execa } from 'execa';
import { REPO_ROOT } from '../../test/support/bot-process.js';

/**
 * What `npm start` gives node before the bundle (package.json's `start` script: V8's young generation sized for a
 * bot's many short-lived objects), so a benchmark runs the bot exactly as it is started.
 */
export const START_NODE_ARGS: readonly string[] = (() => {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const match = /\bnode((?: --\S+)*) dist\/main\.js\b/.exec(scripts.start ?? '');
  if (!match) throw new Error(`package.json's start script no longer runs node … dist/main.js: ${scripts.start}`);
  return (match[1] ?? '').split(' ').filter(Boolean);
})();

/** Linux's USER_HZ: /proc reports CPU time in ticks of 10 ms. */
const TICKS_PER_SECOND = 100;

/** Every child a benchmark started and has not stopped: killed if the benchmark exits first (an error, Ctrl-C). */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Kills `child` when this process exits, unless it has ended by then. */
export function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

export interface RunningBot {
  readonly name: string;
  readonly pid: number;
  /** CPU time (user + system) the bot has used so far, in ms. */
  cpuMs(): number;
  /** Of that, its main thread's (the event loop's): the rest is V8's compiler and GC helpers, workers and libuv's pool. */
  mainThreadCpuMs(): number;
  /** Resident memory now, in MiB. */
  rssMiB(): number;
  stop(): Promise<void>;
}

/** Builds dist/main.js if a source is newer, exactly as `npm start`'s prestart does. */
export function buildOurBot(): void {
  execFileSync('node', ['scripts/build.mjs', '--if-stale'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

/**
 * Registers the bot's commands at the local Discord server, as `npm run register` does. Asynchronously: the server
 * answering the registration runs in this process.
 */
export async function registerCommands(discord: { DISCORD_TOKEN: string; DISCORD_APPLICATION_ID: string; DISCORD_API_URL: string }): Promise<void> {
  await execa('node', ['--import', 'tsx', 'src/discord/register.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...discord },
    extendEnv: false,
  });
}

/** Bundles bench/bare-bot.ts into `dir` the way scripts/build.mjs bundles ours; returns the file. */
export async function buildBareBot(dir: string): Promise<string> {
  const outfile = join(dir, 'bare-bot.js');
  await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: ['bench/bare-bot.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.12',
    external: ['zlib-sync', 'bufferutil', 'utf-8-validate'],
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}

/** Starts `node [nodeArgs] <script>` with only `env` (plus PATH and HOME); its output goes to `logFile`. */
export function startBotProcess(name: string, script: string, env: Record<string, string>, logFile: string, nodeArgs: string[] = []): RunningBot {
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn('node', [...nodeArgs, script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  killOnExit(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    pid,
    cpuMs: () => processCpuMs(pid),
    mainThreadCpuMs: () => processCpuMs(pid, pid),
    rssMiB: () => processRssMiB(pid),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** The process's CPU time in ms, or only its thread `thread`'s (the main thread's id is the process's). */
export function processCpuMs(pid: number, thread?: number): number {
  const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at the state, field 3; utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

export function processRssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** The processes `pid` started (a sharding manager's shards), from /proc; none once it has exited. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU time (ms) of `pid` and of each process it started, by pid; a process gone meanwhile is left out. */
export function processTreeCpuMs(pid: number): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const id of [pid, ...childPids(pid)]) {
    try {
      cpu.set(id, processCpuMs(id));
    } catch {
      // exited between the listing and the read
    }
  }
  return cpu;
}

/**
 * Waits until `cpuMs` (a bot's CPU time so far) has grown by (nearly) nothing for a quarter of a second: what
 * follows an acknowledgement (a deferred reply's edit, a backlog's tail) is done, so it is neither cut off nor
 * counted in the next phase.
 */
export async function untilIdle(cpuMs: () => number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = cpuMs();
  while (Date.now() < deadline) {
    await sleep(250);
    const now = cpuMs();
    if (now - last <= 10) return;
    last = now;
  }
}
