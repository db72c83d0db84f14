/**
 * The database a sharded benchmark runs the bot on, behind one small interface: what the bot is started with, the
 * world seeded before it starts, and what the janitor benchmark writes and reads while it runs. SQLite: one file in
 * WAL mode. PostgreSQL: a local server of its own (test/support/postgres-server.ts, with the durability SQLite's
 * WAL and synchronous=NORMAL give, so the two compare fairly), the bot on DATABASE_URL, the world seeded into a SQLite
 * file first and copied over by the copy tool's own code (npm run db:migrate-to-postgres), so both start alike.
 */
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { copySqliteToPostgres } from '../../src/db/migrate-to-postgres.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/index.js';
import { jitPermissions } from '../../src/db/pg-schema.js';
import { openPostgres, type PostgresHandle } from '../../src/db/postgres.js';
import type { NewGrant } from '../../src/jit/grant-repository.js';
import { newGrantRow } from '../../src/jit/grant-rows.js';
import { SqliteGrants } from '../../src/jit/sqlite-grant-repository.js';
import { findPostgresBinaries, startPostgresServer, type TestPostgresServer } from '../../test/support/postgres-server.js';
import { BenchmarkRefused } from '../harness.js';
import type { BenchWorld } from './scenarios.js';

export const DATABASE_KINDS = ['sqlite', 'postgres'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

/** How far the janitor has got with the grants the benchmark inserted. */
export interface JanitorProgress {
  /** Grants in the table, revoked or not. */
  grants: number;
  revoked: number;
  /** Notices the notifier accepted (DMs sent). */
  noticed: number;
  /** Notices given up or sent to a channel instead: none are expected here. */
  notNoticed: number;
  /** `jit.expire` audit entries. */
  audited: number;
}

export interface BenchDatabase {
  /** For the report, e.g. "SQLite (one file, WAL) shared by every shard". */
  readonly label: string;
  /** What the bot (the manager and, through it, each shard) is started with. */
  readonly botEnv: Record<string, string>;
  /** Creates the schema and the world's projects and policies; before the bot starts. */
  seed(world: BenchWorld): Promise<void>;
  /** Inserts the grants in one transaction, while the bot runs. */
  insertGrants(grants: readonly NewGrant[]): Promise<void>;
  janitorProgress(): Promise<JanitorProgress>;
  close(): Promise<void>;
}

/** `--database=sqlite,postgres` → the kinds, checked before anything is started. */
export function databaseKinds(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): DatabaseKind[] {
  const kinds = (flag ?? 'sqlite').split(',').map((kind) => kind.trim());
  const unknown = kinds.filter((kind) => !(DATABASE_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0) throw new BenchmarkRefused(`--database: unknown ${unknown.join(', ')}; known: ${DATABASE_KINDS.join(', ')}`);
  if (kinds.includes('postgres')) {
    const found = findPostgresBinaries(env);
    if ('missing' in found) throw new BenchmarkRefused(`--database=postgres: ${found.missing}`);
  }
  return kinds as DatabaseKind[];
}

export async function openBenchDatabase(kind: DatabaseKind, dir: string): Promise<BenchDatabase> {
  if (kind === 'sqlite') return new SqliteBenchDatabase(join(dir, 'chatops.db'));
  const found = findPostgresBinaries();
  if ('missing' in found) throw new BenchmarkRefused(`--database=postgres: ${found.missing}`);
  const server = await startPostgresServer(found.binDir, 'like-sqlite');
  return new PostgresBenchDatabase(server, await server.createDatabase(), join(dir, 'seed.db'));
}

class SqliteBenchDatabase implements BenchDatabase {
  readonly label = 'SQLite (one file in WAL mode, shared by every shard)';
  readonly botEnv: Record<string, string>;
  #handle: DatabaseHandle | undefined;

  constructor(private readonly path: string) {
    this.botEnv = { DATABASE_PATH: path };
  }

  async seed(world: BenchWorld): Promise<void> {
    world.seedDatabase(this.path);
  }

  /** The benchmark's own connection, opened once the bot has migrated the file, as another process on it would. */
  #open(): DatabaseHandle {
    this.#handle ??= openDatabase(this.path);
    return this.#handle;
  }

  async insertGrants(grants: readonly NewGrant[]): Promise<void> {
    const repository = new SqliteGrants(this.#open());
    repository.transaction(() => {
      for (const grant of grants) repository.insert(grant);
    });
  }

  async janitorProgress(): Promise<JanitorProgress> {
    const { sqlite } = this.#open();
    const grants = sqlite
      .prepare(
        `SELECT count(*) AS grants,
                count(*) FILTER (WHERE revoked = 1) AS revoked,
                count(*) FILTER (WHERE notice_status = 'sent') AS noticed,
                count(*) FILTER (WHERE notice_status IN ('fallback', 'failed')) AS notNoticed
           FROM jit_permissions`,
      )
      .get() as { grants: number; revoked: number; noticed: number; notNoticed: number };
    const { audited } = sqlite.prepare("SELECT count(*) AS audited FROM audit_log WHERE action = 'jit.expire'").get() as { audited: number };
    return { ...grants, audited };
  }

  async close(): Promise<void> {
    this.#handle?.close();
    this.#handle = undefined;
  }
}

/** Grants are inserted this many to a statement: one round trip each, well under PostgreSQL's 65,535 parameters. */
const INSERT_CHUNK = 1_000;

class PostgresBenchDatabase implements BenchDatabase {
  readonly label = 'PostgreSQL 15 (a local server, fsync on and synchronous_commit off: SQLite\'s WAL promise; shared by every shard)';
  readonly botEnv: Record<string, string>;
  #handle: PostgresHandle | undefined;

  constructor(
    private readonly server: TestPostgresServer,
    private readonly url: string,
    private readonly seedPath: string,
  ) {
    // DATABASE_PATH names a file no process opens: DATABASE_URL wins.
    this.botEnv = { DATABASE_URL: url, DATABASE_PATH: seedPath };
  }

  async #open(): Promise<PostgresHandle> {
    this.#handle ??= await openPostgres(this.url, { maxConnections: 4 });
    return this.#handle;
  }

  async seed(world: BenchWorld): Promise<void> {
    world.seedDatabase(this.seedPath);
    const source = openDatabase(this.seedPath);
    try {
      await copySqliteToPostgres(source.sqlite, (await this.#open()).db);
    } finally {
      source.close();
    }
  }

  async insertGrants(grants: readonly NewGrant[]): Promise<void> {
    const { db } = await this.#open();
    await db.transaction(async (tx) => {
      for (let start = 0; start < grants.length; start += INSERT_CHUNK) {
        await tx.insert(jitPermissions).values(grants.slice(start, start + INSERT_CHUNK).map(newGrantRow));
      }
    });
  }

  async janitorProgress(): Promise<JanitorProgress> {
    const { db } = await this.#open();
    const grants = await db.execute<{ grants: number; revoked: number; noticed: number; notNoticed: number }>(
      sql`SELECT count(*)::int AS "grants",
                 count(*) FILTER (WHERE revoked)::int AS "revoked",
                 count(*) FILTER (WHERE notice_status = 'sent')::int AS "noticed",
                 count(*) FILTER (WHERE notice_status IN ('fallback', 'failed'))::int AS "notNoticed"
            FROM jit_permissions`,
    );
    const audit = await db.execute<{ audited: number }>(sql`SELECT count(*)::int AS audited FROM audit_log WHERE action = 'jit.expire'`);
    const counts = grants.rows[0];
    return { grants: counts?.grants ?? 0, revoked: counts?.revoked ?? 0, noticed: counts?.noticed ?? 0, notNoticed: counts?.notNoticed ?? 0, audited: audit.rows[0]?.audited ?? 0 };
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
    await this.server.stop();
  }
}
