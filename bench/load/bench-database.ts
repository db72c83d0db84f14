/**
 * The database a sharded benchmark runs the bot on, behind one small interface: what the bot is started with, the
 * world seeded before it starts, and what the janitor benchmark writes and reads while it runs. SQLite is the only
 * one today. PostgreSQL (`--database=postgres`) is refused with the reason until the bot itself runs on it; then it
 * is one more implementation here (a server from test/support/postgres-server.ts, DATABASE_URL for the bot, the
 * same inserts and counts through `pg`), and the benchmarks around it stay as they are.
 */
import { join } from 'node:path';
import { openDatabase, type DatabaseHandle } from '../../src/db/index.js';
import type { NewGrant } from '../../src/jit/grant-repository.js';
import { SqliteGrants } from '../../src/jit/sqlite-grant-repository.js';
import { BenchmarkRefused } from '../harness.js';
import type { BenchWorld } from './scenarios.js';

export const DATABASE_KINDS = ['sqlite', 'postgres'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

/** How far the janitor has got with the grants the benchmark inserted. */
export interface JanitorProgress {
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
export function databaseKinds(flag: string | undefined): DatabaseKind[] {
  const kinds = (flag ?? 'sqlite').split(',').map((kind) => kind.trim());
  const unknown = kinds.filter((kind) => !(DATABASE_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0) throw new BenchmarkRefused(`--database: unknown ${unknown.join(', ')}; known: ${DATABASE_KINDS.join(', ')}`);
  if (kinds.includes('postgres')) {
    throw new BenchmarkRefused(
      '--database=postgres: not yet. The bot cannot run on PostgreSQL: its repositories are synchronous (better-sqlite3) and ' +
        'it refuses DATABASE_URL at start-up (src/db/dialect.ts, PostgresNotYetSupported). A figure here would measure nothing. ' +
        'Once the bot runs on PostgreSQL, add its BenchDatabase in bench/load/bench-database.ts.',
    );
  }
  return kinds as DatabaseKind[];
}

export function openBenchDatabase(kind: DatabaseKind, dir: string): BenchDatabase {
  if (kind === 'postgres') throw new BenchmarkRefused('PostgreSQL: see databaseKinds');
  return new SqliteBenchDatabase(join(dir, 'chatops.db'));
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
        `SELECT count(*) FILTER (WHERE revoked = 1) AS revoked,
                count(*) FILTER (WHERE notice_status = 'sent') AS noticed,
                count(*) FILTER (WHERE notice_status IN ('fallback', 'failed')) AS notNoticed
           FROM jit_permissions`,
      )
      .get() as { revoked: number; noticed: number; notNoticed: number };
    const { audited } = sqlite.prepare("SELECT count(*) AS audited FROM audit_log WHERE action = 'jit.expire'").get() as { audited: number };
    return { ...grants, audited };
  }

  async close(): Promise<void> {
    this.#handle?.close();
    this.#handle = undefined;
  }
}
