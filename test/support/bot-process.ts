import { execa, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { STAND_IN_SANDBOX_ENV } from './sandbox-env.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FAKE_ENGINE_BIN = resolve(REPO_ROOT, 'test/fake-engine/bin');

export interface BotProcess {
  /** Everything the bot wrote to stdout and stderr so far (pino JSON lines). */
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stoppedAfterMs(): number;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | undefined>;
  /** The process started: the bot's (npm's with `via: 'npm-start'`, the bot being its child). */
  readonly pid: number;
  /** Sends `signal` (e.g. SIGKILL, as a crash or the OOM killer would) and resolves once the process has ended. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Resolves with the exit code once the process ends by itself. */
  exited(): Promise<number | undefined>;
  /**
   * Sends `signal` to the bot's whole process group, as a process manager or a terminal's Ctrl-C does (only for a
   * bot started with `via: 'npm-start'`, which gets a group of its own).
   */
  signalGroup(signal: NodeJS.Signals): void;
}

export interface StartBotOptions {
  /**
   * `sources` (default): node running src/main.ts through tsx, so a test runs the code as it is now.
   * `npm-start`: the command an operator types, `npm start` (which builds dist/ if a source is newer), in a process
   * group of its own: npm stays in between, as it does in production.
   */
  via?: 'sources' | 'npm-start';
}

/**
 * Starts the bot in a child process (src/main.ts, the code `npm start` bundles and runs), with only the environment
 * given (plus PATH and HOME), so the test controls every setting.
 */
export function startBot(env: Record<string, string>, args: string[] = [], options: StartBotOptions = {}): BotProcess {
  let output = '';
  let stoppedAfterMs = 0;
  const viaNpm = options.via === 'npm-start';
  const [file, argv] = viaNpm ? ['npm', ['start', '--', ...args]] : ['node', ['--import', 'tsx', 'src/main.ts', ...args]];
  const child: ResultPromise = execa(file, argv, {
    cwd: REPO_ROOT,
    // npm would otherwise ask the registry whether it is out of date, and say so on stderr.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...STAND_IN_SANDBOX_ENV, ...(viaNpm ? { npm_config_update_notifier: 'false' } : {}), ...env },
    extendEnv: false,
    detached: viaNpm,
    reject: false,
    all: true,
    buffer: false,
    // Shutdown is graceful (runs get SIGINT and time to stop); don't SIGKILL it after execa's default 5 s.
    forceKillAfterDelay: 30_000,
  });
  const waiters = new Set<() => void>();
  child.all?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const wake of waiters) wake();
  });

  return {
    pid: child.pid as number,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await child;
    },
    exited: async () => (await child).exitCode,
    signalGroup(signal) {
      if (!viaNpm) throw new Error('signalGroup needs a bot started with via: npm-start (its own process group)');
      process.kill(-(child.pid as number), signal);
    },
    output: () => output,
    stoppedAfterMs: () => stoppedAfterMs,
    waitForOutput(pattern, timeoutMs = 20_000) {
      return new Promise<void>((resolvePromise, rejectPromise) => {
        const check = () => {
          if (pattern.test(output)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolvePromise();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          rejectPromise(new Error(`bot output never matched ${pattern}; output so far:\n${output.slice(-4000)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const started = Date.now();
      const result = await child;
      stoppedAfterMs = Date.now() - started;
      return result.exitCode;
    },
  };
}
