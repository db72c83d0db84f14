/**
 * The JIT requests on PostgreSQL (see request-repository.ts for what each method does), over pg-schema.ts.
 *
 * Any number of processes may run the janitor on one database. Expiry claims its batch with FOR UPDATE SKIP LOCKED
 * (as the grants' does, pg-grant-repository.ts): a request another process is expiring right now is skipped, and
 * once that one commits it no longer reads as pending, so each is expired, audited and queued once. The notices'
 * delivery runs in one process at a time per shard, under a session advisory lock (no transaction is held across
 * a call to Discord).
 */
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { SYSTEM_USER } from '../audit/audit-log.js';
import { postgresExclusively, type PostgresSession } from '../db/data-access.js';
import { jitRequests } from '../db/pg-schema.js';
import { pgShardCondition } from '../sharding/shard-scope.js';
import type { Decision, JitRequest, NewJitRequest, RequestNoticeOutcome, RequestRepository, RequestRepositoryOptions } from './request-repository.js';
import { decidable, selfExtensionsOf } from './request-conditions.js';
import { decisionColumns, newRequestRow, EXPIRY_DETAILS_PG, toNoticeId, toRequest } from './request-rows.js';

/** The advisory lock of request-notice delivery ("jitr"), with the shard's id as its second half. */
const NOTICE_LOCK = 0x6a_69_74_72;

export class PgRequestRepository implements RequestRepository {
  readonly #session: PostgresSession;
  readonly #ownGuilds: ReturnType<typeof sql.raw>;
  readonly #shardId: number;

  constructor(session: PostgresSession, options: RequestRepositoryOptions = {}) {
    this.#session = session;
    this.#ownGuilds = sql.raw(pgShardCondition(options.shard));
    this.#shardId = options.shard?.id ?? 0;
  }

  get #db() {
    return this.#session.db;
  }

  async insert(request: NewJitRequest, decided?: Omit<Decision, 'notify' | 'note'>): Promise<JitRequest> {
    const [row] = await this.#db
      .insert(jitRequests)
      .values(newRequestRow(request, decided))
      .returning();
    if (!row) throw new Error('the request insert returned no row');
    return toRequest(row);
  }

  async findInGuild(guildId: string, requestId: number): Promise<JitRequest | undefined> {
    const [row] = await this.#db
      .select()
      .from(jitRequests)
      .where(and(eq(jitRequests.id, requestId), eq(jitRequests.guild_id, guildId)))
      .limit(1);
    return row ? toRequest(row) : undefined;
  }

  async decide(guildId: string, requestId: number, decision: Decision): Promise<JitRequest | undefined> {
    const [row] = await this.#db
      .update(jitRequests)
      .set(decisionColumns(decision))
      .where(decidable(jitRequests, guildId, requestId, decision))
      .returning();
    return row ? toRequest(row) : undefined;
  }

  async listPending(guildId: string, now: number, requesterId?: string): Promise<JitRequest[]> {
    const rows = await this.#db
      .select()
      .from(jitRequests)
      .where(
        and(
          eq(jitRequests.guild_id, guildId),
          eq(jitRequests.status, 'pending'),
          requesterId === undefined ? undefined : eq(jitRequests.requester_id, requesterId),
          gt(jitRequests.expires_at, now),
        ),
      )
      .orderBy(asc(jitRequests.id));
    return rows.map(toRequest);
  }

  async selfExtendedMinutes(grantId: number): Promise<number> {
    const [row] = await this.#db
      .select({ total: sql<number>`coalesce(sum(${jitRequests.approved_minutes}), 0)::int` })
      .from(jitRequests)
      .where(selfExtensionsOf(jitRequests, grantId));
    return Number(row?.total ?? 0);
  }

  async reviewChannelOfGrant(guildId: string, grantId: number): Promise<string | undefined> {
    const [row] = await this.#db
      .select({ channel: jitRequests.review_channel_id })
      .from(jitRequests)
      .where(and(eq(jitRequests.guild_id, guildId), eq(jitRequests.grant_id, grantId), eq(jitRequests.kind, 'access')))
      .limit(1);
    return row?.channel ?? undefined;
  }

  /** One statement, so one transaction of its own: claim the batch (skipping what another process has claimed), expire it, queue its notices and audit it. */
  async expireDue(now: number, limit: number): Promise<number> {
    const result = await this.#db.execute<{ expired: number }>(sql`
      WITH due AS (
        SELECT id FROM jit_requests
         WHERE status = 'pending' AND expires_at <= ${now}${this.#ownGuilds}
         ORDER BY expires_at, id LIMIT ${limit}
           FOR UPDATE SKIP LOCKED
      ), expired AS (
        UPDATE jit_requests AS request
           SET status = 'expired', decided_at = ${now}, notice_status = 'pending'
          FROM due WHERE request.id = due.id
        RETURNING request.*
      ), audited AS (
        INSERT INTO audit_log (guild_id, user_id, action, target, outcome, details, created_at)
        SELECT guild_id, ${SYSTEM_USER}::text, 'jit.request.expire', substr(requester_id, 1, 200), 'success', ${sql.raw(EXPIRY_DETAILS_PG)}, ${now}::bigint
          FROM expired ORDER BY expires_at, id
        RETURNING 1
      )
      SELECT count(*)::int AS expired FROM audited`);
    return Number(result.rows[0]?.expired ?? 0);
  }

  deliveringNotices<T>(work: () => Promise<T>): Promise<T | undefined> {
    return postgresExclusively(this.#session.pool, [NOTICE_LOCK, this.#shardId], work);
  }

  async pendingNoticeIds(after: number, limit: number): Promise<number[]> {
    const result = await this.#db.execute(sql`
      SELECT id FROM jit_requests WHERE notice_status = 'pending'${this.#ownGuilds} AND id > ${after} ORDER BY id LIMIT ${limit}`);
    return result.rows.map(toNoticeId);
  }

  async queuedNotice(requestId: number): Promise<{ request: JitRequest; attempts: number } | undefined> {
    const [row] = await this.#db
      .select()
      .from(jitRequests)
      .where(and(eq(jitRequests.id, requestId), eq(jitRequests.notice_status, 'pending')))
      .limit(1);
    return row ? { request: toRequest(row), attempts: row.notice_attempts } : undefined;
  }

  async markNotified(requestId: number, outcome: RequestNoticeOutcome, now: number, error: string | null): Promise<void> {
    await this.#db.execute(sql`
      UPDATE jit_requests
         SET notice_status = ${outcome}, notified_at = ${now}, notice_attempts = notice_attempts + 1, notice_error = ${error}
       WHERE id = ${requestId} AND notice_status = 'pending'`);
  }

  async markNoticeAttemptFailed(requestId: number, error: string, maxAttempts: number): Promise<void> {
    await this.#db.execute(sql`
      UPDATE jit_requests
         SET notice_attempts = notice_attempts + 1, notice_error = ${error},
             notice_status = CASE WHEN notice_attempts + 1 >= ${maxAttempts} THEN 'failed' ELSE 'pending' END
       WHERE id = ${requestId} AND notice_status = 'pending'`);
  }
}
