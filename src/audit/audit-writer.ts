/**
 * Audit entries written inside a unit of work (src/db/data-access.ts), on the session's dialect, so they commit or
 * roll back with what they record. Outside one, the bot's AuditLog (write-behind, SQLite) stays the writer; the log is
 * read through it too, until the audit log itself is converted.
 */
import type { Session } from '../db/data-access.js';
import { auditLog as pgAuditLog } from '../db/pg-schema.js';
import type { Clock } from '../shared/clock.js';
import { AuditLog, auditRow, type AuditRecord } from './audit-log.js';

export interface AuditWriter {
  record(entry: AuditRecord): unknown;
}

/** PostgreSQL's: one insert per entry, awaited, on the session's connection or transaction. */
class PgAuditWriter implements AuditWriter {
  constructor(
    private readonly session: Extract<Session, { dialect: 'postgres' }>,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditRecord): Promise<void> {
    await this.session.db.insert(pgAuditLog).values(auditRow(entry, this.clock.now()));
  }
}

/** The audit writer of the session's dialect (on SQLite, an AuditLog: inside a transaction it writes at once). */
export function auditWriterFor(session: Session, clock: Clock): AuditWriter {
  return session.dialect === 'sqlite' ? new AuditLog(session.db, clock) : new PgAuditWriter(session, clock);
}
