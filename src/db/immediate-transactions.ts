/**
 * Every transaction on the bot's connection begins IMMEDIATE, taking SQLite's write lock at BEGIN.
 *
 * With several processes on one file (shards: src/discord/shard-manager.ts), a DEFERRED transaction that reads first and writes
 * later fails at its first write with SQLITE_BUSY (SQLITE_BUSY_SNAPSHOT in WAL mode) whenever another process wrote
 * in between: its snapshot is stale, and no busy timeout can help, because waiting would not make it fresh. A
 * transaction that takes the write lock at BEGIN waits its turn there, under the busy timeout, and then reads what
 * is current. The bot's transactions last milliseconds, so taking the lock a few statements early costs nothing
 * that matters. Done here, once, so that neither drizzle's `db.transaction()` (which asks better-sqlite3 for a
 * deferred one) nor the repositories' own `sqlite.transaction()` can forget it; nested calls stay savepoints.
 */
import type Database from 'better-sqlite3';

export function beginTransactionsImmediately(sqlite: Database.Database): void {
  const transaction = sqlite.transaction.bind(sqlite);
  const immediately = (work: (...args: unknown[]) => unknown) => {
    const variants = transaction(work);
    const immediate = variants.immediate;
    return Object.assign((...args: unknown[]) => immediate(...args), { default: immediate, deferred: immediate, immediate, exclusive: variants.exclusive, database: sqlite });
  };
  // better-sqlite3's generic signature cannot be restated for a wrapper; the shape is the same.
  sqlite.transaction = immediately as unknown as Database.Database['transaction'];
}
