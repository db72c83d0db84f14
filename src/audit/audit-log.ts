/**
 * Who did what, in which guild, with what outcome. Every query is scoped to one guild: there is no way to read
 * across guilds through this class.
 *
 * Secrets: callers must not put secrets in `details`. As a net under that rule, `record` drops any detail whose
 * key looks like it names a secret (see SECRET_KEY_PATTERN; keys ending in "name" are labels and kept), at any
 * depth, and bounds the size of what is stored.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { AUDIT_OUTCOMES, auditLog, type AuditOutcome } from '../db/schema.js';
import type { Db } from '../db/index.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { WriteBehind } from './write-behind.js';

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
/** Rows per multi-row insert: 8 columns each stays far below SQLite's bound-parameter limit. */
const BULK_CHUNK = 500;

const recordSchema = z.object({
  userId: z.string().regex(/^(\d{17,20}|system)$/, 'a Discord id or "system"'),
  action: z.string().regex(/^[A-Za-z][A-Za-z0-9_.:/-]{0,63}$/, 'an action name such as project.create'),
  target: z.string().max(200).optional(),
  outcome: z.enum(AUDIT_OUTCOMES),
});
const storedDetails = z.record(z.string(), z.unknown());

export type AuditRow = typeof auditLog.$inferInsert;

export interface AuditLogOptions {
  /** Entries that could not be written after `record` returned (see write-behind.ts); they are dropped. */
  onWriteError?: (error: unknown, entries: number) => void;
}

export class AuditLog {
  /** One entry's insert, prepared once: every refused command records one, and building the query each time cost more than the insert. */
  readonly #insertOne: (row: AuditRow) => void;
  /** Entries recorded outside a transaction, written together a few milliseconds later. */
  readonly #pending: WriteBehind<AuditRow>;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
    options: AuditLogOptions = {},
  ) {
    // Plain SQL on better-sqlite3: drizzle's prepared insert mapped each row's parameters at a cost above the insert's.
    const insertOne = db.$client.prepare<[string, string, string, string | null, string, string | null, number]>(
      'INSERT INTO audit_log (guild_id, user_id, action, target, outcome, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#insertOne = (row: AuditRow) => insertOne.run(row.guild_id, row.user_id, row.action, row.target ?? null, row.outcome, row.details ?? null, row.created_at);
    const insertAll = db.$client.transaction((rows: readonly AuditRow[]) => {
      for (const row of rows) this.#insertOne(row);
    });
    this.#pending = WriteBehind.of<AuditRow>(db.$client, { write: (rows) => insertAll(rows), onWriteError: options.onWriteError });
  }

  /**
   * Appends an entry. Details are sanitised (secret-looking keys dropped, sizes bounded) before storage. Inside a
   * transaction the entry is written at once, part of it (kept or rolled back with what it records); otherwise
   * within milliseconds, with others (write-behind.ts). Every read of the log sees it either way.
   * @throws when the entry is malformed, at once
   */
  record(entry: AuditRecord): void {
    const row = this.toRow(entry, this.clock.now());
    if (this.db.$client.inTransaction) this.#insertOne(row);
    else this.#pending.add(row);
  }

  /** Writes the entries still waiting: before the connection closes. */
  flush(): void {
    this.#pending.flush();
  }

  /**
   * Appends many entries with one statement per chunk: the janitor audits thousands of expiries per tick, and one
   * insert per entry would hold the event loop far longer. Same checks as `record`; all or nothing per call.
   */
  recordMany(entries: readonly AuditRecord[]): void {
    if (entries.length === 0) return;
    const now = this.clock.now();
    const rows = entries.map((entry) => this.toRow(entry, now));
    // Entries recorded earlier go first, so the log keeps the order things happened in.
    if (!this.db.$client.inTransaction) this.#pending.flush();
    this.db.transaction((tx) => {
      for (let i = 0; i < rows.length; i += BULK_CHUNK) tx.insert(auditLog).values(rows.slice(i, i + BULK_CHUNK)).run();
    });
  }

  private toRow(entry: AuditRecord, now: number): AuditRow {
    return auditRow(entry, now);
  }

  /** A guild's entries, newest first, optionally of one user or one action. */
  recent(guildId: string, options: AuditQuery = {}): AuditEntry[] {
    assertSnowflake(guildId, 'guildId');
    this.#pending.flush();
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
    const conditions = [eq(auditLog.guild_id, guildId)];
    if (options.userId !== undefined) conditions.push(eq(auditLog.user_id, options.userId));
    // Written out so SQLite sees the member index (audit_log_guild_member, which leaves the janitor's entries out) applies.
    if (options.userId !== undefined && options.userId !== SYSTEM_USER) conditions.push(sql`${auditLog.user_id} <> 'system'`);
    if (options.action !== undefined) conditions.push(eq(auditLog.action, options.action));
    return this.db
      .select()
      .from(auditLog)
      .where(and(...conditions))
      .orderBy(desc(auditLog.created_at), desc(auditLog.id))
      .limit(limit)
      .all()
      .map((row) => ({
        id: row.id,
        guildId: row.guild_id,
        userId: row.user_id,
        action: row.action,
        target: row.target,
        outcome: row.outcome,
        details: parseDetails(row.details),
        createdAt: row.created_at,
      }));
  }
}

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
