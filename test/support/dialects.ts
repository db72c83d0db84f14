/**
 * One suite, both dialects (issue 16): `describeOnBothDialects(name, (open) => { … })` runs the body's tests once on a
 * real SQLite file with its migrations and once on a real PostgreSQL server (test/support/postgres-server.ts) with
 * its own. `open()` hands each test a fresh, empty database: a new file on SQLite; on PostgreSQL the file's database,
 * emptied (a new database per test would cost a migration each).
 */
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { auditWriterFor, type AuditWriter } from '../../src/audit/audit-writer.js';
import { postgresDataAccess, sqliteDataAccess, type DataAccess } from '../../src/db/data-access.js';
import { openDatabase } from '../../src/db/index.js';
import { openPostgres, type PostgresHandle } from '../../src/db/postgres.js';
import type { Clock } from '../../src/shared/clock.js';
import { describeWithPostgres, type TestPostgresServer } from './postgres-server.js';
import { makeTestDatabase } from './tmp.js';

export interface AuditedEntry {
  action: string;
  userId: string;
  target: string | null;
  outcome: string;
  details: Record<string, unknown> | null;
}

export interface DialectUnderTest {
  dialect: DataAccess['dialect'];
  data: DataAccess;
  /** Writes audit entries at once (outside a unit of work), on this dialect. */
  audit(clock: Clock): AuditWriter;
  /** A guild's audit entries, oldest first, whoever wrote them. */
  auditTrail(guildId: string): Promise<AuditedEntry[]>;
  /** Rows of a query of the test's own (plain SQL both dialects read alike). */
  rows(query: string): Promise<Array<Record<string, unknown>>>;
  /** Another connection (pool) to the same database: another process, as far as the database can tell. */
  another(): Promise<DataAccess>;
}

type AuditRowShape = { action: string; user_id: string; target: string | null; outcome: string; details: string | null };
const toEntry = (row: AuditRowShape): AuditedEntry => ({
  action: row.action,
  userId: row.user_id,
  target: row.target,
  outcome: row.outcome,
  details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
});
const AUDIT_QUERY = (guildId: string) => sql`SELECT action, user_id, target, outcome, details FROM audit_log WHERE guild_id = ${guildId} ORDER BY id`;

function sqliteUnderTest(cleanups: Array<() => unknown>): DialectUnderTest {
  const database = makeTestDatabase();
  cleanups.push(database.cleanup);
  const data = sqliteDataAccess(database);
  // Outside a transaction AuditLog writes a few milliseconds later (write-behind.ts): flushed before each read.
  const writers: AuditLog[] = [];
  return {
    dialect: 'sqlite',
    data,
    audit: (clock) => {
      const writer = new AuditLog(data.session, clock);
      writers.push(writer);
      return writer;
    },
    auditTrail: async (guildId) => {
      for (const writer of writers) await writer.flush();
      return database.db.all<AuditRowShape>(AUDIT_QUERY(guildId)).map(toEntry);
    },
    rows: async (query) => {
      const statement = database.sqlite.prepare(query);
      if (!statement.reader) statement.run();
      return statement.reader ? (statement.all() as Array<Record<string, unknown>>) : [];
    },
    another: async () => {
      const other = openDatabase(database.path);
      cleanups.push(other.close);
      return sqliteDataAccess(other);
    },
  };
}

async function postgresUnderTest(url: string, handle: PostgresHandle, cleanups: Array<() => unknown>): Promise<DialectUnderTest> {
  await handle.pool.query('TRUNCATE jit_permissions, audit_log RESTART IDENTITY CASCADE');
  const data = postgresDataAccess(handle);
  return {
    dialect: 'postgres',
    data,
    audit: (clock) => auditWriterFor(data.session, clock),
    auditTrail: async (guildId) => (await handle.db.execute<AuditRowShape>(AUDIT_QUERY(guildId))).rows.map(toEntry),
    rows: async (query) => (await handle.pool.query(query)).rows as Array<Record<string, unknown>>,
    another: async () => {
      const other = await openPostgres(url);
      cleanups.push(() => other.close());
      return postgresDataAccess(other);
    },
  };
}

export function describeOnBothDialects(name: string, body: (open: () => Promise<DialectUnderTest>) => void): void {
  describe(`${name} (SQLite)`, () => {
    const cleanups: Array<() => unknown> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    body(async () => sqliteUnderTest(cleanups));
  });
  describeWithPostgres(`${name} (PostgreSQL)`, (server: () => TestPostgresServer) => {
    const cleanups: Array<() => unknown> = [];
    let url = '';
    let handle: PostgresHandle | undefined;
    beforeAll(async () => {
      url = await server().createDatabase();
      handle = await openPostgres(url);
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    afterAll(async () => {
      await handle?.close();
    });
    body(async () => {
      if (!handle) throw new Error('the PostgreSQL database was not opened (see beforeAll)');
      return postgresUnderTest(url, handle, cleanups);
    });
  });
}
