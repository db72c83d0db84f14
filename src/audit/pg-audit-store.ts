/**
 * The audit log on PostgreSQL: inserts (one entry inside a unit of work, or the write-behind batches over the pool)
 * and the reads, over pg-schema.ts.
 */
import { desc } from 'drizzle-orm';
import type { PgQueries } from '../db/data-access.js';
import { auditLog } from '../db/pg-schema.js';
import { auditConditions, auditLimit, BULK_CHUNK, toAuditEntry, type AuditEntry, type AuditQuery, type AuditRow } from './audit-rows.js';

/** Inserts the rows, one statement per chunk, on `db` (a pool, or a transaction: then all or nothing with it). */
export async function insertPgAuditRows(db: PgQueries, rows: readonly AuditRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BULK_CHUNK) await db.insert(auditLog).values(rows.slice(i, i + BULK_CHUNK));
}

/** As insertPgAuditRows, in one transaction of its own when there is more than one chunk. */
export async function insertPgAuditRowsAtomically(db: PgQueries, rows: readonly AuditRow[]): Promise<void> {
  if (rows.length <= BULK_CHUNK) return insertPgAuditRows(db, rows);
  await db.transaction((tx) => insertPgAuditRows(tx, rows));
}

export async function pgRecentAudit(db: PgQueries, guildId: string, query: AuditQuery): Promise<AuditEntry[]> {
  const rows = await db
    .select()
    .from(auditLog)
    .where(auditConditions(auditLog, guildId, query))
    .orderBy(desc(auditLog.created_at), desc(auditLog.id))
    .limit(auditLimit(query));
  return rows.map(toAuditEntry);
}
