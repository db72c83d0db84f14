/**
 * The time-to-live columns of `cloud_resources` (the deployment rows): the TTL asked at deploy, the clock started at
 * apply, extensions, and the janitor's destroys at expiry with their backoff. Every write is compare-and-set on the
 * row's guild and state, so a press and the janitor racing on one deployment (in one process or two) cannot both
 * act. Two implementations over a Session (src/db/data-access.ts): sqlite-ttl-repository.ts, pg-ttl-repository.ts.
 */
import type { Session } from '../db/data-access.js';
import type { NoticeStatus, ResourceStatus } from '../db/schema.js';
import type { ShardScope } from '../sharding/shard-scope.js';
import { PgTtlRepository } from './pg-ttl-repository.js';
import { SqliteTtlRepository } from './sqlite-ttl-repository.js';

/** A deployment with a time to live, as the TTL jobs and buttons see it. */
export interface TtlDeployment {
  id: number;
  guildId: string;
  projectId: number;
  /** The deployer: who is reminded and told. */
  createdBy: string;
  template: string;
  status: ResourceStatus;
  ttlMs: number | null;
  expiresAt: number | null;
  ttlSetAt: number | null;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  expiredAt: number | null;
  noticeStatus: NoticeStatus | null;
  /** The deployer has the DM of the "expired" notice (a refused DM is not recorded); only the channel post may be left. */
  noticeDirectDone: boolean;
}

export interface TtlRepository {
  /** The time to live a planned deployment asked for (null: none). */
  setTtl(guildId: string, id: number, ttlMs: number | null): Promise<void>;
  /** Starts the clock of an applied deployment that asked for a time to live; its end, or null when it has none. */
  start(guildId: string, id: number, now: number): Promise<number | null>;
  /** The deployment, in this guild only. */
  find(guildId: string, id: number): Promise<TtlDeployment | undefined>;
  /** The deployment whatever its guild: for a press in a DM, where only the row says which guild it is about. */
  findAnywhere(id: number): Promise<TtlDeployment | undefined>;
  /** Moves the end from `was` to `expiresAt`; false when the row changed meanwhile (another press, the janitor). */
  extend(guildId: string, id: number, was: number, expiresAt: number, now: number): Promise<boolean>;
  /** Deployments whose time is up and whose next try is due, soonest end first (this shard's guilds). */
  due(now: number, limit: number): Promise<TtlDeployment[]>;
  /** Takes the next try of the destroy, pushing the one after to `nextAt`; false when someone else took it. */
  claim(id: number, now: number, nextAt: number): Promise<boolean>;
  recordFailure(id: number, error: string): Promise<void>;
  /** Destroyed because its time was up; the notice saying so is queued in the same statement. */
  markExpired(id: number, now: number): Promise<void>;
  /** No end any more: destroyed by someone else first, or nothing left to destroy. */
  clear(id: number): Promise<void>;
  /** Makes the deployment's end now (Destroy now): if the destroy fails, the janitor tries again as at any end. */
  dueNow(guildId: string, id: number, now: number): Promise<void>;
  /**
   * Runs `work` (delivering "expired" notices) unless another process delivers this shard's right now; undefined
   * then. Every delivery of these notices goes through it, so none is sent by two processes at once.
   */
  deliveringNotices<T>(work: () => Promise<T>): Promise<T | undefined>;
  /** Up to `limit` deployments whose "expired" notice is queued, oldest first (this shard's guilds). */
  pendingNotices(limit: number): Promise<TtlDeployment[]>;
  markNotice(id: number, status: NoticeStatus): Promise<void>;
  /** The DM part of a pending notice is done; a redelivery after a crash posts to the channel only. */
  markNoticeDirectDone(id: number): Promise<void>;
}

export interface TtlRepositoryOptions {
  /**
   * The janitor's statements (what is due, the notices left queued) see only the guilds this shard serves, so that
   * with several shards on one database each deployment is destroyed at its end, and told, by one of them.
   */
  shard?: ShardScope;
}

export function ttlRepositoryFor(session: Session, options: TtlRepositoryOptions = {}): TtlRepository {
  return session.dialect === 'sqlite' ? new SqliteTtlRepository(session, options) : new PgTtlRepository(session, options);
}
