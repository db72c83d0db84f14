/**
 * The one owner of the `jit_requests` table: access and extension requests, their decisions, their expiry (the
 * janitor's batches) and the outbox of the one notice that tells the requester how each ended. Every read a member's
 * action leads to is scoped to a guild: a request of another guild is not found, exactly like a missing id.
 */
import type Database from 'better-sqlite3';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { jitRequests, type DatabaseHandle, type Db, type JitRequestKind, type JitRequestStatus } from '../db/index.js';
import { shardCondition, type ShardScope } from '../sharding/shard-scope.js';
import type { JitProvider, PermissionLevel } from './levels.js';

export type { JitRequestKind, JitRequestStatus };

/** One request as the rest of the bot sees it. */
export interface JitRequest {
  id: number;
  guildId: string;
  kind: JitRequestKind;
  requesterId: string;
  provider: JitProvider;
  level: PermissionLevel;
  /** Minutes asked for: the grant's length, or the time to add (extension). */
  durationMinutes: number;
  reason: string;
  /** Extension: the grant to extend. Approved access: the grant made. */
  grantId: number | null;
  /** Null for a self-extension, which nobody reviews. */
  reviewChannelId: string | null;
  status: JitRequestStatus;
  createdAt: number;
  expiresAt: number;
  decidedBy: string | null;
  decidedAt: number | null;
  approvedMinutes: number | null;
  decisionNote: string | null;
}

export type NewJitRequest = Pick<
  JitRequest,
  'guildId' | 'kind' | 'requesterId' | 'provider' | 'level' | 'durationMinutes' | 'reason' | 'grantId' | 'reviewChannelId' | 'createdAt' | 'expiresAt'
>;

/** How a pending request was closed; `notify` queues the requester's notice in the same statement. */
export interface Decision {
  status: 'approved' | 'denied' | 'expired';
  by: string | null;
  at: number;
  approvedMinutes?: number;
  note?: string | null;
  grantId?: number | null;
  notify: boolean;
}

export type RequestNoticeOutcome = 'sent' | 'fallback' | 'failed';

type Row = typeof jitRequests.$inferSelect;

function toRequest(row: Row): JitRequest {
  return {
    id: row.id,
    guildId: row.guild_id,
    kind: row.kind,
    requesterId: row.requester_id,
    provider: row.provider,
    level: row.permission_level,
    durationMinutes: row.duration_minutes,
    reason: row.reason,
    grantId: row.grant_id,
    reviewChannelId: row.review_channel_id,
    status: row.status,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    approvedMinutes: row.approved_minutes,
    decisionNote: row.decision_note,
  };
}

/**
 * What the expiry batch returns, read loosely on purpose: a row with an odd value (hand-edited, from a future version)
 * must still be expired and audited, never block every later expiry by failing the batch.
 */
const expiredRowSchema = z.object({
  id: z.number().int(),
  guild_id: z.string(),
  kind: z.string(),
  requester_id: z.string(),
  provider: z.string(),
  permission_level: z.string(),
  grant_id: z.number().int().nullable(),
});
export type ExpiredRequestRow = z.infer<typeof expiredRowSchema>;

/** A guild's open requests at @now, oldest first: /cloud-jit-list's query, for everyone or one requester. */
function pendingQuery(db: Db, oneRequester: boolean) {
  return db
    .select()
    .from(jitRequests)
    .where(
      and(
        eq(jitRequests.guild_id, sql.placeholder('guildId')),
        eq(jitRequests.status, 'pending'),
        oneRequester ? eq(jitRequests.requester_id, sql.placeholder('requesterId')) : undefined,
        gt(jitRequests.expires_at, sql.placeholder('now')),
      ),
    )
    .orderBy(asc(jitRequests.id))
    .prepare();
}

export class JitRequestRepository {
  readonly #db: Db;
  readonly #sqlite: Database.Database;
  readonly #expireBatch: Database.Statement;
  readonly #selectPendingNotices: Database.Statement;
  // Prepared once, like the grants in force: building and preparing each call was most of /cloud-jit-list's cost.
  readonly #pending: ReturnType<typeof pendingQuery>;
  readonly #pendingOfRequester: ReturnType<typeof pendingQuery>;

  /** `shard`: the janitor's expiry and notice sweep see only the guilds this shard serves (one sender per notice). */
  constructor(handle: Pick<DatabaseHandle, 'db' | 'sqlite'>, options: { shard?: ShardScope } = {}) {
    this.#db = handle.db;
    this.#sqlite = handle.sqlite;
    const ownGuilds = shardCondition(options.shard);
    // Walks the partial index jit_requests_pending_due; closing and queuing the notice is one statement, so a crash
    // cannot expire a request without its notice.
    this.#expireBatch = this.#sqlite.prepare(
      `UPDATE jit_requests SET status = 'expired', decided_at = @now, notice_status = 'pending'
        WHERE id IN (SELECT id FROM jit_requests WHERE status = 'pending' AND expires_at <= @now${ownGuilds} ORDER BY expires_at LIMIT @limit)
        RETURNING id, guild_id, kind, requester_id, provider, permission_level, grant_id`,
    );
    this.#selectPendingNotices = this.#sqlite.prepare(
      `SELECT id FROM jit_requests WHERE notice_status = 'pending'${ownGuilds} AND id > @after ORDER BY id LIMIT @limit`,
    );
    this.#pending = pendingQuery(this.#db, false);
    this.#pendingOfRequester = pendingQuery(this.#db, true);
  }

  /** Runs `work` in one transaction (a savepoint when already in one), audit entries written meanwhile included. */
  transaction<T>(work: () => T): T {
    return this.#sqlite.transaction(work)();
  }

  /** A new request, pending; or already `decided` (a self-extension, which nobody reviews). */
  insert(request: NewJitRequest, decided?: Omit<Decision, 'notify' | 'note'>): JitRequest {
    const row = this.#db
      .insert(jitRequests)
      .values({
        ...(decided
          ? { status: decided.status, decided_by: decided.by, decided_at: decided.at, approved_minutes: decided.approvedMinutes ?? null }
          : {}),
        guild_id: request.guildId,
        kind: request.kind,
        requester_id: request.requesterId,
        provider: request.provider,
        permission_level: request.level,
        duration_minutes: request.durationMinutes,
        reason: request.reason,
        grant_id: request.grantId,
        review_channel_id: request.reviewChannelId,
        created_at: request.createdAt,
        expires_at: request.expiresAt,
      })
      .returning()
      .get();
    return toRequest(row);
  }

  /** One request of the guild by id (another guild's is undefined, like a missing id). */
  findInGuild(guildId: string, requestId: number): JitRequest | undefined {
    const row = this.#db
      .select()
      .from(jitRequests)
      .where(and(eq(jitRequests.id, requestId), eq(jitRequests.guild_id, guildId)))
      .get();
    return row ? toRequest(row) : undefined;
  }

  /**
   * Closes a request that is still pending at `decision.at` (not past its expiry, unless expiring it); undefined when
   * it was not (decided meanwhile, by another press or process, or expired): the caller must not act on it.
   */
  decide(guildId: string, requestId: number, decision: Decision): JitRequest | undefined {
    const row = this.#db
      .update(jitRequests)
      .set({
        status: decision.status,
        decided_by: decision.by,
        decided_at: decision.at,
        approved_minutes: decision.approvedMinutes ?? null,
        decision_note: decision.note ?? null,
        ...(decision.grantId !== undefined ? { grant_id: decision.grantId } : {}),
        ...(decision.notify ? { notice_status: 'pending' as const } : {}),
      })
      .where(
        and(
          eq(jitRequests.id, requestId),
          eq(jitRequests.guild_id, guildId),
          eq(jitRequests.status, 'pending'),
          decision.status === 'expired' ? undefined : sql`${jitRequests.expires_at} > ${decision.at}`,
        ),
      )
      .returning()
      .get();
    return row ? toRequest(row) : undefined;
  }

  /** Pending requests of a guild (optionally one member's), oldest first; those past expiry are left out. */
  listPending(guildId: string, now: number, requesterId?: string): JitRequest[] {
    const rows = requesterId === undefined ? this.#pending.all({ guildId, now }) : this.#pendingOfRequester.all({ guildId, now, requesterId });
    return rows.map(toRequest);
  }

  /** Minutes a member added to a grant by self-extension so far (decided by themselves, without review). */
  selfExtendedMinutes(grantId: number): number {
    const row = this.#db
      .select({ total: sql<number>`coalesce(sum(${jitRequests.approved_minutes}), 0)` })
      .from(jitRequests)
      .where(
        and(
          eq(jitRequests.grant_id, grantId),
          eq(jitRequests.kind, 'extension'),
          eq(jitRequests.status, 'approved'),
          sql`${jitRequests.decided_by} = ${jitRequests.requester_id}`,
        ),
      )
      .get();
    return row?.total ?? 0;
  }

  /** The channel the access request that made this grant was reviewed in, if it came from one. */
  reviewChannelOfGrant(guildId: string, grantId: number): string | undefined {
    return (this.#db
      .select({ channel: jitRequests.review_channel_id })
      .from(jitRequests)
      .where(and(eq(jitRequests.guild_id, guildId), eq(jitRequests.grant_id, grantId), eq(jitRequests.kind, 'access')))
      .get()?.channel) ?? undefined;
  }

  /** Expires up to `limit` pending requests due at `now` and queues each one's notice, in one statement. */
  expireDue(now: number, limit: number): ExpiredRequestRow[] {
    return this.#expireBatch.all({ now, limit }).map((raw) => expiredRowSchema.parse(raw));
  }

  /** Ids of up to `limit` requests whose notice is queued, after id `after`, oldest first. */
  pendingNoticeIds(after: number, limit: number): number[] {
    return this.#selectPendingNotices.all({ after, limit }).map((raw) => z.object({ id: z.number().int() }).parse(raw).id);
  }

  /** The request if its notice is still queued (read fresh, right before sending), with the tries made so far. */
  queuedNotice(requestId: number): { request: JitRequest; attempts: number } | undefined {
    const row = this.#db
      .select()
      .from(jitRequests)
      .where(and(eq(jitRequests.id, requestId), eq(jitRequests.notice_status, 'pending')))
      .get();
    return row ? { request: toRequest(row), attempts: row.notice_attempts } : undefined;
  }

  /** Closes a queued notice: delivered by DM, posted in a channel instead, or given up. */
  markNotified(requestId: number, outcome: RequestNoticeOutcome, now: number, error: string | null): void {
    this.#db
      .update(jitRequests)
      .set({ notice_status: outcome, notified_at: now, notice_attempts: sql`${jitRequests.notice_attempts} + 1`, notice_error: error })
      .where(and(eq(jitRequests.id, requestId), eq(jitRequests.notice_status, 'pending')))
      .run();
  }

  /** Counts a failed try; the notice stays queued until `maxAttempts` tries, then is marked failed. */
  markNoticeAttemptFailed(requestId: number, error: string, maxAttempts: number): void {
    this.#db
      .update(jitRequests)
      .set({
        notice_attempts: sql`${jitRequests.notice_attempts} + 1`,
        notice_error: error,
        notice_status: sql`CASE WHEN ${jitRequests.notice_attempts} + 1 >= ${maxAttempts} THEN 'failed' ELSE 'pending' END`,
      })
      .where(and(eq(jitRequests.id, requestId), eq(jitRequests.notice_status, 'pending')))
      .run();
  }
}
