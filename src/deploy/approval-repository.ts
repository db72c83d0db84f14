/**
 * The one owner of the `deploy_approvals` table: deployments waiting for an admin's approval, their decision, their
 * expiry (the janitor's batches) and the outbox of the one notice telling the requester how it ended. Every read a
 * member's press leads to is scoped to a guild: another guild's approval is not found, exactly like a missing id.
 * Asynchronous, on either dialect (sqlite-approval-repository.ts, pg-approval-repository.ts); a decision and its
 * audit entry are written in one unit of work (DeployApprovalUnits).
 */
import { auditWriterFor, type AuditWriter } from '../audit/audit-writer.js';
import { UnitOfWork, type DataAccess, type Session } from '../db/data-access.js';
import type { DeployApprovalStatus } from '../db/index.js';
import type { PostedMessage } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import type { ShardScope } from '../sharding/shard-scope.js';
import { PgDeployApprovalRepository } from './pg-approval-repository.js';
import { SqliteDeployApprovalRepository } from './sqlite-approval-repository.js';

export type { DeployApprovalStatus };

/** Why a check at the press (or the janitor) closed a request without an admin's answer. */
export type CloseReason = 'policy' | 'plan_gone' | 'resource_gone';

/** One approval request as the rest of the bot sees it. */
export interface DeployApprovalRecord {
  id: number;
  guildId: string;
  projectId: number;
  resourceId: number;
  planRunId: number;
  planSha256: string;
  /** The plan's resources as the policy reads them (JSON, checked when read back: see approval-restore.ts). */
  plannedResourcesJson: string;
  requester: { id: string; isGuildAdmin: boolean };
  confirmedBy: { id: string; isGuildAdmin: boolean };
  credential: string | null;
  /** Which credential the plan was made with, as shown to members (no secret). */
  credentialLabel: string;
  channelId: string;
  status: DeployApprovalStatus;
  requestedAt: number;
  expiresAt: number;
  decidedBy: string | null;
  decidedAt: number | null;
  closeReason: CloseReason | null;
  /** Where its card was posted; null until the post said where (or if it never landed). */
  card: PostedMessage | null;
}

export type NewDeployApproval = Omit<DeployApprovalRecord, 'id' | 'status' | 'decidedBy' | 'decidedAt' | 'closeReason' | 'card'>;

/** What the expiry batch returns of each approval it expired. */
export type ExpiredApprovalRow = { id: number; guild_id: string; requester_id: string };

export interface ApprovalDecision {
  status: Exclude<DeployApprovalStatus, 'pending'>;
  by: string | null;
  at: number;
  reason?: CloseReason;
  /** Queue the requester's notice with the decision (false: nobody needs telling, e.g. a card never posted). */
  notify: boolean;
}

export interface DeployApprovalRepository {
  insert(approval: NewDeployApproval): Promise<DeployApprovalRecord>;
  /**
   * Keeps where the card was posted. Were the request closed meanwhile (the janitor ran between the post and this),
   * the card's edit is queued now, as the closing would have done.
   */
  recordCard(guildId: string, approvalId: number, card: PostedMessage): Promise<void>;
  /** One approval of the guild by id (another guild's is undefined, like a missing id). */
  findInGuild(guildId: string, approvalId: number): Promise<DeployApprovalRecord | undefined>;
  /**
   * Closes an approval still pending at `decision.at` (and, unless expiring it, not past its expiry), queuing the
   * requester's notice in the same statement. Undefined when it was not pending: someone else decided first (a
   * second press, a second reviewer, another process), and the caller must not act on it.
   */
  decide(guildId: string, approvalId: number, decision: ApprovalDecision): Promise<DeployApprovalRecord | undefined>;
  /**
   * Expires up to `limit` pending approvals due at `now`, queuing each one's notice in the same statement and writing
   * its audit entry (the janitor's, `system`) in the same transaction. Of two processes expiring at once, each
   * approval is expired, audited and returned by one.
   */
  expireDue(now: number, limit: number): Promise<ExpiredApprovalRow[]>;
  /**
   * Runs `work` (a janitor's sweep of queued notices or card edits) unless another process sweeps this shard's
   * right now; undefined then (src/db/exclusive-delivery.ts).
   */
  delivering<T>(work: () => Promise<T>): Promise<T | undefined>;
  /** Ids of up to `limit` approvals whose notice is queued, after id `after`, oldest first. */
  pendingNoticeIds(after: number, limit: number): Promise<number[]>;
  /** The approval if its notice is still queued (read fresh, right before sending), with the tries so far. */
  queuedNotice(approvalId: number): Promise<{ approval: DeployApprovalRecord; attempts: number } | undefined>;
  /** Ids of up to `limit` approvals whose card's edit is queued, after id `after`, oldest first (this shard's guilds). */
  pendingCardEditIds(after: number, limit: number): Promise<number[]>;
  /** The approval if its card's edit is still queued (read fresh, right before editing), with the tries so far. */
  queuedCardEdit(approvalId: number): Promise<{ approval: DeployApprovalRecord; attempts: number } | undefined>;
  /** Closes a queued card edit: done, given up for good, or tried again later until `maxAttempts`. */
  markCardEdit(approvalId: number, outcome: 'edited' | 'failed' | 'retry', maxAttempts: number): Promise<void>;
  /** Closes a queued notice: delivered by DM, posted in the channel instead, or given up after `maxAttempts`. */
  markNotice(approvalId: number, outcome: 'sent' | 'fallback' | 'failed' | 'retry', maxAttempts: number): Promise<void>;
}

export interface DeployApprovalRepositoryOptions {
  /**
   * The janitor's expiry batch and notice sweep see only the guilds this shard serves, so that with several shards
   * on one database each expired approval is closed, audited and told by exactly one of them.
   */
  shard?: ShardScope;
}

export function deployApprovalRepositoryFor(session: Session, options: DeployApprovalRepositoryOptions = {}): DeployApprovalRepository {
  return session.dialect === 'sqlite' ? new SqliteDeployApprovalRepository(session, options) : new PgDeployApprovalRepository(session, options);
}

/** What a decision (or the janitor's expiry) writes together: the approvals and the audit entries recording them. */
export interface DeployApprovalRepositories {
  approvals: DeployApprovalRepository;
  audit: AuditWriter;
}

export type DeployApprovalUnits = UnitOfWork<DeployApprovalRepositories>;

export function deployApprovalUnits(data: DataAccess, options: DeployApprovalRepositoryOptions & { clock: Clock }): DeployApprovalUnits {
  return new UnitOfWork(data, (session) => ({ approvals: deployApprovalRepositoryFor(session, options), audit: auditWriterFor(session, options.clock) }));
}
