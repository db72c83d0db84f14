/**
 * Opening the bot's database as the configuration says (issue 16): the process lock first, then the migrations, on
 * SQLite and on PostgreSQL; a refused second process changes nothing; closing gives the lock back.
 */
import { sql } from 'drizzle-orm';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, expect, it, onTestFinished } from 'vitest';
import { DatabaseInUse } from '../src/app/process-lock.js';
import { openBotDatabase, type BotDatabase } from '../src/db/bot-database.js';
import { describeWithPostgres } from './support/postgres-server.js';
import { makeTempDir } from './support/tmp.js';

const NOW = 1_780_000_000_000;
const opened: BotDatabase[] = [];
afterEach(async () => {
  for (const database of opened.splice(0)) await database.close();
});

async function open(config: { DATABASE_PATH: string; DATABASE_URL?: string }, shard?: { id: number; count: number }): Promise<BotDatabase> {
  const database = await openBotDatabase(config, { now: NOW, shard });
  opened.push(database);
  return database;
}

it('opens the SQLite file with its migrations, and keeps a second process off it until closed', async () => {
  const { dir, cleanup } = makeTempDir('chatops-botdb-');
  onTestFinished(cleanup);
  const config = { DATABASE_PATH: join(dir, 'bot.db') };
  const first = await open(config);
  expect(first.data.dialect).toBe('sqlite');
  expect(first.sqlite?.sqlite.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'jit_permissions'").get()).toEqual({ n: 1 });
  await expect(openBotDatabase(config, { now: NOW })).rejects.toBeInstanceOf(DatabaseInUse);
  await opened.splice(0)[0]?.close();
  await expect(open(config)).resolves.toBeDefined();
});

describeWithPostgres('the bot database on PostgreSQL', (server) => {
  it('takes the lock before migrating: a refused process leaves a fresh database as it found it', async () => {
    const url = await server().createDatabase();
    const config = { DATABASE_PATH: '/nonexistent/never-used.db', DATABASE_URL: url };
    const first = await open(config, { id: 0, count: 2 });
    expect(first.data.dialect).toBe('postgres');
    expect(first.sqlite).toBeUndefined();
    expect(first.where).toBe(`127.0.0.1:${server().port}/${new URL(url).pathname.slice(1)}`);
    await first.data.transaction(async (session) => {
      if (session.dialect !== 'postgres') throw new Error('expected PostgreSQL');
      await session.db.execute(sql`SELECT 1 FROM jit_permissions LIMIT 1`);
    });

    // A second database, migrated by nobody yet, with a shard 0 already running on it: the refused process migrates nothing.
    const fresh = await server().createDatabase();
    const holder = await open({ DATABASE_PATH: config.DATABASE_PATH, DATABASE_URL: fresh }, { id: 0, count: 2 });
    const pool = new pg.Pool({ connectionString: fresh });
    try {
      await pool.query('DROP SCHEMA IF EXISTS drizzle CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public');
      await expect(openBotDatabase({ DATABASE_PATH: config.DATABASE_PATH, DATABASE_URL: fresh }, { now: NOW })).rejects.toBeInstanceOf(DatabaseInUse);
      const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'");
      expect(rows[0]?.n).toBe(0);
    } finally {
      await pool.end();
    }
    await holder.close();
    opened.splice(opened.indexOf(holder), 1);
    // Closed: its lock is gone, and a bot serving every guild may start (and migrates).
    await expect(open({ DATABASE_PATH: config.DATABASE_PATH, DATABASE_URL: fresh })).resolves.toBeDefined();
  });
});
