/**
 * The loaded mode: other processes competing for the CPU while the bots serve. Two stand in for engines (terraform
 * plans are CPU-bound for seconds) 10 steps of nice below the bot, the priority the bot gives its engines; one at
 * the bot's own priority stands in for everything else on a shared machine (a compiler, a test suite). Each hashes in a loop, and ends by
 * itself after `maxMs` should the benchmark die without stopping it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { killOnExit } from './bot-processes.js';

export interface CpuHogs {
  /** What runs, for the report. */
  readonly description: string;
  stop(): Promise<void>;
}

const HOG = (maxMs: number) =>
  `const { createHash } = require('node:crypto'); const block = Buffer.alloc(1 << 16, 7); const end = Date.now() + ${maxMs};` +
  'while (Date.now() < end) { for (let i = 0; i < 64; i++) createHash("sha256").update(block).digest(); }';

export function startCpuHogs(maxMs: number): CpuHogs {
  const hogs: ChildProcess[] = [
    spawn('nice', ['-n', '10', 'node', '-e', HOG(maxMs)], { stdio: 'ignore' }),
    spawn('nice', ['-n', '10', 'node', '-e', HOG(maxMs)], { stdio: 'ignore' }),
    spawn('node', ['-e', HOG(maxMs)], { stdio: 'ignore' }),
  ];
  for (const hog of hogs) killOnExit(hog);
  return {
    description: "2 engine-like busy processes at the bot's priority + 10 (nice) and 1 at the bot's own priority (SHA-256 in a loop)",
    async stop() {
      await Promise.all(
        hogs.map(
          (hog) =>
            new Promise<void>((resolve) => {
              if (hog.exitCode !== null || hog.signalCode !== null) return resolve();
              hog.once('exit', () => resolve());
              hog.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}
