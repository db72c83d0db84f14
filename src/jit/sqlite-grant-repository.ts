/**
 * The JIT grants on SQLite (see grant-repository.ts for what each method does). Queries that must be fast at scale
 * are single prepared statements on the raw connection; the rest is drizzle, prepared once where it is hot. Both run
 * on the same connection, so a unit of work (src/db/data-access.ts) covers either.
 *
 * SqliteGrants is the synchronous form, which SqliteGrantRepository awaits nothing around. It is public only for the
 * benchmarks, which fill and time the table directly; the bot reaches grants through the asynchronous interface.
 */
import type Database from 'better-sqlite3';
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import { SYSTEM_USER } from '../audit/audit-log.js';
import type { SqliteSession } from '../db/data-access.js';
import { jitPermissions, type DatabaseHandle, type Db } from '../db/index.js';
import { shardCondition } from '../sharding/shard-scope.js';
import type { GrantRepository, GrantRepositoryOptions, JitGrant, MemberGrantsQuery, NewGrant, NoticeOutcome, PendingNotice } from './grant-repository.js';
import { endedFor, inForceFor, memberInForce, oneInForce } from './grant-conditions.js';
import { newGrantRow, NOTICE_COLUMNS, toGrant, toPendingNotice } from './grant-rows.js';
import type { PermissionLevel } from './levels.js';

/**
 * Grants due for expiry, soonest first: `revoked = 0` written literally so the partial index jit_expiry_due applies.
 * A shard's janitor takes only its own guilds' grants (the index still gives the order; the shard test filters).
 */
const due = (shard: string): string => `revoked = 0 AND expires_at <= @now${shard} ORDER BY expires_at, id`;

/** Grants of a guild in force at @now, soonest expiry first: /cloud-jit-list's query, for everyone or one member. */
function inForceQuery(db: Db, oneMember: boolean) {
  return db
    .select()
    .from(jitPermissions)
    .where(
      and(
        eq(jitPermissions.guild_id, sql.placeholder('guildId')),
        oneMember ? eq(jitPermissions.user_id, sql.placeholder('userId')) : undefined,
        eq(jitPermissions.revoked, false),
        gt(jitPermissions.expires_at, sql.placeholder('now')),
      ),
    )
    .orderBy(asc(jitPermissions.expires_at), asc(jitPermissions.id))
    .prepare();
}

export class SqliteGrants {
  readonly #db: Db;
  readonly #sqlite: Database.Database;
  readonly #auditDue: Database.Statement;
  readonly #expireDue: Database.Statement;
  readonly #selectPending: Database.Statement;
  readonly #markNotified: Database.Statement;
  readonly #markNoticeAttemptFailed: Database.Statement;
  // Prepared once: drizzle building and SQLite preparing each call was ~170 µs of the list's ~200 µs.
  readonly #inForce: ReturnType<typeof inForceQuery>;
  readonly #inForceOfMember: ReturnType<typeof inForceQuery>;

  constructor(handle: Pick<DatabaseHandle, 'db' | 'sqlite'>, options: GrantRepositoryOptions = {}) {
    this.#db = handle.db;
    this.#sqlite = handle.sqlite;
    const ownGuilds = shardCondition(options.shard);
    const DUE = due(ownGuilds);
    // One expiry batch is these two statements in one transaction, set-based: no row travels through JavaScript.
    // Both pick the first @limit due grants in (expires_at, id) order, which is the order of the partial index
    // jit_expiry_due (so no sort), and they run on one snapshot, so they pick the same grants. The audit entry is
    // written first, while the rows still read as due; its shape is the one AuditLog.record writes for the
    // janitor (user 'system', strings bounded as AuditLog bounds them), so /cloud-audit shows both alike.
    this.#auditDue = this.#sqlite.prepare(
      `INSERT INTO audit_log (guild_id, user_id, action, target, outcome, details, created_at)
       SELECT guild_id, '${SYSTEM_USER}', 'jit.expire', substr(user_id, 1, 200), 'success',
              json_object('grantId', id, 'provider', substr(provider, 1, 500), 'level', substr(permission_level, 1, 500),
                          'grantedBy', substr(granted_by, 1, 500),
                          'lastedMinutes', CAST(round((expires_at - granted_at) / 60000.0) AS INTEGER)),
              @now
         FROM jit_permissions WHERE ${DUE} LIMIT @limit`,
    );
    // The revocation and its outbox entry (notice_status = 'pending') are one statement: a crash cannot split them.
    this.#expireDue = this.#sqlite.prepare(
      `UPDATE jit_permissions
          SET revoked = 1, revoked_at = @now, revoke_reason = 'expired', notice_status = 'pending'
        WHERE id IN (SELECT id FROM jit_permissions WHERE ${DUE} LIMIT @limit)`,
    );
    // Walks the partial index jit_notice_pending; the id cursor lets a notice that failed this tick wait for the next.
    this.#selectPending = this.#sqlite.prepare(
      `SELECT ${NOTICE_COLUMNS} FROM jit_permissions
        WHERE notice_status = 'pending'${ownGuilds} AND id > @after ORDER BY id LIMIT @limit`,
    );
    this.#markNotified = this.#sqlite.prepare(
      `UPDATE jit_permissions
          SET notice_status = @status, notified_at = @now, notice_attempts = notice_attempts + 1, notice_error = @error
        WHERE id = @id AND notice_status = 'pending'`,
    );
    this.#markNoticeAttemptFailed = this.#sqlite.prepare(
      `UPDATE jit_permissions
          SET notice_attempts = notice_attempts + 1, notice_error = @error,
              notice_status = CASE WHEN notice_attempts + 1 >= @maxAttempts THEN 'failed' ELSE 'pending' END
        WHERE id = @id AND notice_status = 'pending'`,
    );
    this.#inForce = inForceQuery(this.#db, false);
    this.#inForceOfMember = inForceQuery(this.#db, true);
  }

  /** Runs `work` in one transaction (a savepoint when already in one), audit entries written meanwhile included. */
  transaction<T>(work: () => T): T {
    return this.#sqlite.transaction(work)();
  }

  insert(grant: NewGrant): JitGrant {
    const row = this.#db
      .insert(jitPermissions)
      .values(newGrantRow(grant))
      .returning()
      .get();
    return toGrant(row);
  }

  /** One grant of the guild by id (another guild's is undefined, like a missing id). */
  findInGuild(guildId: string, grantId: number): JitGrant | undefined {
    const row = this.#db
      .select()
      .from(jitPermissions)
      .where(and(eq(jitPermissions.id, grantId), eq(jitPermissions.guild_id, guildId)))
      .get();
    return row ? toGrant(row) : undefined;
  }

  /** Revokes one grant by hand unless already revoked; the revoked grant, or undefined when it already was. */
  revokeManually(grantId: number, revokedBy: string, now: number): JitGrant | undefined {
    const row = this.#db
      .update(jitPermissions)
      .set({ revoked: true, revoked_at: now, revoked_by: revokedBy, revoke_reason: 'manual' })
      .where(and(eq(jitPermissions.id, grantId), eq(jitPermissions.revoked, false)))
      .returning()
      .get();
    return row ? toGrant(row) : undefined;
  }

  /** Revokes by hand every grant of a member still in force at `now`; those revoked. */
  revokeActiveOfMember(guildId: string, userId: string, revokedBy: string, now: number): JitGrant[] {
    return this.#db
      .update(jitPermissions)
      .set({ revoked: true, revoked_at: now, revoked_by: revokedBy, revoke_reason: 'manual' })
      .where(memberInForce(jitPermissions, guildId, userId, now))
      .returning()
      .all()
      .map(toGrant);
  }

  /** Grants in force at `now` in a guild (optionally one member's), soonest expiry first. */
  listActive(guildId: string, now: number, userId?: string): JitGrant[] {
    const rows = userId === undefined ? this.#inForce.all({ guildId, now }) : this.#inForceOfMember.all({ guildId, now, userId });
    return rows.map(toGrant);
  }

  /** The levels of a member's grants in force at `now` for any of `providers`. */
  activeLevels(query: MemberGrantsQuery): PermissionLevel[] {
    return this.#db
      .select({ level: jitPermissions.permission_level })
      .from(jitPermissions)
      .where(inForceFor(jitPermissions, query))
      .all()
      .map((row) => row.level);
  }

  /** The member's latest grant for any of `providers` no longer in force at `now` (expired or revoked). */
  lastEnded(query: MemberGrantsQuery): JitGrant | undefined {
    const row = this.#db
      .select()
      .from(jitPermissions)
      .where(endedFor(jitPermissions, query))
      .orderBy(desc(jitPermissions.id))
      .get();
    return row ? toGrant(row) : undefined;
  }

  /**
   * Revokes up to `limit` grants due at `now`, writes each one's `jit.expire` audit entry and queues its expiry
   * notice, all in one transaction; how many it revoked. Fewer than `limit` means none is left due.
   */
  expireDue(now: number, limit: number): number {
    return this.transaction(() => {
      const audited = this.#auditDue.run({ now, limit }).changes;
      const revoked = this.#expireDue.run({ now, limit }).changes;
      // Cannot differ on one snapshot; if it ever did, nothing of this batch is kept rather than a half-audited one.
      if (audited !== revoked) throw new Error(`expiry batch audited ${audited} grants but revoked ${revoked}`);
      return revoked;
    });
  }

  /** Up to `limit` queued expiry notices after grant id `after`, oldest first. */
  pendingNotices(after: number, limit: number): PendingNotice[] {
    return this.#selectPending.all({ after, limit }).map(toPendingNotice);
  }

  /** Closes a pending notice: delivered by DM, posted in the channel instead, or given up. */
  markNotified(grantId: number, outcome: NoticeOutcome, now: number, error: string | null): void {
    this.#markNotified.run({ id: grantId, status: outcome, now, error });
  }

  /** Counts a failed try; the notice stays pending until `maxAttempts` tries, then is marked failed. */
  markNoticeAttemptFailed(grantId: number, error: string, maxAttempts: number): void {
    this.#markNoticeAttemptFailed.run({ id: grantId, error, maxAttempts });
  }

  /** One grant held by `userId`, in whichever guild (a press in a DM names only the grant); others' are undefined. */
  findOfMember(userId: string, grantId: number): JitGrant | undefined {
    const row = this.#db
      .select()
      .from(jitPermissions)
      .where(and(eq(jitPermissions.id, grantId), eq(jitPermissions.user_id, userId)))
      .get();
    return row ? toGrant(row) : undefined;
  }

  /** Moves a grant still in force at `now` to expire at `expiresAt`; undefined when it has ended (or is another guild's). */
  extend(guildId: string, grantId: number, expiresAt: number, now: number): JitGrant | undefined {
    const row = this.#db
      .update(jitPermissions)
      .set({ expires_at: expiresAt })
      .where(oneInForce(jitPermissions, guildId, grantId, now))
      .returning()
      .get();
    return row ? toGrant(row) : undefined;
  }
}

/** The asynchronous face of SqliteGrants: each method runs its statements at once and returns a settled promise. */
export class SqliteGrantRepository implements GrantRepository {
  constructor(private readonly grants: SqliteGrants) {}

  static over(session: SqliteSession, options: GrantRepositoryOptions = {}): SqliteGrantRepository {
    return new SqliteGrantRepository(new SqliteGrants(session, options));
  }

  async insert(grant: NewGrant): Promise<JitGrant> {
    return this.grants.insert(grant);
  }
  async findInGuild(guildId: string, grantId: number): Promise<JitGrant | undefined> {
    return this.grants.findInGuild(guildId, grantId);
  }
  async findOfMember(userId: string, grantId: number): Promise<JitGrant | undefined> {
    return this.grants.findOfMember(userId, grantId);
  }
  async revokeManually(grantId: number, revokedBy: string, now: number): Promise<JitGrant | undefined> {
    return this.grants.revokeManually(grantId, revokedBy, now);
  }
  async revokeActiveOfMember(guildId: string, userId: string, revokedBy: string, now: number): Promise<JitGrant[]> {
    return this.grants.revokeActiveOfMember(guildId, userId, revokedBy, now);
  }
  async listActive(guildId: string, now: number, userId?: string): Promise<JitGrant[]> {
    return this.grants.listActive(guildId, now, userId);
  }
  async activeLevels(query: MemberGrantsQuery): Promise<PermissionLevel[]> {
    return this.grants.activeLevels(query);
  }
  async lastEnded(query: MemberGrantsQuery): Promise<JitGrant | undefined> {
    return this.grants.lastEnded(query);
  }
  async extend(guildId: string, grantId: number, expiresAt: number, now: number): Promise<JitGrant | undefined> {
    return this.grants.extend(guildId, grantId, expiresAt, now);
  }
  async expireDue(now: number, limit: number): Promise<number> {
    return this.grants.expireDue(now, limit);
  }
  /** Processes on one SQLite file divide the notices by shard (the statements' shard condition): always this one's turn. */
  deliveringNotices<T>(work: () => Promise<T>): Promise<T | undefined> {
    return work();
  }
  async pendingNotices(after: number, limit: number): Promise<PendingNotice[]> {
    return this.grants.pendingNotices(after, limit);
  }
  async markNotified(grantId: number, outcome: NoticeOutcome, now: number, error: string | null): Promise<void> {
    this.grants.markNotified(grantId, outcome, now, error);
  }
  async markNoticeAttemptFailed(grantId: number, error: string, maxAttempts: number): Promise<void> {
    this.grants.markNoticeAttemptFailed(grantId, error, maxAttempts);
  }
}
