/**
 * npm run db:migrate-to-postgres (issue 16): a real SQLite file with rows in every table, copied into a real
 * PostgreSQL server, reads back the same, value for value; ids stay, sequences move past them, the triggers work
 * again afterwards, and a target that already holds rows, or a copy that fails half-way, leaves the target as it was.
 */
import { execa } from 'execa';
import { join } from 'node:path';
import { getTableColumns, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { afterEach, expect, it } from 'vitest';
import { acquireProcessLock } from '../src/app/process-lock.js';
import { copySqliteToPostgres, inForeignKeyOrder, tablePairs, TargetNotEmpty, type TablePair } from '../src/db/migrate-to-postgres.js';
import { pgSchema } from '../src/db/pg-schema.js';
import { openPostgres, type PostgresHandle } from '../src/db/postgres.js';
import { auditLog } from '../src/db/schema.js';
import { REPO_ROOT } from './support/bot-process.js';
import { fillEveryTable, GUILD_A } from './support/every-table-rows.js';
import { describeWithPostgres, freePort } from './support/postgres-server.js';
import { makeTestDatabase } from './support/tmp.js';

type TestDatabase = ReturnType<typeof makeTestDatabase>;

/** Rows in a stable order, whatever order each database returns them in. */
const sorted = (rows: object[]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

async function rowCount(target: PostgresHandle, pair: TablePair): Promise<number> {
  const result = await target.db.execute<{ rows: number }>(sql`SELECT count(*)::int AS "rows" FROM ${pair.pg}`);
  return result.rows[0]!.rows;
}

describeWithPostgres('copying a SQLite database into PostgreSQL', (server) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function filledSqlite(): TestDatabase & { deletedResourceId: number } {
    const source = makeTestDatabase();
    cleanups.push(source.cleanup);
    return { ...source, ...fillEveryTable(source.db) };
  }

  async function emptyPostgres(): Promise<PostgresHandle & { url: string }> {
    const url = await server().createDatabase();
    const target = await openPostgres(url);
    cleanups.push(() => target.close());
    return { ...target, url };
  }

  it('holds, in every table, the rows SQLite held, with every value the bot reads the same', async () => {
    const source = filledSqlite();
    const target = await emptyPostgres();
    const copied = await copySqliteToPostgres(source.sqlite, target.db);

    const pairs = tablePairs();
    expect(copied.map((entry) => entry.table).sort()).toEqual(pairs.map((pair) => pair.name).sort());
    for (const pair of pairs) {
      const expected = source.db.select().from(pair.sqlite).all() as Array<Record<string, unknown>>;
      // The fixture must exercise every table and every column, or a column copied wrongly could go unnoticed.
      expect(expected.length, `${pair.name} has rows`).toBeGreaterThan(0);
      for (const column of Object.values(getTableColumns(pair.sqlite)) as SQLiteColumn[]) {
        expect(expected.some((row) => row[column.name] !== null), `${pair.name}.${column.name} holds a value in some row`).toBe(true);
      }
      expect(copied.find((entry) => entry.table === pair.name)?.rows, pair.name).toBe(expected.length);
      const actual = await target.db.select().from(pair.pg);
      expect(sorted(actual), pair.name).toEqual(sorted(expected));
    }
  });

  it('copies tables after those their foreign keys point to', () => {
    const order = inForeignKeyOrder(tablePairs()).map((pair) => pair.name);
    expect(order.indexOf('cloud_credentials')).toBeLessThan(order.indexOf('cloud_projects'));
    expect(order.indexOf('cloud_projects')).toBeLessThan(order.indexOf('cloud_resources'));
    expect(order.indexOf('cloud_resources')).toBeLessThan(order.indexOf('deploy_approvals'));
    expect(order.indexOf('jit_permissions')).toBeLessThan(order.indexOf('jit_requests'));
    expect(order.indexOf('templates')).toBeLessThan(order.indexOf('guild_template_enablements'));
  });

  it('gives new rows ids past every id SQLite gave, even a deleted row’s, and keeps the totals by trigger again', async () => {
    const source = filledSqlite();
    const target = await emptyPostgres();
    await copySqliteToPostgres(source.sqlite, target.db);

    const projectId = (await target.db.select().from(pgSchema.cloudProjects))[0]!.id;
    const [added] = await target.db
      .insert(pgSchema.cloudResources)
      .values({ project_id: projectId, guild_id: GUILD_A, name: 'new', resource_type: 'vm', estimated_monthly_cost: 10, compute_instances: 1, status: 'applying', created_by: 'u', created_at: 1, updated_at: 1 })
      .returning();
    expect(added!.id).toBe(source.deletedResourceId + 1);
    const [audit] = await target.db.insert(pgSchema.auditLog).values({ guild_id: GUILD_A, user_id: 'u', action: 'x', outcome: 'success', created_at: 1 }).returning();
    expect(audit!.id).toBe(source.db.select().from(auditLog).all().length + 1);

    const totals = await target.db.select().from(pgSchema.guildResourceTotals);
    expect(totals.find((row) => row.guild_id === GUILD_A && row.status === 'applying' && row.resource_type === 'vm')).toMatchObject({ resources: 1, monthly_usd: 10, compute_instances: 1 });
    const disabled = await target.db.execute<{ name: string }>(sql`SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'`);
    expect(disabled.rows).toEqual([]);
  });

  it('refuses a target that already holds rows, naming the tables, and changes nothing', async () => {
    const source = filledSqlite();
    const target = await emptyPostgres();
    await target.db.insert(pgSchema.guildTiers).values({ guild_id: GUILD_A, tier: 'standard', assigned_at: 1 });
    const error = await copySqliteToPostgres(source.sqlite, target.db).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TargetNotEmpty);
    expect((error as TargetNotEmpty).message).toMatch(/already holds rows \(in guild_tiers\), so nothing was copied/);
    for (const pair of tablePairs()) expect(await rowCount(target, pair), pair.name).toBe(pair.name === 'guild_tiers' ? 1 : 0);
  });

  it('leaves the target empty when a row cannot be copied half-way through', async () => {
    const source = filledSqlite();
    // PostgreSQL's text holds no NUL character; SQLite's does. audit_log comes late in the order.
    source.sqlite.prepare("INSERT INTO audit_log (guild_id, user_id, action, outcome, details, created_at) VALUES ('g', 'u', 'a', 'success', ?, 1)").run('nul\u0000byte');
    const target = await emptyPostgres();
    await expect(copySqliteToPostgres(source.sqlite, target.db)).rejects.toThrow(/audit_log/);
    for (const pair of tablePairs()) expect(await rowCount(target, pair), pair.name).toBe(0);
    // And the triggers are on again (the ALTER TABLEs were rolled back with the rest).
    const disabled = await target.db.execute<{ name: string }>(sql`SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'`);
    expect(disabled.rows).toEqual([]);
  });

  it('as a user that does not own the tables, stops with PostgreSQL’s reason, and copies nothing', async () => {
    const source = filledSqlite();
    const target = await emptyPostgres();
    await target.pool.query('DROP ROLE IF EXISTS stranger');
    await target.pool.query('CREATE ROLE stranger LOGIN');
    const strangerPool = new pg.Pool({ connectionString: target.url.replace('postgres://postgres@', 'postgres://stranger@') });
    cleanups.push(() => strangerPool.end());
    const asStranger = drizzle(strangerPool, { schema: pgSchema });
    await expect(copySqliteToPostgres(source.sqlite, asStranger)).rejects.toThrow(/^could not copy, so nothing was copied: permission denied for table /);
    for (const pair of tablePairs()) expect(await rowCount(target, pair), pair.name).toBe(0);
  });

  /** The command as an operator runs it, with only the environment given. */
  function runTool(env: Record<string, string>) {
    return execa('node', ['--import', 'tsx', 'src/db/migrate-to-postgres-cli.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: REPO_ROOT, ...env },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });
  }

  it('as npm run db:migrate-to-postgres: prints the rows per table, then refuses a second run into the same database', async () => {
    const source = filledSqlite();
    source.close();
    const url = await server().createDatabase();
    const first = await runTool({ DATABASE_PATH: source.path, DATABASE_URL: url });
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(/^Copied .* into PostgreSQL at 127\.0\.0\.1:\d+\/test_\d+:$/m);
    expect(first.stdout).toMatch(/^ {2}cloud_resources +4 row\(s\)$/m);
    expect(first.stdout).toMatch(/^ {2}guild_tiers +1 row\(s\)$/m);
    expect(first.stdout).toMatch(/still runs on SQLite only/);

    const second = await runTool({ DATABASE_PATH: source.path, DATABASE_URL: url });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(/^Could not copy: the PostgreSQL database already holds rows \(in .*\), so nothing was copied/);
    expect(second.stderr).not.toMatch(/\n\s+at /);
  });

  it('as a command: stops, saying so, while the bot runs on the file, and leaves the target empty', async () => {
    const source = filledSqlite();
    source.close();
    const url = await server().createDatabase();
    const lock = acquireProcessLock(source.path, 1);
    const whileRunning = await runTool({ DATABASE_PATH: source.path, DATABASE_URL: url }).finally(() => lock.release());
    expect(whileRunning.exitCode).toBe(1);
    expect(whileRunning.stderr).toMatch(/already in use by process \d+ .*Stop the other process first/s);
    const target = await openPostgres(url);
    cleanups.push(() => target.close());
    for (const pair of tablePairs()) expect(await rowCount(target, pair), pair.name).toBe(0);
  });

  it('as a command: says what to set without a SQLite file or without DATABASE_URL', async () => {
    const source = filledSqlite();
    source.close();
    const [noFile, noUrl] = await Promise.all([
      runTool({ DATABASE_PATH: join(source.dir, 'missing.db'), DATABASE_URL: server().urlFor('postgres') }),
      runTool({ DATABASE_PATH: source.path }),
    ]);
    expect(noFile.exitCode).toBe(1);
    expect(noFile.stderr).toMatch(/there is no SQLite database at DATABASE_PATH \(.*missing\.db\) to copy/);
    expect(noUrl.exitCode).toBe(1);
    expect(noUrl.stderr).toMatch(/set DATABASE_URL to the PostgreSQL database to copy into/);
  });

  it('as a command: names the server it cannot reach, never the password', async () => {
    const source = filledSqlite();
    source.close();
    const unreachable = await runTool({ DATABASE_PATH: source.path, DATABASE_URL: `postgres://chatops:hunter2-secret@127.0.0.1:${await freePort()}/chatops` });
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toMatch(/^Could not copy: Could not connect to PostgreSQL at 127\.0\.0\.1:\d+\/chatops: .*ECONNREFUSED/);
    expect(unreachable.stderr).not.toContain('hunter2');
  });
});
