/**
 * The few things JIT needs from other parts of the bot, as the narrowest interfaces that do the job.
 * PolicyService and AuditLog satisfy them structurally; keeping them narrow lets JIT and the janitor be wired
 * (and tested) with nothing else of those services.
 */
import type { AuditRecord } from '../audit/audit-log.js';

/** The part of a guild's policy that JIT reads. */
export interface JitPolicy {
  /** Longest grant allowed, in minutes. */
  maxJitMinutes: number;
  /** Minutes a member may add to their own grant, in total, without review; 0 or absent = always reviewed. */
  jitSelfExtendMinutes?: number;
  /** Where notices go when a member cannot be reached by DM; null/undefined when the guild has none. */
  notificationChannelId?: string | null;
}

export interface JitPolicySource {
  /** The guild's current policy (defaults when the guild never set one). */
  get(guildId: string): JitPolicy | Promise<JitPolicy>;
}

/** The audit log's own entry shape: the janitor and the JIT service write ordinary audit entries. */
export type JitAuditEntry = AuditRecord;

export interface JitAuditSink {
  /**
   * Synchronous on purpose: the janitor records expiries inside the transaction that revokes them, so the
   * revocation and its audit entry commit together (or not at all).
   */
  record(entry: JitAuditEntry): unknown;
  /** Optional bulk form, used for expiries when present (one prepared statement for a whole batch). */
  recordMany?(entries: JitAuditEntry[]): unknown;
}
