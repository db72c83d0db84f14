/**
 * WAL checkpoints on a worker thread. A checkpoint copies the WAL's pages into the database file and fsyncs it; run
 * by whichever commit crosses SQLite's auto-checkpoint threshold, it held the bot's one thread for 560 ms once in
 * the janitor benchmark (32 ms of it CPU, the rest waiting for the disk). The worker has its own connection and runs
 * `PRAGMA wal_checkpoint(PASSIVE)`, which never waits for a lock and never blocks the bot's connection, so the
 * waiting happens off the event loop. The bot's own auto-checkpoint stays on as the fallback should the worker die.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { DatabaseHandle } from './index.js';

/** SQLite's default is 1,000 pages (4 MiB): a long revocation writes that much between two of ours. */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;
/**
 * Ordinary traffic (audit entries of refused commands, run records) is checkpointed this often too, so the WAL never
 * reaches the fallback threshold: there SQLite copied 40 MiB and fsynced on the event loop, stalls of 0.3–0.9 s under
 * load in the interactions benchmark. With nothing new in the WAL, a passive checkpoint does nothing.
 */
export const PERIODIC_CHECKPOINT_MS = 1_000;

/** What SQLite says a checkpoint did: frames in the WAL, frames copied into the file, whether a lock stopped it. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

const resultSchema = z.union([
  z.object({ ok: z.literal(true), result: z.object({ busy: z.number(), log: z.number(), checkpointed: z.number() }) }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

/**
 * Plain CommonJS so it runs the same under tsx and as compiled JavaScript, with no file of its own to find. One
 * message in, one answer out: the worker checkpoints one request at a time.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
parentPort.on('message', () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, result });
  } catch (error) {
    parentPort.postMessage({ ok: false, error: String(error && error.message || error) });
  }
});
`;

export class WalCheckpointer {
  readonly #worker: Worker;
  /** Answers owed, oldest first: the worker answers in order. */
  readonly #waiting: Array<{ resolve: (result: CheckpointResult) => void; reject: (error: Error) => void }> = [];
  /** Where the next checkpoint queues: after the one under way. */
  #tail: Promise<unknown> = Promise.resolve();
  /** A checkpoint queued but not started yet, which a new caller can share: it will see that caller's commits. */
  #queued: Promise<CheckpointResult> | undefined;
  #failed: Error | undefined;
  #periodic: NodeJS.Timeout | undefined;

  private constructor(path: string) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: resolve(path), driver } });
    // Never keeps the process alive on its own: shutdown closes it, and a crash must not wait for it.
    this.#worker.unref();
    this.#worker.on('message', (message: unknown) => this.#settle(message));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the checkpoint worker exited (code ${code})`)));
  }

  /**
   * A checkpointer for the database file at `path`; undefined for an in-memory database, which has no WAL.
   * The connection's own auto-checkpoint threshold is raised so that it only acts should this one fall behind.
   */
  static start(path: string, connection?: Pick<DatabaseHandle, 'sqlite'>, options: { everyMs?: number } = {}): WalCheckpointer | undefined {
    if (path === ':memory:') return undefined;
    const checkpointer = new WalCheckpointer(path);
    connection?.sqlite.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    checkpointer.#startPeriodic(options.everyMs ?? PERIODIC_CHECKPOINT_MS);
    return checkpointer;
  }

  #startPeriodic(everyMs: number): void {
    this.#periodic = setInterval(() => {
      // A failed worker stays failed: the connection's own auto-checkpoint has taken over.
      if (this.#failed) return clearInterval(this.#periodic);
      this.checkpoint().catch(() => undefined);
    }, everyMs);
    this.#periodic.unref();
  }

  /**
   * Runs a passive checkpoint that sees every commit made before this call. While one is under way, callers
   * share the one queued after it (the running one may have started before their commits).
   * Rejects when the worker is gone; the bot's own auto-checkpoint then takes over.
   */
  checkpoint(): Promise<CheckpointResult> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#queued) return this.#queued;
    const queued: Promise<CheckpointResult> = this.#tail.then(() => {
      if (this.#queued === queued) this.#queued = undefined;
      return this.#send();
    });
    this.#queued = queued;
    this.#tail = queued.catch(() => undefined);
    return queued;
  }

  /** Stops the worker and closes its connection. */
  async close(): Promise<void> {
    clearInterval(this.#periodic);
    this.#failed ??= new Error('the checkpoint worker was closed');
    await this.#worker.terminate();
  }

  #send(): Promise<CheckpointResult> {
    if (this.#failed) return Promise.reject(this.#failed);
    const answer = new Promise<CheckpointResult>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    this.#worker.postMessage('checkpoint');
    return answer;
  }

  #settle(message: unknown): void {
    const waiter = this.#waiting.shift();
    if (!waiter) return;
    const parsed = resultSchema.safeParse(message);
    if (!parsed.success) waiter.reject(new Error('the checkpoint worker gave an unexpected answer'));
    else if (parsed.data.ok) waiter.resolve(parsed.data.result);
    else waiter.reject(new Error(`WAL checkpoint failed: ${parsed.data.error}`));
  }

  #fail(error: Error): void {
    this.#failed ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(this.#failed);
  }
}
