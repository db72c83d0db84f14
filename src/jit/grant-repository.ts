/**
 * The one owner of the `jit_permissions` table, as the services and the janitor see it: every read and write of a
 * JIT grant (grant, revoke, list, check; expire in batches, the expiry-notice outbox), asynchronous, on either
 * dialect (src/db/data-access.ts says how; sqlite-grant-repository.ts and pg-grant-repository.ts are the two).
 */
import type { Session } from '../db/data-access.js';
import type { ShardScope } from '../sharding/shard-scope.js';
import type { JitProvider, PermissionLevel } from './levels.js';
import { PgGrantRepository } from './pg-grant-repository.js';
import { SqliteGrantRepository } from './sqlite-grant-repository.js';

/** One JIT grant as the rest of the bot sees it. */
export interface JitGrant {
  id: number;
  guildId: string;
  userId: string;
  provider: JitProvider;
  level: PermissionLevel;
  reason: string | null;
  grantedAt: number;
  expiresAt: number;
  grantedBy: string;
  revoked: boolean;
  revokedAt: number | null;
  revokedBy: string | null;
  revokeReason: 'manual' | 'expired' | null;
}

/** A grant about to be made: everything but its id and the revocation, which come later. */
export type NewGrant = Omit<JitGrant, 'id' | 'revoked' | 'revokedAt' | 'revokedBy' | 'revokeReason'>;

/** A queued expiry notice: the grant it is about, or why its row could not be read. */
export type PendingNotice = { id: number } & ({ grant: JitGrant; attempts: number } | { grant?: undefined; problem: string });

export type NoticeOutcome = 'sent' | 'fallback' | 'failed';

export interface MemberGrantsQuery {
  guildId: string;
  userId: string;
  providers: JitProvider[];
  now: number;
}

export interface GrantRepository {
  insert(grant: NewGrant): Promise<JitGrant>;
  /** One grant of the guild by id (another guild's is undefined, like a missing id). */
  findInGuild(guildId: string, grantId: number): Promise<JitGrant | undefined>;
  /** One grant held by `userId`, in whichever guild (a press in a DM names only the grant); others' are undefined. */
  findOfMember(userId: string, grantId: number): Promise<JitGrant | undefined>;
  /** Revokes one grant by hand unless already revoked; the revoked grant, or undefined when it already was. */
  revokeManually(grantId: number, revokedBy: string, now: number): Promise<JitGrant | undefined>;
  /** Revokes by hand every grant of a member still in force at `now`; those revoked. */
  revokeActiveOfMember(guildId: string, userId: string, revokedBy: string, now: number): Promise<JitGrant[]>;
  /** Grants in force at `now` in a guild (optionally one member's), soonest expiry first (then by id). */
  listActive(guildId: string, now: number, userId?: string): Promise<JitGrant[]>;
  /** The levels of a member's grants in force at `now` for any of `providers`. */
  activeLevels(query: MemberGrantsQuery): Promise<PermissionLevel[]>;
  /** The member's latest grant for any of `providers` no longer in force at `now` (expired or revoked). */
  lastEnded(query: MemberGrantsQuery): Promise<JitGrant | undefined>;
  /** Moves a grant still in force at `now` to expire at `expiresAt`; undefined when it has ended (or is another guild's). */
  extend(guildId: string, grantId: number, expiresAt: number, now: number): Promise<JitGrant | undefined>;
  /**
   * Revokes up to `limit` grants due at `now`, writes each one's `jit.expire` audit entry and queues its expiry
   * notice, atomically; how many it revoked. Fewer than `limit` means none is left due (for this process: on
   * PostgreSQL, grants another process is expiring right now are skipped, and are that process's to count).
   */
  expireDue(now: number, limit: number): Promise<number>;
  /**
   * Runs `work` (the delivery of pending notices) unless another process is delivering this shard's notices right
   * now; undefined when it is. Two processes never read the same pending notice, so none is sent twice.
   */
  deliveringNotices<T>(work: () => Promise<T>): Promise<T | undefined>;
  /** Up to `limit` queued expiry notices after grant id `after`, oldest first. */
  pendingNotices(after: number, limit: number): Promise<PendingNotice[]>;
  /** Closes a pending notice: delivered by DM, posted in the channel instead, or given up. */
  markNotified(grantId: number, outcome: NoticeOutcome, now: number, error: string | null): Promise<void>;
  /** Counts a failed try; the notice stays pending until `maxAttempts` tries, then is marked failed. */
  markNoticeAttemptFailed(grantId: number, error: string, maxAttempts: number): Promise<void>;
}

export interface GrantRepositoryOptions {
  /**
   * The janitor's batch statements (expiry, pending notices) see only the guilds this shard serves, so that with
   * several shards on one database each expired grant is revoked and noticed by exactly one of them.
   */
  shard?: ShardScope;
}

/** The grant repository of the session's dialect. */
export function grantRepositoryFor(session: Session, options: GrantRepositoryOptions = {}): GrantRepository {
  return session.dialect === 'sqlite' ? SqliteGrantRepository.over(session, options) : new PgGrantRepository(session, options);
}
