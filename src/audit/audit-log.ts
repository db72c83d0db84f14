/**
 * Who did what, in which guild, with what outcome, on whichever dialect the session runs. Every query is scoped to
 * one guild: there is no way to read across guilds through this class. What an entry is, and the net that keeps
 * secrets out of its details, are audit-rows.ts's.
 *
 * Writes: `record` checks the entry at once and returns; the entry is written a few milliseconds later, with others
 * (write-behind.ts), or, on SQLite inside a transaction, at once and part of it. On PostgreSQL an entry that must
 * commit with a change goes through the unit of work's writer instead (audit-writer.ts): this log writes over the
 * pool, outside any transaction. Reads write what waits first, so they see every entry recorded before them.
 */
import type { PostgresSession, Session } from '../db/data-access.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { auditRow, type AuditEntry, type AuditQuery, type AuditRecord, type AuditRow } from './audit-rows.js';
import { insertPgAuditRowsAtomically, pgRecentAudit } from './pg-audit-store.js';
import { SqliteAuditStore } from './sqlite-audit-store.js';
import { WriteBehind, type WriteBehindOptions } from './write-behind.js';

export * from './audit-rows.js';

export interface AuditLogOptions {
  /** Entries that could not be written after `record` returned (see write-behind.ts); they are dropped. */
  onWriteError?: (error: unknown, entries: number) => void;
}

type Store = { dialect: 'sqlite'; sqlite: SqliteAuditStore } | { dialect: 'postgres'; session: PostgresSession };

export class AuditLog {
  readonly #store: Store;
  /** Entries recorded outside a transaction, written together a few milliseconds later. */
  readonly #pending: WriteBehind<AuditRow>;

  /** @param session the session outside any transaction (on PostgreSQL, the pool's), or a SQLite unit of work's. */
  constructor(
    session: Session,
    private readonly clock: Clock = systemClock,
    options: AuditLogOptions = {},
  ) {
    if (session.dialect === 'sqlite') {
      const sqlite = new SqliteAuditStore(session);
      this.#store = { dialect: 'sqlite', sqlite };
      this.#pending = WriteBehind.of<AuditRow>(sqlite.connection, {
        write: (rows) => sqlite.writeBatch(rows),
        holding: () => sqlite.inTransaction,
        closed: () => sqlite.closed,
        onWriteError: options.onWriteError,
      });
    } else {
      this.#store = { dialect: 'postgres', session };
      this.#pending = WriteBehind.of<AuditRow>(session.pool, postgresWriter(session, options));
    }
  }

  /**
   * Appends an entry. Details are sanitised (secret-looking keys dropped, sizes bounded) before storage. On SQLite
   * inside a transaction the entry is written at once, part of it (kept or rolled back with what it records);
   * otherwise within milliseconds, with others (write-behind.ts). Every read of the log sees it either way.
   * @throws when the entry is malformed, at once
   */
  record(entry: AuditRecord): void {
    const row = auditRow(entry, this.clock.now());
    if (this.#store.dialect === 'sqlite' && this.#store.sqlite.inTransaction) this.#store.sqlite.insertNow(row);
    else this.#pending.add(row);
  }

  /** Writes the entries still waiting: before the connection closes. */
  flush(): Promise<void> {
    return this.#pending.flush();
  }

  /**
   * Appends many entries with one statement per chunk: the janitor audits thousands of expiries per tick, and one
   * insert per entry would hold the event loop far longer. Same checks as `record`; all or nothing per call.
   */
  async recordMany(entries: readonly AuditRecord[]): Promise<void> {
    if (entries.length === 0) return;
    const now = this.clock.now();
    const rows = entries.map((entry) => auditRow(entry, now));
    // Entries recorded earlier go first, so the log keeps the order things happened in.
    if (this.#store.dialect === 'sqlite') {
      // Synchronous, with nothing awaited in between: no other unit of work can begin on the connection meanwhile.
      void this.#pending.flush();
      this.#store.sqlite.insertMany(rows);
      return;
    }
    await this.#pending.flush();
    await insertPgAuditRowsAtomically(this.#store.session.db, rows);
  }

  /** A guild's entries, newest first, optionally of one user or one action. */
  async recent(guildId: string, query: AuditQuery = {}): Promise<AuditEntry[]> {
    if (this.#store.dialect === 'sqlite') {
      void this.#pending.flush();
      return this.#store.sqlite.recent(guildId, query);
    }
    await this.#pending.flush();
    return pgRecentAudit(this.#store.session.db, guildId, query);
  }
}

/** Batches over the pool, each begun once the one before it has finished, so the log keeps their order. */
function postgresWriter(session: PostgresSession, options: AuditLogOptions): WriteBehindOptions<AuditRow> {
  let previous: Promise<unknown> = Promise.resolve();
  return {
    write: (rows) => {
      const written = previous.then(() => insertPgAuditRowsAtomically(session.db, rows));
      previous = written.catch(() => undefined);
      return written;
    },
    closed: () => session.pool.ended,
    onWriteError: options.onWriteError,
  };
}
