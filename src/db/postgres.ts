/**
 * The PostgreSQL side of the database (issue 16): a connection pool, drizzle over it with pg-schema.ts, and the
 * migrations of drizzle/pg applied. Only the copy tool uses it for now (npm run db:migrate-to-postgres); the bot
 * itself still runs on SQLite (dialect.ts says why and refuses DATABASE_URL).
 */
import { join } from 'node:path';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { projectRoot } from '../shared/project-root.js';
import { pgSchema } from './pg-schema.js';

export type PgDb = NodePgDatabase<typeof pgSchema> & { $client: pg.Pool };

export interface PostgresHandle {
  db: PgDb;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** PostgreSQL's migrations, beside SQLite's (drizzle/), found the same way from the sources or the bundle. */
export const PG_MIGRATIONS_DIR = join(projectRoot(import.meta.url), 'drizzle', 'pg');

/** Any constant of the bot's own: the advisory lock that lets one process at a time migrate a database. */
const MIGRATION_LOCK_KEY = 0x63_68_61_74; // "chat"

/** Where a DATABASE_URL points (host, port, database), without its user or password: safe to print. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.host !== '' ? parsed.host : (parsed.searchParams.get('host') ?? 'the local socket');
    return `${host}${parsed.pathname !== '' && parsed.pathname !== '/' ? parsed.pathname : ''}`;
  } catch {
    return 'DATABASE_URL';
  }
}

export interface PostgresOpenOptions {
  maxConnections?: number;
  /**
   * Runs once connected, before the migrations (the bot takes its process lock here, so a refused process changes
   * nothing). What it returns is called should the migrations then fail, before the pool is closed (which waits for
   * every connection it lent: a lock's must be given back first). It runs while the migrations' connection is held,
   * so a connection it takes needs a pool of at least two (the default is ten).
   */
  beforeMigrations?: (pool: pg.Pool) => Promise<() => void>;
}

/**
 * Connects, then applies pending migrations while holding an advisory lock, so processes started together (shards,
 * machines) do not apply one migration twice; the second finds it applied. Throws a message naming the server (never
 * the password) when it cannot connect or migrate; the pool is closed then.
 */
export async function openPostgres(url: string, options: PostgresOpenOptions = {}): Promise<PostgresHandle> {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // An idle connection the server dropped (restart, failover) must not crash the process: the pool makes a new one.
  pool.on('error', () => undefined);
  const db = drizzle(pool, { schema: pgSchema });
  let undoBeforeMigrations: (() => void) | undefined;
  try {
    const client = await pool.connect().catch((error: unknown) => {
      throw new Error(`Could not connect to PostgreSQL at ${describeDatabaseUrl(url)}: ${postgresReason(error)}.`);
    });
    try {
      undoBeforeMigrations = await options.beforeMigrations?.(pool);
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      // On the connection holding the lock: a pool of one connection would otherwise wait for itself.
      await migrate(drizzle(client, { schema: pgSchema }), { migrationsFolder: PG_MIGRATIONS_DIR }).catch((error: unknown) => {
        throw new Error(`Could not apply the PostgreSQL migrations to ${describeDatabaseUrl(url)}: ${postgresReason(error)}.`);
      });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
      client.release();
    }
  } catch (error) {
    undoBeforeMigrations?.();
    await pool.end();
    throw error;
  }
  return { db, pool, close: () => pool.end() };
}

/**
 * The server's or the network's own words, which name no secret (pg never puts the password in a message), rather
 * than drizzle's wrapper, which quotes the whole statement and its values.
 */
export function postgresReason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  // A host name with several addresses (localhost: ::1 and 127.0.0.1) fails with one error per address, and no message.
  const errors = cause instanceof AggregateError ? (cause.errors as unknown[]) : [cause];
  const messages = errors.map((each) => (each instanceof Error ? each.message : String(each)).replace(/\.$/, '')).filter((each) => each !== '');
  return [...new Set(messages)].join('; ') || 'no reason given';
}
