import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { ensureDirectory } from '../shared/directories.js';
import { projectRoot } from '../shared/project-root.js';
import { beginTransactionsImmediately } from './immediate-transactions.js';
import { schema } from './schema.js';

/** drizzle over the connection; `$client` is that connection (drizzle's own handle on it). */
export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export interface DatabaseHandle {
  db: Db;
  /** The raw connection, for the few places that need a prepared statement drizzle cannot express. */
  sqlite: Database.Database;
  close(): void;
}

/** The migrations folder drizzle-kit writes, in the project's folder (from the sources or the bundle alike), whatever the cwd. */
export const MIGRATIONS_DIR = join(projectRoot(import.meta.url), 'drizzle');

/**
 * Opens (creating if needed) the SQLite file, sets the pragmas the bot relies on and applies pending migrations.
 * Safe to call on an existing database: drizzle's migrator records what it applied.
 */
export function openDatabase(path: string): DatabaseHandle {
  if (path !== ':memory:') ensureDirectory(dirname(resolve(path)), 'DATABASE_PATH');
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  // Command handlers, the janitor and, with shards, other processes share the file: wait for the write lock instead
  // of failing at once. Each holds it for milliseconds (a janitor batch is sized to about 20 ms).
  sqlite.pragma('busy_timeout = 5000');
  // And take it at BEGIN, so a transaction never finds its snapshot stale at its first write (see the module).
  beginTransactionsImmediately(sqlite);
  sqlite.pragma('synchronous = NORMAL');
  // Deleted and shrunk rows are overwritten with zeros, not left in free space where a copy of the file keeps them.
  sqlite.pragma('secure_delete = ON');
  // Statement journals and sorts in memory, not in temporary files: a multi-row write in a transaction (each janitor
  // batch) otherwise creates, fills and deletes a file, which cost the JIT expiry benchmark twice its CPU in system
  // time; and no page image of a secret lands in /var/tmp. The hot queries are answered from indexes (see the query
  // plan test), so what is held is a batch's changed pages, a few MB at most.
  sqlite.pragma('temp_store = MEMORY');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  return {
    db,
    sqlite,
    close: () => {
      if (sqlite.open) sqlite.close();
    },
  };
}

/**
 * Copies the WAL into the database file and empties it, after something secret was erased: until then the WAL
 * still holds the pages as they were before (old ciphertext included), and so would any copy of the files.
 * Best effort: a reader holding an old snapshot makes SQLite stop short, and the next erasure finishes the job.
 */
export function checkpointAfterErasure(db: Db): void {
  db.get(sql`PRAGMA wal_checkpoint(TRUNCATE)`);
}

export { schema };
export * from './schema.js';
