/**
 * Audit entries written inside a unit of work (src/db/data-access.ts), on the session's dialect, so they commit or
 * roll back with what they record. Outside one, the bot's AuditLog (write-behind, either dialect) is the writer, and
 * the log is read through it.
 */
import type { PostgresSession, Session } from '../db/data-access.js';
import type { Clock } from '../shared/clock.js';
import { AuditLog } from './audit-log.js';
import { auditRow, type AuditRecord } from './audit-rows.js';
import { insertPgAuditRows } from './pg-audit-store.js';

export interface AuditWriter {
  record(entry: AuditRecord): unknown;
}

/** PostgreSQL's: one insert per entry, awaited, on the session's connection or transaction. */
class PgAuditWriter implements AuditWriter {
  constructor(
    private readonly session: PostgresSession,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditRecord): Promise<void> {
    await insertPgAuditRows(this.session.db, [auditRow(entry, this.clock.now())]);
  }
}

/** The audit writer of the session's dialect (on SQLite, an AuditLog: inside a transaction it writes at once). */
export function auditWriterFor(session: Session, clock: Clock): AuditWriter {
  return session.dialect === 'sqlite' ? new AuditLog(session, clock) : new PgAuditWriter(session, clock);
}
