/**
 * One engine process: spawned through execa with an explicit environment, its stdout (written to a file, see
 * output-files.ts) read line by line while it runs, and stopped — when asked — the way the engines document: SIGINT first (the engine finishes the current
 * step, saves state and releases its lock), then SIGTERM, then SIGKILL, each after a grace period.
 */
import type { ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import type { Logger } from '../logging/logger.js';
import { engineLaunch, type EngineLaunch } from './death-signal.js';
import { lowerToEnginePriority } from './engine-priority.js';
import { EngineOutputFiles } from './output-files.js';
import { BoundedCollector, BoundedLineSplitter, MAX_COLLECTED_BYTES, MAX_LINE_BYTES } from './output-limits.js';
import { untilEngineTakesSigint, type ReportedEngine } from './signal-readiness.js';

export type StopReason = 'cancelled' | 'timed_out' | 'shutdown';

/** An engine process just started for a run. */
export interface SpawnedEngine {
  pid: number;
  /** Started with a parent-death SIGINT (see death-signal.ts). */
  stopsWithBot: boolean;
}

/** The default wait between SIGINT, SIGTERM and SIGKILL. */
export const DEFAULT_KILL_GRACE_MS = 10_000;

const STDERR_TAIL_CHARS = 8_000;

/**
 * Stops the processes of one run. A run runs several commands in a row (init, plan, show); once stopped, the
 * current command is stopped and no further command starts.
 */
export class RunStopper {
  #reason: StopReason | undefined;
  #current: EngineChild | undefined;

  constructor(
    private readonly killGraceMs: number,
    /** Called once, on the first stop (e.g. to leave a queue). */
    private readonly onStop?: () => void,
    /** Called each time one of the run's engine processes starts (to record it; see orphans.ts). */
    private readonly onSpawn?: (engine: SpawnedEngine) => void,
  ) {}

  get reason(): StopReason | undefined {
    return this.#reason;
  }

  /** Asks the run to stop; the first reason wins. Resolves when the current process (if any) has ended. */
  async stop(reason: StopReason): Promise<void> {
    if (this.#reason === undefined) {
      this.#reason = reason;
      this.onStop?.();
    }
    await this.#current?.terminate(this.killGraceMs);
  }

  /** @internal used by runEngineCommand */
  attach(child: EngineChild | undefined): void {
    this.#current = child;
  }

  /** @internal used by runEngineCommand, once the engine's own pid is known */
  engineStarted(engine: SpawnedEngine): void {
    this.onSpawn?.(engine);
  }
}

export interface EngineCommand {
  binary: string;
  args: string[];
  cwd: string;
  /** The complete environment: nothing of the bot's own is added (execa `extendEnv: false`). */
  env: Record<string, string>;
  stopper: RunStopper;
  /** Each stdout line as it arrives (for `-json` streams); a line over `maxLineBytes` is skipped and counted. */
  onStdoutLine?: (line: string) => void;
  /** Keep stdout in full (for `show -json` and `output -json`), up to `collectLimitBytes`. */
  collectStdout?: boolean;
  /** Default MAX_LINE_BYTES. */
  maxLineBytes?: number;
  /** Default MAX_COLLECTED_BYTES. */
  collectLimitBytes?: number;
  onSpawn?: (pid: number) => void;
  logger?: Logger;
  /** Whose run this is: the sandbox gives each guild a provider cache of its own (sandbox-view.ts). */
  guildId?: string;
}

/** How a command is started (the processes around the engine); the default is the guardian of death-signal.ts. */
export type EngineLauncher = (command: EngineCommand) => EngineLaunch;

export interface EngineCommandResult {
  exitCode: number | undefined;
  signal: string | undefined;
  /** Full stdout when `collectStdout`, else empty (also empty when it overflowed). */
  stdout: string;
  /** `collectStdout` only: the engine printed more than `collectLimitBytes`, so nothing was kept. */
  stdoutOverflowed: boolean;
  /** Stdout lines skipped because they were longer than `maxLineBytes`. */
  overlongLines: number;
  /** The last few KB of stderr, for errors the engine does not report as diagnostics. */
  stderrTail: string;
  /** Set when the run was stopped (before or during this command). */
  stoppedBy: StopReason | undefined;
  pid: number | undefined;
}

/** Runs one engine command to its end (or until stopped). Never rejects for a non-zero exit. */
export async function runEngineCommand(command: EngineCommand, launcher: EngineLauncher = (c) => engineLaunch(c, c.logger)): Promise<EngineCommandResult> {
  const { stopper } = command;
  if (stopper.reason) {
    return { exitCode: undefined, signal: undefined, stdout: '', stdoutOverflowed: false, overlongLines: 0, stderrTail: '', stoppedBy: stopper.reason, pid: undefined };
  }

  // Read as bytes and bounded (see output-limits.ts): never a whole line or a whole output of unknown size.
  const collector = command.collectStdout ? new BoundedCollector(command.collectLimitBytes ?? MAX_COLLECTED_BYTES) : undefined;
  const onLine = command.onStdoutLine;
  const splitter = onLine
    ? new BoundedLineSplitter((line) => {
        try {
          onLine(line);
        } catch (error) {
          command.logger?.error({ err: error }, 'engine output handler threw; line skipped');
        }
      }, command.maxLineBytes ?? MAX_LINE_BYTES)
    : undefined;
  let stderrTail = '';
  // Before anything is opened: a launcher may refuse the command (a path the sandbox cannot show the engine).
  const launch = launcher(command);
  // Files, not pipes: the engine must be able to go on writing (and stop gracefully) if the bot dies.
  const output = new EngineOutputFiles(command.cwd, {
    onStdout: (chunk) => {
      collector?.push(chunk);
      splitter?.push(chunk);
    },
    onStdoutEnd: () => splitter?.end(),
    onStderr: (text) => {
      stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS);
    },
  });
  const spawn = () =>
    execa(launch.file, launch.args, {
      cwd: command.cwd,
      env: command.env,
      extendEnv: false,
      // 0 nothing, 1 and 2 the output files, 3 (guardian only) where the guardian writes the engine's pid.
      stdio: ['ignore', descriptor(output.stdoutFd), descriptor(output.stderrFd), launch.reportsEnginePid ? 'pipe' : 'ignore'],
      buffer: false,
      reject: false,
      // Our own process group: a Ctrl-C at the bot's terminal must not reach the engine as well, or our graceful
      // SIGINT would be its second one, which makes it abort hard and leave the state locked. It also lets the
      // last resort (SIGKILL) reach the provider plugins the engine started.
      detached: true,
      cleanup: false,
      forceKillAfterDelay: false,
    });
  let subprocess: ReturnType<typeof spawn>;
  try {
    subprocess = spawn();
  } catch (error) {
    output.close();
    throw error;
  }
  const child = new EngineChild(subprocess, command.logger);
  stopper.attach(child);
  if (subprocess.pid !== undefined) command.onSpawn?.(subprocess.pid);
  // The escalation signals the process group, which holds the guardian and the engine; what is recorded for the
  // next start-up is the engine itself, which outlives the guardian if the bot dies.
  if (!launch.reportsEnginePid) {
    if (subprocess.pid !== undefined) {
      // Started directly, so there was no chain to put `nice` in (engine-priority.ts).
      lowerToEnginePriority(subprocess.pid);
      stopper.engineStarted({ pid: subprocess.pid, stopsWithBot: launch.stopsWithBot });
    }
    child.engineReported();
  } else {
    readEnginePid(subprocess.stdio[3]).then(
      (reported) => {
        if (reported !== undefined) stopper.engineStarted({ pid: reported.pid, stopsWithBot: true });
        else command.logger?.warn({ guardianPid: subprocess.pid }, 'the engine guardian did not report the engine pid');
        child.engineReported(reported);
      },
      () => child.engineReported(),
    );
  }
  const stdoutDone = output.follow(subprocess);

  // A stop that arrived while we were spawning.
  if (stopper.reason) void child.terminate(0);

  const result = await subprocess;
  await stdoutDone;
  child.markExited();
  stopper.attach(undefined);
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: collector?.text() ?? '',
    stdoutOverflowed: collector?.overflowed ?? false,
    overlongLines: splitter?.overlong ?? 0,
    stderrTail,
    stoppedBy: stopper.reason,
    pid: subprocess.pid,
  };
}

/**
 * What is written on descriptor 3: the engine's pid as a line (the guardian), or bubblewrap's `--info-fd` JSON whose
 * `child-pid` is the sandboxed engine's pid as this host sees it.
 */
function readEnginePid(stream: NodeJS.ReadableStream | null | undefined): Promise<ReportedEngine | undefined> {
  if (!stream) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
    });
    stream.on('error', () => resolve(undefined));
    stream.on('close', () => {
      const pid = parseEnginePid(text);
      // bubblewrap's JSON names its own child: the keeper, whose child the engine is (sandbox-launch.ts).
      resolve(Number.isSafeInteger(pid) && pid > 1 ? { pid, viaKeeper: text.trim().startsWith('{') } : undefined);
    });
  });
}

function parseEnginePid(text: string): number {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return Number(trimmed);
  try {
    const info: unknown = JSON.parse(trimmed);
    const pid = typeof info === 'object' && info !== null ? (info as Record<string, unknown>)['child-pid'] : undefined;
    return typeof pid === 'number' ? pid : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * A file descriptor as an execa stdio value. execa hands any descriptor to child_process.spawn unchanged, but its
 * types list only 3 to 9.
 */
function descriptor(fd: number): 3 {
  return fd as 3;
}

/** A running engine process and its escalation from SIGINT to SIGKILL. */
class EngineChild {
  #exited = false;
  #exitWaiters: Array<() => void> = [];
  #terminating: Promise<void> | undefined;
  #reported = false;
  #engine: ReportedEngine | undefined;
  #reportWaiters: Array<() => void> = [];

  constructor(
    private readonly subprocess: Pick<ChildProcess, 'pid' | 'once'>,
    private readonly logger?: Logger,
  ) {
    subprocess.once('exit', () => this.markExited());
  }

  markExited(): void {
    if (this.#exited) return;
    this.#exited = true;
    for (const wake of this.#exitWaiters.splice(0)) wake();
    this.engineReported();
  }

  /**
   * The chain has reported the engine's pid (or never will). Until then the engine may not exist yet (the sandbox is
   * still being set up) and a signal would reach only the chain, which ignores it: the first one waits for this.
   */
  engineReported(engine?: ReportedEngine): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#engine = engine;
    for (const wake of this.#reportWaiters.splice(0)) wake();
  }

  /** SIGINT, then SIGTERM after `graceMs`, then SIGKILL after another `graceMs`; resolves once the process is gone. */
  terminate(graceMs: number): Promise<void> {
    this.#terminating ??= this.#escalate(graceMs);
    return this.#terminating;
  }

  async #escalate(graceMs: number): Promise<void> {
    await this.#reportedWithin(graceMs);
    // Reported is not yet ready: the engine may still be starting with SIGINT ignored (signal-readiness.ts).
    if (this.#engine && !this.#exited) await untilEngineTakesSigint(this.#engine, graceMs);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      if (this.#exited) return;
      this.#signal(signal);
      if (await this.#exitWithin(graceMs)) return;
      this.logger?.warn({ pid: this.subprocess.pid, signal }, 'engine did not stop in time; escalating');
    }
    if (this.#exited) return;
    this.#signal('SIGKILL');
    await this.#exitWithin(Number.POSITIVE_INFINITY);
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.subprocess.pid;
    if (pid === undefined) return;
    try {
      // The whole group (see `detached` above); SIGINT to the group is what a terminal's Ctrl-C would do.
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    }
  }

  #reportedWithin(ms: number): Promise<void> {
    if (this.#reported) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#reportWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #exitWithin(ms: number): Promise<boolean> {
    if (this.#exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => resolve(this.#exited), ms) : undefined;
      this.#exitWaiters.push(() => {
        if (timer) clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
