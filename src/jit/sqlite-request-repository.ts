/**
 * The JIT requests on SQLite (see request-repository.ts for what each method does): statements prepared once, run
 * synchronously inside async methods, so a unit of work over them never awaits I/O (src/db/data-access.ts).
 */
import type Database from 'better-sqlite3';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { SYSTEM_USER } from '../audit/audit-log.js';
import type { SqliteSession } from '../db/data-access.js';
import { jitRequests, type Db } from '../db/index.js';
import { shardCondition } from '../sharding/shard-scope.js';
import type { Decision, JitRequest, NewJitRequest, RequestNoticeOutcome, RequestRepository, RequestRepositoryOptions } from './request-repository.js';
import { decidable, selfExtensionsOf } from './request-conditions.js';
import { decisionColumns, newRequestRow, EXPIRY_DETAILS_SQLITE, toNoticeId, toRequest } from './request-rows.js';

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

export class SqliteRequestRepository implements RequestRepository {
  readonly #db: Db;
  readonly #sqlite: Database.Database;
  readonly #auditDue: Database.Statement;
  readonly #expireBatch: Database.Statement;
  readonly #selectPendingNotices: Database.Statement;
  // Prepared once, like the grants in force: building and preparing each call was most of /cloud-jit-list's cost.
  readonly #pending: ReturnType<typeof pendingQuery>;
  readonly #pendingOfRequester: ReturnType<typeof pendingQuery>;

  static over(session: SqliteSession, options: RequestRepositoryOptions = {}): SqliteRequestRepository {
    return new SqliteRequestRepository(session, options);
  }

  constructor(handle: Pick<SqliteSession, 'db' | 'sqlite'>, options: RequestRepositoryOptions = {}) {
    this.#db = handle.db;
    this.#sqlite = handle.sqlite;
    const ownGuilds = shardCondition(options.shard);
    // One expiry batch is these two statements in one transaction, set-based, as the grants' is: both walk the
    // partial index jit_requests_pending_due in (expires_at, id) order on one snapshot, so they pick the same
    // requests. The audit entry is written first, while the rows still read as due, in the shape AuditLog writes.
    const due = `SELECT id FROM jit_requests WHERE status = 'pending' AND expires_at <= @now${ownGuilds} ORDER BY expires_at, id LIMIT @limit`;
    this.#auditDue = this.#sqlite.prepare(
      `INSERT INTO audit_log (guild_id, user_id, action, target, outcome, details, created_at)
       SELECT guild_id, '${SYSTEM_USER}', 'jit.request.expire', substr(requester_id, 1, 200), 'success', ${EXPIRY_DETAILS_SQLITE}, @now
         FROM jit_requests WHERE id IN (${due}) ORDER BY expires_at, id`,
    );
    // Closing and queuing the notice is one statement, so a crash cannot expire a request without its notice.
    this.#expireBatch = this.#sqlite.prepare(
      `UPDATE jit_requests SET status = 'expired', decided_at = @now, notice_status = 'pending' WHERE id IN (${due})`,
    );
    this.#selectPendingNotices = this.#sqlite.prepare(
      `SELECT id FROM jit_requests WHERE notice_status = 'pending'${ownGuilds} AND id > @after ORDER BY id LIMIT @limit`,
    );
    this.#pending = pendingQuery(this.#db, false);
    this.#pendingOfRequester = pendingQuery(this.#db, true);
  }

  /** A new request, pending; or already `decided` (a self-extension, which nobody reviews). */
  async insert(request: NewJitRequest, decided?: Omit<Decision, 'notify' | 'note'>): Promise<JitRequest> {
    const row = this.#db
      .insert(jitRequests)
      .values(newRequestRow(request, decided))
      .returning()
      .get();
    return toRequest(row);
  }

  /** One request of the guild by id (another guild's is undefined, like a missing id). */
  async findInGuild(guildId: string, requestId: number): Promise<JitRequest | undefined> {
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
  async decide(guildId: string, requestId: number, decision: Decision): Promise<JitRequest | undefined> {
    const row = this.#db
      .update(jitRequests)
      .set(decisionColumns(decision))
      .where(decidable(jitRequests, guildId, requestId, decision))
      .returning()
      .get();
    return row ? toRequest(row) : undefined;
  }

  /** Pending requests of a guild (optionally one member's), oldest first; those past expiry are left out. */
  async listPending(guildId: string, now: number, requesterId?: string): Promise<JitRequest[]> {
    const rows = requesterId === undefined ? this.#pending.all({ guildId, now }) : this.#pendingOfRequester.all({ guildId, now, requesterId });
    return rows.map(toRequest);
  }

  /** Minutes a member added to a grant by self-extension so far (decided by themselves, without review). */
  async selfExtendedMinutes(grantId: number): Promise<number> {
    const row = this.#db
      .select({ total: sql<number>`coalesce(sum(${jitRequests.approved_minutes}), 0)` })
      .from(jitRequests)
      .where(selfExtensionsOf(jitRequests, grantId))
      .get();
    return row?.total ?? 0;
  }

  /** The channel the access request that made this grant was reviewed in, if it came from one. */
  async reviewChannelOfGrant(guildId: string, grantId: number): Promise<string | undefined> {
    return (this.#db
      .select({ channel: jitRequests.review_channel_id })
      .from(jitRequests)
      .where(and(eq(jitRequests.guild_id, guildId), eq(jitRequests.grant_id, grantId), eq(jitRequests.kind, 'access')))
      .get()?.channel) ?? undefined;
  }

  // Synchronous and self-contained (a savepoint inside a unit of work): two connections' janitors in one process
  // never hold a transaction open across each other's microtasks.
  async expireDue(now: number, limit: number): Promise<number> {
    return this.#sqlite.transaction(() => {
      this.#auditDue.run({ now, limit });
      return this.#expireBatch.run({ now, limit }).changes;
    })();
  }

  /** One process per database (or per shard) on SQLite: the process lock sees to that, so nothing to exclude. */
  deliveringNotices<T>(work: () => Promise<T>): Promise<T | undefined> {
    return work();
  }

  /** Ids of up to `limit` requests whose notice is queued, after id `after`, oldest first. */
  async pendingNoticeIds(after: number, limit: number): Promise<number[]> {
    return this.#selectPendingNotices.all({ after, limit }).map(toNoticeId);
  }

  /** The request if its notice is still queued (read fresh, right before sending), with the tries made so far. */
  async queuedNotice(requestId: number): Promise<{ request: JitRequest; attempts: number } | undefined> {
    const row = this.#db
      .select()
      .from(jitRequests)
      .where(and(eq(jitRequests.id, requestId), eq(jitRequests.notice_status, 'pending')))
      .get();
    return row ? { request: toRequest(row), attempts: row.notice_attempts } : undefined;
  }

  /** Closes a queued notice: delivered by DM, posted in a channel instead, or given up. */
  async markNotified(requestId: number, outcome: RequestNoticeOutcome, now: number, error: string | null): Promise<void> {
    this.#db
      .update(jitRequests)
      .set({ notice_status: outcome, notified_at: now, notice_attempts: sql`${jitRequests.notice_attempts} + 1`, notice_error: error })
      .where(and(eq(jitRequests.id, requestId), eq(jitRequests.notice_status, 'pending')))
      .run();
  }

  /** Counts a failed try; the notice stays queued until `maxAttempts` tries, then is marked failed. */
  async markNoticeAttemptFailed(requestId: number, error: string, maxAttempts: number): Promise<void> {
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
