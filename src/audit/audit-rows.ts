/**
 * What an audit entry is, and how it becomes a row and back, once for every writer and reader of the log (AuditLog
 * on either dialect, the in-transaction writers of audit-writer.ts).
 *
 * Secrets: callers must not put secrets in `details`. As a net under that rule, `auditRow` drops any detail whose
 * key looks like it names a secret (see SECRET_KEY_PATTERN; keys ending in "name" are labels and kept), at any
 * depth, and bounds the size of what is stored.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { auditLog as pgAuditLog } from '../db/pg-schema.js';
import { AUDIT_OUTCOMES, type auditLog, type AuditOutcome } from '../db/schema.js';
import { assertSnowflake } from '../shared/snowflake.js';

export interface AuditRecord {
  guildId: string;
  /** A Discord user id, or "system" for the janitor and other scheduled work. */
  userId: string;
  /** Dotted verb such as "project.create" or "jit.revoke". */
  action: string;
  target?: string;
  outcome: AuditOutcome;
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  id: number;
  guildId: string;
  userId: string;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  details: Record<string, unknown> | null;
  createdAt: number;
}

export interface AuditQuery {
  /** 1–200, default 20. */
  limit?: number;
  userId?: string;
  action?: string;
}

/** Key names that suggest a secret; matching details are dropped before storage. */
export const SECRET_KEY_PATTERN = /secret|token|passw|pwd|key|credential|private|auth(?!or)|cookie|signature|cert/i;
/** ...unless the key names a label, not a value: "credentialName", "key_name" are kept. */
const LABEL_KEY_PATTERN = /name$/i;
export const SYSTEM_USER = 'system';

const MAX_DETAILS_CHARS = 4000;
const MAX_STRING_CHARS = 500;
const MAX_DEPTH = 4;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 200;
/** Rows per multi-row insert: 8 columns each stays far below SQLite's (and PostgreSQL's) bound-parameter limit. */
export const BULK_CHUNK = 500;

const recordSchema = z.object({
  userId: z.string().regex(/^(\d{17,20}|system)$/, 'a Discord id or "system"'),
  action: z.string().regex(/^[A-Za-z][A-Za-z0-9_.:/-]{0,63}$/, 'an action name such as project.create'),
  target: z.string().max(200).optional(),
  outcome: z.enum(AUDIT_OUTCOMES),
});
const storedDetails = z.record(z.string(), z.unknown());

export type AuditRow = typeof auditLog.$inferInsert;
export type StoredAuditRow = typeof auditLog.$inferSelect;

/**
 * An entry as its row, checked and sanitised: what every writer of the log stores (AuditLog on SQLite, PgAuditWriter).
 * @throws when the entry is malformed
 */
export function auditRow(entry: AuditRecord, now: number): AuditRow {
  assertSnowflake(entry.guildId, 'guildId');
  const valid = recordSchema.parse(entry);
  return {
    guild_id: entry.guildId,
    user_id: valid.userId,
    action: valid.action,
    target: valid.target ?? null,
    outcome: valid.outcome,
    details: entry.details === undefined ? null : serialiseDetails(entry.details),
    created_at: now,
  };
}

/** Drops secret-looking keys at any depth, truncates long strings, and caps the stored JSON. */
export function sanitiseDetails(details: Record<string, unknown>): Record<string, unknown> {
  return sanitiseObject(details, 0);
}

function sanitiseObject(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (SECRET_KEY_PATTERN.test(key) && !LABEL_KEY_PATTERN.test(key)) continue;
    const sanitised = sanitiseValue(inner, depth + 1);
    if (sanitised !== undefined) clean[key] = sanitised;
  }
  return clean;
}

function sanitiseValue(value: unknown, depth: number): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string') return value.length > MAX_STRING_CHARS ? `${value.slice(0, MAX_STRING_CHARS)}…` : value;
  if (depth > MAX_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => sanitiseValue(item, depth + 1) ?? null);
  if (typeof value === 'object') return sanitiseObject(value as Record<string, unknown>, depth);
  // functions, symbols, bigints, undefined: not audit material
  return undefined;
}

function serialiseDetails(details: Record<string, unknown>): string {
  const json = JSON.stringify(sanitiseDetails(details));
  return json.length <= MAX_DETAILS_CHARS ? json : JSON.stringify({ truncated: true, size: json.length });
}

function parseDetails(raw: string | null): Record<string, unknown> | null {
  if (raw === null) return null;
  try {
    const parsed = storedDetails.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : { unreadable: true };
  } catch {
    return { unreadable: true };
  }
}

type AuditTable = typeof auditLog | typeof pgAuditLog;

/** The limit a query asks for, within bounds. */
export function auditLimit(query: AuditQuery): number {
  return Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
}

/** A guild's entries, optionally of one user or one action (both tables: they have the same columns). */
export function auditConditions(t: AuditTable, guildId: string, query: AuditQuery): SQL | undefined {
  assertSnowflake(guildId, 'guildId');
  return and(
    eq(t.guild_id, guildId),
    query.userId === undefined ? undefined : eq(t.user_id, query.userId),
    // Written out so the database sees the member index (audit_log_guild_member, which leaves the janitor's entries out) applies.
    query.userId !== undefined && query.userId !== SYSTEM_USER ? sql`${t.user_id} <> 'system'` : undefined,
    query.action === undefined ? undefined : eq(t.action, query.action),
  );
}

/** A stored row as the entry readers see. */
export function toAuditEntry(row: StoredAuditRow): AuditEntry {
  return {
    id: row.id,
    guildId: row.guild_id,
    userId: row.user_id,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    details: parseDetails(row.details),
    createdAt: row.created_at,
  };
}
