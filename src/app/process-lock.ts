/**
 * One bot process per database. Two processes on one DATABASE_PATH would undo each other's work: each one's
 * start-up settles the runs the other is running (marks them interrupted, stops their engines). So a process
 * holds a lock for its whole life: the companion SQLite file `${DATABASE_PATH}.lock`, opened in exclusive
 * locking mode with a write made and the lock never released. The operating system drops the lock when the process
 * ends in any way, kill -9 included, so a crashed bot never blocks the next start.
 *
 * Sharded (src/discord/shard-manager.ts), the ShardingManager holds this lock for its whole life, so neither a single-process bot
 * nor a second manager can start on the database; each shard it runs holds a lock of its own,
 * `${DATABASE_PATH}.shard-<id>.lock`, so a shard left running (its manager killed with -9) and the new manager's
 * shard of the same id never serve the same guilds at once. Each shard settles at start-up only its own guilds' runs.
 *
 * The holder writes its pid, host and start time into the file, so a refused process can name it: the file's bytes
 * stay readable even while it is locked, and are read as an in-memory copy without asking for a lock.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { ShardScope } from '../sharding/shard-scope.js';

const lockHolderSchema = z.object({ pid: z.number().int().positive(), host: z.string().max(255), since: z.number().int().nonnegative() });
export type LockHolder = z.infer<typeof lockHolderSchema>;

/** Another process holds the database. Its message says who and what to do; nothing was changed. */
export class DatabaseInUse extends Error {
  constructor(
    readonly databasePath: string,
    readonly holder: LockHolder | undefined,
    readonly shard?: ShardScope,
    /** The setting that names the database: a SQLite file, or a PostgreSQL server. */
    setting: 'DATABASE_PATH' | 'DATABASE_URL' = 'DATABASE_PATH',
  ) {
    const who = holder
      ? `process ${holder.pid} on host "${holder.host}", running since ${new Date(holder.since).toISOString()}`
      : `another process (it did not say which; ${setting === 'DATABASE_PATH' ? '`fuser` on the lock file' : "the server's pg_stat_activity"} names it)`;
    super(
      `the database ${databasePath}${shard ? ` (its shard ${shard.id})` : ''} is already in use by ${who}.\n` +
        'Two bots on one database would stop and mark as interrupted each other’s runs, so this one stops here without changing anything.\n' +
        `Stop the other process first${holder ? ` (on "${holder.host}": kill ${holder.pid})` : ''}, or give this one another ${setting}.`,
    );
    this.name = 'DatabaseInUse';
  }
}

export interface ProcessLock {
  /** Releases the lock (at shutdown; a process that dies releases it anyway). */
  release(): void;
}

/** The lock of the whole database, or of one shard's guilds in it. */
export function lockPathFor(databasePath: string, shard?: ShardScope): string {
  return shard ? `${resolve(databasePath)}.shard-${shard.id}.lock` : `${resolve(databasePath)}.lock`;
}

/**
 * Takes the database's process lock, or throws DatabaseInUse naming the holder. An in-memory database has no
 * other process to fear and gets a lock that does nothing.
 */
export function acquireProcessLock(databasePath: string, now: number, shard?: ShardScope): ProcessLock {
  if (databasePath === ':memory:') return { release: () => {} };
  const path = lockPathFor(databasePath, shard);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const lock = new Database(path, { timeout: 0 });
  try {
    // Exclusive locking mode: once this connection has written, it keeps the file locked until it is closed.
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if (isBusy(error)) throw new DatabaseInUse(databasePath, readHolder(path), shard);
    if ((error as { code?: unknown } | null)?.code === 'SQLITE_NOTADB') {
      throw new Error(`${path} is not a lock file this bot wrote (it is not an SQLite file). Make sure no bot is running on ${databasePath}, then remove it.`);
    }
    throw error;
  }
  lock.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, host TEXT NOT NULL, since INTEGER NOT NULL)');
  lock.exec('DELETE FROM holder');
  lock.prepare('INSERT INTO holder (pid, host, since) VALUES (?, ?, ?)').run(process.pid, hostname(), now);
  lock.exec('COMMIT');
  return {
    release: () => {
      if (lock.open) lock.close();
    },
  };
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** The holder recorded in the lock file, read from a copy of its bytes (no lock needed); undefined if unreadable. */
function readHolder(path: string): LockHolder | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const copy = new Database(readFileSync(path));
    try {
      const parsed = lockHolderSchema.safeParse(copy.prepare('SELECT pid, host, since FROM holder LIMIT 1').get());
      return parsed.success ? parsed.data : undefined;
    } finally {
      copy.close();
    }
  } catch {
    return undefined;
  }
}
