/**
 * The JIT grants on PostgreSQL (see grant-repository.ts for what each method does), over pg-schema.ts.
 *
 * Any number of processes may run the janitor on one database. Expiry claims its batch with FOR UPDATE SKIP LOCKED:
 * a grant another process is revoking right now is skipped, not waited for, and once that one commits the grant no
 * longer reads as due (READ COMMITTED re-checks a locked row's WHERE against its newest version), so each expired
 * grant is revoked, audited and queued for its notice by exactly one process. Notices cannot be claimed that way
 * (a row lock needs a transaction, and none may be held across a call to Discord), so their delivery runs in one
 * process at a time per shard, under a session advisory lock (postgresExclusively).
 */
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import { SYSTEM_USER } from '../audit/audit-log.js';
import { postgresExclusively, type PostgresSession } from '../db/data-access.js';
import { jitPermissions } from '../db/pg-schema.js';
import { pgShardCondition } from '../sharding/shard-scope.js';
import type { GrantRepository, GrantRepositoryOptions, JitGrant, MemberGrantsQuery, NewGrant, NoticeOutcome, PendingNotice } from './grant-repository.js';
import { endedFor, inForceFor, memberInForce, oneInForce } from './grant-conditions.js';
import { newGrantRow, NOTICE_COLUMNS, toGrant, toPendingNotice } from './grant-rows.js';
import type { PermissionLevel } from './levels.js';

/** The advisory lock of expiry-notice delivery ("jitn"), with the shard's id as its second half. */
const NOTICE_LOCK = 0x6a_69_74_6e;

export class PgGrantRepository implements GrantRepository {
  readonly #session: PostgresSession;
  readonly #ownGuilds: ReturnType<typeof sql.raw>;
  readonly #shardId: number;

  constructor(session: PostgresSession, options: GrantRepositoryOptions = {}) {
    this.#session = session;
    this.#ownGuilds = sql.raw(pgShardCondition(options.shard));
    this.#shardId = options.shard?.id ?? 0;
  }

  get #db() {
    return this.#session.db;
  }

  async insert(grant: NewGrant): Promise<JitGrant> {
    const [row] = await this.#db
      .insert(jitPermissions)
      .values(newGrantRow(grant))
      .returning();
    if (!row) throw new Error('the grant insert returned no row');
    return toGrant(row);
  }

  async findInGuild(guildId: string, grantId: number): Promise<JitGrant | undefined> {
    return this.#one(and(eq(jitPermissions.id, grantId), eq(jitPermissions.guild_id, guildId)));
  }

  async findOfMember(userId: string, grantId: number): Promise<JitGrant | undefined> {
    return this.#one(and(eq(jitPermissions.id, grantId), eq(jitPermissions.user_id, userId)));
  }

  async revokeManually(grantId: number, revokedBy: string, now: number): Promise<JitGrant | undefined> {
    const [row] = await this.#db
      .update(jitPermissions)
      .set({ revoked: true, revoked_at: now, revoked_by: revokedBy, revoke_reason: 'manual' })
      .where(and(eq(jitPermissions.id, grantId), eq(jitPermissions.revoked, false)))
      .returning();
    return row ? toGrant(row) : undefined;
  }

  async revokeActiveOfMember(guildId: string, userId: string, revokedBy: string, now: number): Promise<JitGrant[]> {
    const rows = await this.#db
      .update(jitPermissions)
      .set({ revoked: true, revoked_at: now, revoked_by: revokedBy, revoke_reason: 'manual' })
      .where(memberInForce(jitPermissions, guildId, userId, now))
      .returning();
    // RETURNING comes in no promised order; SQLite's comes in id order, and so does this.
    return rows.sort((a, b) => a.id - b.id).map(toGrant);
  }

  async listActive(guildId: string, now: number, userId?: string): Promise<JitGrant[]> {
    const rows = await this.#db
      .select()
      .from(jitPermissions)
      .where(
        and(
          eq(jitPermissions.guild_id, guildId),
          userId === undefined ? undefined : eq(jitPermissions.user_id, userId),
          eq(jitPermissions.revoked, false),
          gt(jitPermissions.expires_at, now),
        ),
      )
      .orderBy(asc(jitPermissions.expires_at), asc(jitPermissions.id));
    return rows.map(toGrant);
  }

  async activeLevels(query: MemberGrantsQuery): Promise<PermissionLevel[]> {
    const rows = await this.#db
      .select({ level: jitPermissions.permission_level })
      .from(jitPermissions)
      .where(inForceFor(jitPermissions, query));
    return rows.map((row) => row.level);
  }

  async lastEnded(query: MemberGrantsQuery): Promise<JitGrant | undefined> {
    const [row] = await this.#db
      .select()
      .from(jitPermissions)
      .where(endedFor(jitPermissions, query))
      .orderBy(desc(jitPermissions.id))
      .limit(1);
    return row ? toGrant(row) : undefined;
  }

  async extend(guildId: string, grantId: number, expiresAt: number, now: number): Promise<JitGrant | undefined> {
    const [row] = await this.#db
      .update(jitPermissions)
      .set({ expires_at: expiresAt })
      .where(oneInForce(jitPermissions, guildId, grantId, now))
      .returning();
    return row ? toGrant(row) : undefined;
  }

  /**
   * One statement, so one transaction of its own: claim the batch (skipping what another process has claimed),
   * revoke it and queue its notices, and write its audit entries in the shape AuditLog writes the janitor's.
   */
  async expireDue(now: number, limit: number): Promise<number> {
    const result = await this.#db.execute<{ revoked: number }>(sql`
      WITH due AS (
        SELECT id FROM jit_permissions
         WHERE revoked = false AND expires_at <= ${now}${this.#ownGuilds}
         ORDER BY expires_at, id LIMIT ${limit}
           FOR UPDATE SKIP LOCKED
      ), expired AS (
        UPDATE jit_permissions AS grant_row
           SET revoked = true, revoked_at = ${now}, revoke_reason = 'expired', notice_status = 'pending'
          FROM due WHERE grant_row.id = due.id
        RETURNING grant_row.*
      ), audited AS (
        INSERT INTO audit_log (guild_id, user_id, action, target, outcome, details, created_at)
        SELECT guild_id, ${SYSTEM_USER}::text, 'jit.expire', substr(user_id, 1, 200), 'success',
               json_build_object('grantId', id, 'provider', substr(provider, 1, 500), 'level', substr(permission_level, 1, 500),
                                 'grantedBy', substr(granted_by, 1, 500),
                                 'lastedMinutes', round((expires_at - granted_at) / 60000.0)::bigint)::text,
               ${now}::bigint
          FROM expired ORDER BY expires_at, id
        RETURNING 1
      )
      SELECT count(*)::int AS revoked FROM audited`);
    return Number(result.rows[0]?.revoked ?? 0);
  }

  deliveringNotices<T>(work: () => Promise<T>): Promise<T | undefined> {
    return postgresExclusively(this.#session.pool, [NOTICE_LOCK, this.#shardId], work);
  }

  async pendingNotices(after: number, limit: number): Promise<PendingNotice[]> {
    const result = await this.#db.execute(sql`
      SELECT ${sql.raw(NOTICE_COLUMNS)} FROM jit_permissions
       WHERE notice_status = 'pending'${this.#ownGuilds} AND id > ${after} ORDER BY id LIMIT ${limit}`);
    return result.rows.map(toPendingNotice);
  }

  async markNotified(grantId: number, outcome: NoticeOutcome, now: number, error: string | null): Promise<void> {
    await this.#db.execute(sql`
      UPDATE jit_permissions
         SET notice_status = ${outcome}, notified_at = ${now}, notice_attempts = notice_attempts + 1, notice_error = ${error}
       WHERE id = ${grantId} AND notice_status = 'pending'`);
  }

  async markNoticeAttemptFailed(grantId: number, error: string, maxAttempts: number): Promise<void> {
    await this.#db.execute(sql`
      UPDATE jit_permissions
         SET notice_attempts = notice_attempts + 1, notice_error = ${error},
             notice_status = CASE WHEN notice_attempts + 1 >= ${maxAttempts} THEN 'failed' ELSE 'pending' END
       WHERE id = ${grantId} AND notice_status = 'pending'`);
  }

  async #one(where: ReturnType<typeof and>): Promise<JitGrant | undefined> {
    const [row] = await this.#db.select().from(jitPermissions).where(where).limit(1);
    return row ? toGrant(row) : undefined;
  }
}
