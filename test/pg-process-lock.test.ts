/**
 * The process lock on PostgreSQL (issue 16): one bot serving every guild, or shards side by side (one per id), on
 * one database; the holder named when refused; a lock that dies with its connection.
 */
import { hostname } from 'node:os';
import pg from 'pg';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { DatabaseInUse, type ProcessLock } from '../src/app/process-lock.js';
import { acquirePostgresProcessLock, holderApplicationName, parseHolderApplicationName } from '../src/db/pg-process-lock.js';
import { describeWithPostgres } from './support/postgres-server.js';

const NOW = 1_780_000_000_000;
const shard = (id: number) => ({ id, count: 4 });
/** The advisory locks held on this test's database (pg_locks shows the whole server's). */
const ADVISORY_LOCKS_HERE =
  "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

describeWithPostgres('the process lock on PostgreSQL', (server) => {
  let url = '';
  const pools: pg.Pool[] = [];
  const locks: ProcessLock[] = [];
  beforeAll(async () => {
    url = await server().createDatabase();
  });
  afterEach(async () => {
    for (const lock of locks.splice(0)) lock.release();
    for (const pool of pools.splice(0)) await pool.end();
    // A released lock goes when the server's backend for its connection exits, a moment after the socket closes:
    // the next test starts once the server holds none, or it could find the last one's lock still there.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await expect
        .poll(async () => Number((await admin.query<{ n: string }>(ADVISORY_LOCKS_HERE)).rows[0]?.n))
        .toBe(0);
    } finally {
      await admin.end();
    }
  });

  /** A process of its own as far as the server can tell: a pool of its own. */
  function processPool(): pg.Pool {
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    pool.on('error', () => undefined);
    pools.push(pool);
    return pool;
  }
  async function lock(options: { shard?: { id: number; count: number }; now?: number; onLost?: (error: Error) => void } = {}): Promise<ProcessLock> {
    const taken = await acquirePostgresProcessLock({ url, pool: processPool(), now: options.now ?? NOW, shard: options.shard, onLost: options.onLost });
    locks.push(taken);
    return taken;
  }
  async function refusal(options: { shard?: { id: number; count: number } } = {}): Promise<DatabaseInUse> {
    const error = await lock(options).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DatabaseInUse);
    return error as DatabaseInUse;
  }

  it('keeps a second bot serving every guild off the database, naming the first, and lets it in once released', async () => {
    const first = await lock({ now: NOW - 5_000 });
    const refused = await refusal();
    expect(refused.holder).toEqual({ pid: process.pid, host: hostname().slice(0, 63 - `chatops ${process.pid} ${NOW - 5_000} `.length), since: NOW - 5_000 });
    expect(refused.message).toContain('give this one another DATABASE_URL');
    // The server is named, its password never: the URL here has none, and the message shows only host and database.
    expect(refused.message).toContain(`127.0.0.1:${server().port}`);
    first.release();
    await expect(lock()).resolves.toBeDefined();
  });

  it('runs shards of different ids side by side, but never two of one id', async () => {
    await lock({ shard: shard(0) });
    await lock({ shard: shard(1) });
    const refused = await refusal({ shard: shard(1) });
    expect(refused.shard).toEqual(shard(1));
    expect(refused.holder?.pid).toBe(process.pid);
  });

  it('keeps a single-process bot out while any shard runs, and shards out while it runs', async () => {
    const running = await lock({ shard: shard(2) });
    await refusal();
    running.release();
    await lock();
    await refusal({ shard: shard(3) });
  });

  it('is dropped by the server when its connection ends, as when the process is killed, and says so', async () => {
    const lost: Error[] = [];
    await lock({ shard: shard(0), onLost: (error) => lost.push(error) });
    await refusal({ shard: shard(0) });
    const admin = processPool();
    // Ends the holder's connection from outside, as the server does for a process killed with -9.
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'chatops %'");
    await expect.poll(async () => (await lock({ shard: shard(0) }).then(() => true, () => false))).toBe(true);
    expect(lost.length).toBeGreaterThan(0);
  });
});

it('writes the holder into 63 bytes and reads it back', () => {
  const holder = { pid: 4242, host: 'h'.repeat(80), since: NOW };
  const name = holderApplicationName(holder);
  expect(name.length).toBe(63);
  expect(parseHolderApplicationName(name)).toEqual({ pid: 4242, since: NOW, host: 'h'.repeat(63 - `chatops 4242 ${NOW} `.length) });
  expect(parseHolderApplicationName('psql')).toBeUndefined();
});
