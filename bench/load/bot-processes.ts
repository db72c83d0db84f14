/**
 * The two bots under load, as real child processes on plain node: ours as `npm start` runs it (dist/main.js,
 * built first if a source is newer), and the bare discord.js bot bundled the same way. Their CPU time is read
 * from /proc/<pid>/stat, so it is the bot's own, whatever the benchmark process does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from '../../test/support/bot-process.js';

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
  /** Resident memory now, in MiB. */
  rssMiB(): number;
  stop(): Promise<void>;
}

/** Builds dist/main.js if a source is newer, exactly as `npm start`'s prestart does. */
export function buildOurBot(): void {
  execFileSync('node', ['scripts/build.mjs', '--if-stale'], { cwd: REPO_ROOT, stdio: 'inherit' });
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
    rssMiB: () => processRssMiB(pid),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at the state, field 3; utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

export function processRssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}
