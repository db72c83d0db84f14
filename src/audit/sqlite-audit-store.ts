/**
 * The audit log on SQLite: one entry's insert prepared once on the raw connection (every refused command records
 * one, and building the query each time cost more than the insert), batches in one transaction, and the reads.
 * All synchronous, on the connection every repository shares, so inside a unit of work an entry is part of it.
 */
import { desc } from 'drizzle-orm';
import type { SqliteSession } from '../db/data-access.js';
import { auditLog } from '../db/schema.js';
import { auditConditions, auditLimit, BULK_CHUNK, toAuditEntry, type AuditEntry, type AuditQuery, type AuditRow } from './audit-rows.js';

export class SqliteAuditStore {
  readonly #session: SqliteSession;
  readonly #insertOne: (row: AuditRow) => void;
  readonly #insertAll: (rows: readonly AuditRow[]) => void;

  constructor(session: SqliteSession) {
    this.#session = session;
    // Plain SQL on better-sqlite3: drizzle's prepared insert mapped each row's parameters at a cost above the insert's.
    const insertOne = session.sqlite.prepare<[string, string, string, string | null, string, string | null, number]>(
      'INSERT INTO audit_log (guild_id, user_id, action, target, outcome, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#insertOne = (row) => insertOne.run(row.guild_id, row.user_id, row.action, row.target ?? null, row.outcome, row.details ?? null, row.created_at);
    this.#insertAll = session.sqlite.transaction((rows: readonly AuditRow[]) => {
      for (const row of rows) this.#insertOne(row);
    });
  }

  get connection(): object {
    return this.#session.sqlite;
  }

  /** Someone's transaction is open on the shared connection: what is written now is part of it. */
  get inTransaction(): boolean {
    return this.#session.sqlite.inTransaction;
  }

  get closed(): boolean {
    return !this.#session.sqlite.open;
  }

  insertNow(row: AuditRow): void {
    this.#insertOne(row);
  }

  /** The write-behind batch: one transaction, one prepared insert per row. */
  writeBatch(rows: readonly AuditRow[]): void {
    this.#insertAll(rows);
  }

  /** Many rows with one statement per chunk, all or nothing. */
  insertMany(rows: readonly AuditRow[]): void {
    this.#session.db.transaction((tx) => {
      for (let i = 0; i < rows.length; i += BULK_CHUNK) tx.insert(auditLog).values(rows.slice(i, i + BULK_CHUNK)).run();
    });
  }

  recent(guildId: string, query: AuditQuery): AuditEntry[] {
    return this.#session.db
      .select()
      .from(auditLog)
      .where(auditConditions(auditLog, guildId, query))
      .orderBy(desc(auditLog.created_at), desc(auditLog.id))
      .limit(auditLimit(query))
      .all()
      .map(toAuditEntry);
  }
}
