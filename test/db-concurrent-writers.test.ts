/**
 * Several processes writing one SQLite file (shards): a transaction that reads and then writes must not fail
 * because another process wrote in between. The bot's connection takes the write lock at BEGIN and waits for it under
 * the busy timeout (src/db/immediate-transactions.ts). A real second process writes in a tight loop meanwhile.
 */
import { execa } from 'execa';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.js';
import { REPO_ROOT } from './support/bot-process.js';
import { makeTestDatabase } from './support/tmp.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).reverse().forEach((cleanup) => cleanup()));

/** Another process inserting rows one by one, each its own transaction, for `ms`. */
function otherWriter(path: string, ms: number) {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.pragma('busy_timeout = 5000');
    const insert = db.prepare("INSERT INTO race (who) VALUES ('other')");
    const end = Date.now() + Number(process.argv[2]);
    let n = 0;
    while (Date.now() < end) { insert.run(); n += 1; }
    process.stdout.write(String(n));`;
  return execa('node', ['-e', script, path, String(ms)], { cwd: REPO_ROOT });
}

describe('transactions with another process writing the same file', () => {
  it('read, then write, without SQLITE_BUSY: drizzle’s and the raw connection’s alike', async () => {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    database.sqlite.exec('CREATE TABLE race (id INTEGER PRIMARY KEY, who TEXT NOT NULL)');
    const handle = openDatabase(database.path);
    cleanups.push(handle.close);

    const writer = otherWriter(database.path, 1500);
    // Until the other process has started writing.
    while ((handle.sqlite.prepare('SELECT count(*) AS n FROM race').get() as { n: number }).n === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    const readThenWrite = handle.sqlite.transaction(() => {
      const before = handle.sqlite.prepare('SELECT count(*) AS n FROM race').get() as { n: number };
      handle.sqlite.prepare("INSERT INTO race (who) VALUES ('raw')").run();
      return before.n;
    });
    let done = 0;
    const errors: unknown[] = [];
    for (let i = 0; i < 200; i += 1) {
      try {
        if (i % 2 === 0) readThenWrite();
        else
          handle.db.transaction((tx) => {
            tx.get(sql`SELECT count(*) FROM race`);
            tx.run(sql`INSERT INTO race (who) VALUES ('drizzle')`);
          });
        done += 1;
      } catch (error) {
        errors.push(error);
      }
      // Give the other process its turns between ours.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const other = Number((await writer).stdout);
    expect(errors).toEqual([]);
    expect(done).toBe(200);
    expect(other).toBeGreaterThan(0);
    const counts = handle.sqlite.prepare('SELECT who, count(*) AS n FROM race GROUP BY who ORDER BY who').all();
    expect(counts).toEqual([
      { who: 'drizzle', n: 100 },
      { who: 'other', n: other },
      { who: 'raw', n: 100 },
    ]);
  }, 30_000);
});
