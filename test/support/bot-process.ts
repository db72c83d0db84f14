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
  /** The bot's process id. */
  readonly pid: number;
  /** Sends `signal` (e.g. SIGKILL, as a crash or the OOM killer would) and resolves once the process has ended. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Resolves with the exit code once the process ends by itself. */
  exited(): Promise<number | undefined>;
}

/**
 * Starts the bot exactly as `npm start` does (tsx src/main.ts) in a child process, with only the environment given
 * (plus PATH and HOME), so the test controls every setting.
 */
export function startBot(env: Record<string, string>, args: string[] = []): BotProcess {
  let output = '';
  let stoppedAfterMs = 0;
  const child: ResultPromise = execa('node', ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...STAND_IN_SANDBOX_ENV, ...env },
    extendEnv: false,
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
