/**
 * The asynchronous data-access seam (issue 16): how a repository reaches the database, and how a service runs a unit
 * of work, the same way on SQLite and on PostgreSQL. The dialect is chosen here (and in dialect.ts) alone.
 *
 * How to convert a repository (the JIT grants are the first: src/jit/grant-repository.ts and its two neighbours):
 * 1. Write its interface with every method returning a Promise, and the row mapping once, beside it.
 * 2. Implement it twice over a Session: SQLite's (better-sqlite3 statements, prepared once, run synchronously inside
 *    an `async` method) and PostgreSQL's (drizzle's node-postgres dialect over pg-schema.ts). Mind on PostgreSQL:
 *    booleans are booleans (`revoked = false`, never `= 0`, or the partial index no longer applies); `count(*)` and
 *    other bigints come back as strings (cast `::int` in SQL, or Number()); `ORDER BY` of text follows the
 *    database's collation (add `COLLATE "C"` where the order must match SQLite's bytewise one); a shard's guilds are
 *    pgShardCondition's (a cast to INTEGER is 32 bits there). Write drizzle conditions once for both tables (they
 *    have the same columns: grant-conditions.ts). A small factory switching on `session.dialect` picks the one.
 * 3. Services take a UnitOfWork of the repositories they change together, and await: `units.transaction(async (tx)
 *    => …)` hands repositories bound to that transaction; `units.outside` the ones for work outside one. Audit
 *    entries written with a change go through `tx.audit` (src/audit/audit-writer.ts), so they commit with it.
 * 4. Run its tests on both dialects: a shared suite parameterised by dialect (test/support/dialects.ts).
 * 5. A caller that cannot await yet may keep a synchronous, SQLite-only face, named as such, to be removed when that
 *    caller is converted (the JIT grants needed one until src/deploy awaited them; none is left).
 *
 * SQLite: one better-sqlite3 connection is shared by the whole process, and its statements are synchronous. A
 * transaction is BEGIN IMMEDIATE … COMMIT on that connection, so anything else run on it meanwhile becomes part of
 * it. Two rules keep another flow out:
 * - a gate: one unit of work at a time on the connection; another waits for the gate (not for SQLite's lock, which
 *   would block the event loop the open one needs to finish);
 * - no I/O inside: every SQLite repository method does its work synchronously and returns a settled promise, so a
 *   unit of work finishes within the microtasks of the turn that began it. One that is still running when the event
 *   loop turns (it awaited a timer, Discord, an engine, a file) is rolled back and fails with a programming error:
 *   the window in which the not yet converted, synchronous repositories could slip a statement into it stays a few
 *   microtasks wide, and no transaction is ever held across a call to Discord or an engine.
 * PostgreSQL: a unit of work is a transaction on a connection of the pool (drizzle's db.transaction), isolated by
 * the server; the same rule holds by convention (a transaction holds a connection and its row locks). Work that must
 * run in one process at a time (the janitor's expiry notices) takes a session advisory lock (postgresExclusively),
 * which holds a connection, never a transaction, across the calls to Discord.
 *
 * A unit of work started inside another (the same async flow) joins it rather than waiting for itself at the gate.
 *
 * Per-guild caches (guild-cache.ts) rely on SQLite's data_version to see other processes' commits; PostgreSQL has no
 * such counter, so a repository converted later must build its cache with capacity 0 there (every lookup reads),
 * until LISTEN/NOTIFY on its writes replaces data_version.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type Database from 'better-sqlite3';
import type { NodePgQueryResultHKT } from 'drizzle-orm/node-postgres';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import type { Db } from './index.js';
import type { pgSchema } from './pg-schema.js';

/** drizzle over a PostgreSQL pool or over one of its transactions: the same query API. */
export type PgQueries = PgDatabase<NodePgQueryResultHKT, typeof pgSchema>;

export interface SqliteSession {
  readonly dialect: 'sqlite';
  readonly db: Db;
  readonly sqlite: Database.Database;
}

export interface PostgresSession {
  readonly dialect: 'postgres';
  readonly db: PgQueries;
  /** The pool, for session advisory locks (which need one connection held); statements go through `db`. */
  readonly pool: pg.Pool;
}

/** Where a repository's statements run: outside any transaction, or inside the one a unit of work opened. */
export type Session = SqliteSession | PostgresSession;

export interface DataAccess {
  readonly dialect: Session['dialect'];
  /** The session outside any transaction. */
  readonly session: Session;
  /**
   * The session of the unit of work this async flow is in, else `session`: reads made on behalf of one (the policy
   * check inside a budget reservation) then run in it, on its connection. On PostgreSQL that matters: a read on
   * another connection of the pool while transactions wait for a lock could wait for a connection none will free.
   */
  readonly current: Session;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (session: Session) => Promise<T>): Promise<T>;
}

/** A SQLite unit of work that was still open when the event loop turned: it awaited real I/O inside. */
export class UnitOfWorkAwaitedIo extends Error {
  constructor() {
    super('a SQLite unit of work awaited I/O (a timer, Discord, an engine, a file) inside its transaction; it was rolled back');
    this.name = 'UnitOfWorkAwaitedIo';
  }
}

export function sqliteDataAccess(handle: { db: Db; sqlite: Database.Database }): DataAccess {
  const session: SqliteSession = { dialect: 'sqlite', db: handle.db, sqlite: handle.sqlite };
  const begin = handle.sqlite.prepare('BEGIN IMMEDIATE');
  const commit = handle.sqlite.prepare('COMMIT');
  const rollback = handle.sqlite.prepare('ROLLBACK');
  const inside = new AsyncLocalStorage<true>();
  let gate: Promise<unknown> = Promise.resolve();
  return {
    dialect: 'sqlite',
    session,
    // One connection: inside a unit of work or not, statements run on it.
    current: session,
    transaction<T>(work: (session: Session) => Promise<T>): Promise<T> {
      if (inside.getStore()) return work(session);
      const run = gate.then(async () => {
        begin.run();
        let turned = false;
        const watch = setImmediate(() => {
          turned = true;
        });
        try {
          const result = await inside.run(true, () => work(session));
          if (turned) throw new UnitOfWorkAwaitedIo();
          commit.run();
          return result;
        } catch (error) {
          if (handle.sqlite.inTransaction) rollback.run();
          throw error;
        } finally {
          clearImmediate(watch);
        }
      });
      gate = run.catch(() => undefined);
      return run;
    },
  };
}

export function postgresDataAccess(handle: { db: PgQueries; pool: pg.Pool }): DataAccess {
  const session: PostgresSession = { dialect: 'postgres', db: handle.db, pool: handle.pool };
  const inside = new AsyncLocalStorage<PostgresSession>();
  return {
    dialect: 'postgres',
    session,
    get current(): Session {
      return inside.getStore() ?? session;
    },
    transaction<T>(work: (session: Session) => Promise<T>): Promise<T> {
      const current = inside.getStore();
      if (current) return work(current);
      return handle.db.transaction((tx) => {
        const scoped: PostgresSession = { dialect: 'postgres', db: tx, pool: handle.pool };
        return inside.run(scoped, () => work(scoped));
      });
    },
  };
}

/**
 * Runs `work` only when no other process runs work of the same `key` (two 32-bit integers) now; undefined, without
 * running it, when one does. A session advisory lock: it holds one connection of the pool (never a transaction)
 * while `work` runs, and dies with that connection, so a crashed process leaves no lock behind.
 */
export async function postgresExclusively<T>(pool: pg.Pool, key: readonly [number, number], work: () => Promise<T>): Promise<T | undefined> {
  const client = await pool.connect();
  // A lock that could not be released is let go of with its connection, which is closed rather than pooled.
  let keepConnection = true;
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [key[0], key[1]]);
    if (rows[0]?.locked !== true) return undefined;
    try {
      return await work();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [key[0], key[1]]).catch(() => {
        keepConnection = false;
      });
    }
  } catch (error) {
    keepConnection = false;
    throw error;
  } finally {
    client.release(!keepConnection);
  }
}

/**
 * A service's repositories, over the session outside a transaction (`outside`) or bound to one (`transaction`).
 * They are built once per session: SQLite has one (so its statements are prepared once, at start-up); PostgreSQL
 * has one per transaction, and building its repositories costs a few objects.
 */
export class UnitOfWork<Repositories> {
  readonly #data: DataAccess;
  readonly #build: (session: Session) => Repositories;
  readonly #built = new WeakMap<Session, Repositories>();

  constructor(data: DataAccess, build: (session: Session) => Repositories) {
    this.#data = data;
    this.#build = build;
  }

  get outside(): Repositories {
    return this.#for(this.#data.session);
  }

  /** Bound to the transaction this async flow is in (see DataAccess.current), else the ones outside. */
  get current(): Repositories {
    return this.#for(this.#data.current);
  }

  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    return this.#data.transaction((session) => work(this.#for(session)));
  }

  #for(session: Session): Repositories {
    let repositories = this.#built.get(session);
    if (!repositories) this.#built.set(session, (repositories = this.#build(session)));
    return repositories;
  }
}
