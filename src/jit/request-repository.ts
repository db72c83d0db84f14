/**
 * The one owner of the `jit_requests` table: access and extension requests, their decisions, their expiry (the
 * janitor's batches) and the outbox of the one notice that tells the requester how each ended. Every read a member's
 * action leads to is scoped to a guild: a request of another guild is not found, exactly like a missing id.
 * Asynchronous, on either dialect (src/db/data-access.ts says how; sqlite-request-repository.ts and
 * pg-request-repository.ts are the two).
 */
import type { Session } from '../db/data-access.js';
import type { JitRequestKind, JitRequestStatus } from '../db/index.js';
import type { ShardScope } from '../sharding/shard-scope.js';
import type { JitProvider, PermissionLevel } from './levels.js';
import { PgRequestRepository } from './pg-request-repository.js';
import { SqliteRequestRepository } from './sqlite-request-repository.js';

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

export interface RequestRepository {
  /** A new request, pending; or already `decided` (a self-extension, which nobody reviews). */
  insert(request: NewJitRequest, decided?: Omit<Decision, 'notify' | 'note'>): Promise<JitRequest>;
  /** One request of the guild by id (another guild's is undefined, like a missing id). */
  findInGuild(guildId: string, requestId: number): Promise<JitRequest | undefined>;
  /**
   * Closes a request that is still pending at `decision.at` (not past its expiry, unless expiring it); undefined when
   * it was not (decided meanwhile, by another press or process, or expired): the caller must not act on it.
   */
  decide(guildId: string, requestId: number, decision: Decision): Promise<JitRequest | undefined>;
  /** Pending requests of a guild (optionally one member's), oldest first; those past expiry are left out. */
  listPending(guildId: string, now: number, requesterId?: string): Promise<JitRequest[]>;
  /** Minutes a member added to a grant by self-extension so far (decided by themselves, without review). */
  selfExtendedMinutes(grantId: number): Promise<number>;
  /** The channel the access request that made this grant was reviewed in, if it came from one. */
  reviewChannelOfGrant(guildId: string, grantId: number): Promise<string | undefined>;
  /**
   * Expires up to `limit` pending requests due at `now`, writes each one's `jit.request.expire` audit entry and
   * queues its notice, atomically; how many it expired. Fewer than `limit` means none is left due (on PostgreSQL,
   * requests another process is expiring right now are skipped, and are that process's to count).
   */
  expireDue(now: number, limit: number): Promise<number>;
  /**
   * Runs `work` (the delivery of queued notices) unless another process is delivering this shard's request notices
   * right now; undefined when it is.
   */
  deliveringNotices<T>(work: () => Promise<T>): Promise<T | undefined>;
  /** Ids of up to `limit` requests whose notice is queued, after id `after`, oldest first. */
  pendingNoticeIds(after: number, limit: number): Promise<number[]>;
  /** The request if its notice is still queued (read fresh, right before sending), with the tries made so far. */
  queuedNotice(requestId: number): Promise<{ request: JitRequest; attempts: number } | undefined>;
  /** Closes a queued notice: delivered by DM, posted in a channel instead, or given up. */
  markNotified(requestId: number, outcome: RequestNoticeOutcome, now: number, error: string | null): Promise<void>;
  /** Counts a failed try; the notice stays queued until `maxAttempts` tries, then is marked failed. */
  markNoticeAttemptFailed(requestId: number, error: string, maxAttempts: number): Promise<void>;
}

export interface RequestRepositoryOptions {
  /** The janitor's expiry and notice sweep see only the guilds this shard serves (one sender per notice). */
  shard?: ShardScope;
}

/** The request repository of the session's dialect. */
export function requestRepositoryFor(session: Session, options: RequestRepositoryOptions = {}): RequestRepository {
  return session.dialect === 'sqlite' ? SqliteRequestRepository.over(session, options) : new PgRequestRepository(session, options);
}
