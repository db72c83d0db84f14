/**
 * The process lock on PostgreSQL (issue 16). On SQLite a lock file keeps a second bot off the database
 * (src/app/process-lock.ts says why: each one's start-up settles the runs the other is running). On PostgreSQL the
 * same rule is kept with session advisory locks, held on a connection of their own for the process's whole life; the
 * server drops them when that connection ends in any way (the process killed with -9, its machine lost), so a crashed
 * bot never blocks the next start.
 *
 * - One process serving every guild takes the bot's lock exclusively: nothing else may run on the database.
 * - A shard (src/discord/shard-manager.ts) takes the bot's lock shared, so shards on any number of machines run side
 *   by side while a single-process bot cannot start among them, and its own shard's lock exclusively, so a shard left
 *   running and a new one of the same id never serve the same guilds at once.
 *
 * The holder is named as on SQLite: the connection's application_name carries the process's pid, host and start time,
 * and a refused process reads it from pg_stat_activity beside the lock in pg_locks.
 */
import { hostname } from 'node:os';
import type pg from 'pg';
import { DatabaseInUse, type LockHolder, type ProcessLock } from '../app/process-lock.js';
import type { ShardScope } from '../sharding/shard-scope.js';
import { describeDatabaseUrl } from './postgres.js';

/** The advisory locks' first key: any constant of the bot's own ("lock"). */
const PROCESS_LOCK_CLASS = 0x6c_6f_63_6b;
/** The second key of the whole bot's lock: above every shard id Discord hands out. */
const WHOLE_BOT = 2_147_483_647;

const APPLICATION_NAME = /^chatops (\d+) (\d+) (.*)$/;

/** Fits PostgreSQL's 63 bytes: pid, start time, then as much of the host as fits. */
export function holderApplicationName(holder: LockHolder): string {
  return `chatops ${holder.pid} ${holder.since} ${holder.host}`.slice(0, 63);
}

export function parseHolderApplicationName(name: string): LockHolder | undefined {
  const match = APPLICATION_NAME.exec(name);
  if (!match) return undefined;
  return { pid: Number(match[1]), since: Number(match[2]), host: match[3] ?? '' };
}

export interface PostgresLockOptions {
  url: string;
  pool: pg.Pool;
  now: number;
  shard?: ShardScope;
  /** Called when the lock's connection is lost (the server restarted): this process no longer holds the lock. */
  onLost?: (error: Error) => void;
}

/** Takes the lock for this process (or its shard), or throws DatabaseInUse naming the holder; nothing is changed. */
export async function acquirePostgresProcessLock({ url, pool, now, shard, onLost }: PostgresLockOptions): Promise<ProcessLock> {
  const client = await pool.connect();
  let released = false;
  const lost = (error: Error) => {
    if (!released) onLost?.(error);
  };
  try {
    // A parameter, not SQL text: the host name is the machine's to choose.
    await client.query("SELECT set_config('application_name', $1, false)", [holderApplicationName({ pid: process.pid, host: hostname(), since: now })]);
    const keys: Array<{ id: number; shared: boolean }> = shard ? [{ id: WHOLE_BOT, shared: true }, { id: shard.id, shared: false }] : [{ id: WHOLE_BOT, shared: false }];
    for (const { id, shared } of keys) {
      const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock${shared ? '_shared' : ''}($1, $2) AS locked`, [PROCESS_LOCK_CLASS, id]);
      if (rows[0]?.locked !== true) {
        // Whoever holds it exclusively (a single-process bot, the shard of this id), else any shard (for WHOLE_BOT).
        throw new DatabaseInUse(describeDatabaseUrl(url), await holderOf(client, id), shard, 'DATABASE_URL');
      }
    }
  } catch (error) {
    // The connection is closed, not pooled: any lock it took goes with it.
    client.release(true);
    throw error;
  }
  client.on('error', lost);
  return {
    release: () => {
      if (released) return;
      released = true;
      client.off('error', lost);
      client.release(true);
    },
  };
}

async function holderOf(client: pg.PoolClient, id: number): Promise<LockHolder | undefined> {
  const { rows } = await client.query<{ application_name: string }>(
    `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 2 AND l.granted AND a.pid <> pg_backend_pid()
      ORDER BY l.mode = 'ExclusiveLock' DESC LIMIT 1`,
    [PROCESS_LOCK_CLASS, id],
  );
  return rows[0] ? parseHolderApplicationName(rows[0].application_name) : undefined;
}
