/**
 * The one owner of the `deploy_approvals` table: deployments waiting for an admin's approval, their decision, their
 * expiry (the janitor's batches) and the outbox of the one notice telling the requester how it ended. Every read a
 * member's press leads to is scoped to a guild: another guild's approval is not found, exactly like a missing id.
 */
import type Database from 'better-sqlite3';
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { deployApprovals, type DatabaseHandle, type DeployApprovalStatus, type Db } from '../db/index.js';
import type { PostedMessage } from '../notify/notifier.js';
import { shardCondition, type ShardScope } from '../sharding/shard-scope.js';

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

type Row = typeof deployApprovals.$inferSelect;

const closeReasonSchema = z.enum(['policy', 'plan_gone', 'resource_gone']).nullable().catch(null);

function toRecord(row: Row): DeployApprovalRecord {
  return {
    id: row.id,
    guildId: row.guild_id,
    projectId: row.project_id,
    resourceId: row.resource_id,
    planRunId: row.plan_run_id,
    planSha256: row.plan_sha256,
    plannedResourcesJson: row.planned_resources,
    requester: { id: row.requester_id, isGuildAdmin: row.requester_is_admin },
    confirmedBy: { id: row.confirmed_by, isGuildAdmin: row.confirmed_by_admin },
    credential: row.credential,
    credentialLabel: row.credential_label,
    channelId: row.channel_id,
    status: row.status,
    requestedAt: row.requested_at,
    expiresAt: row.expires_at,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    closeReason: closeReasonSchema.parse(row.close_reason),
    card: row.card_channel_id !== null && row.card_message_id !== null ? { channelId: row.card_channel_id, messageId: row.card_message_id } : null,
  };
}

/** What the expiry batch returns, read loosely: one odd row must not block every later expiry. */
const expiredRowSchema = z.object({ id: z.number().int(), guild_id: z.string(), requester_id: z.string() });
export type ExpiredApprovalRow = z.infer<typeof expiredRowSchema>;

export interface ApprovalDecision {
  status: Exclude<DeployApprovalStatus, 'pending'>;
  by: string | null;
  at: number;
  reason?: CloseReason;
  /** Queue the requester's notice with the decision (false: nobody needs telling, e.g. a card never posted). */
  notify: boolean;
}

export class DeployApprovalRepository {
  readonly #db: Db;
  readonly #sqlite: Database.Database;
  readonly #expireBatch: Database.Statement;
  readonly #pendingNotices: Database.Statement;
  readonly #pendingCardEdits: Database.Statement;

  /**
   * `shard`: the janitor's expiry batch and notice sweep see only the guilds this shard serves, so that with several
   * shards on one database each expired approval is closed, audited and told by exactly one of them.
   */
  constructor(handle: Pick<DatabaseHandle, 'db' | 'sqlite'>, options: { shard?: ShardScope } = {}) {
    this.#db = handle.db;
    this.#sqlite = handle.sqlite;
    const ownGuilds = shardCondition(options.shard);
    // Closing and queuing the notice is one statement, so a crash cannot expire a request without its notice.
    this.#expireBatch = this.#sqlite.prepare(
      `UPDATE deploy_approvals SET status = 'expired', decided_at = @now, notice_status = 'pending',
          card_edit_status = CASE WHEN card_message_id IS NOT NULL THEN 'pending' ELSE card_edit_status END
        WHERE id IN (SELECT id FROM deploy_approvals WHERE status = 'pending' AND expires_at <= @now${ownGuilds} ORDER BY expires_at LIMIT @limit)
        RETURNING id, guild_id, requester_id`,
    );
    this.#pendingNotices = this.#sqlite.prepare(`SELECT id FROM deploy_approvals WHERE notice_status = 'pending'${ownGuilds} AND id > @after ORDER BY id LIMIT @limit`);
    this.#pendingCardEdits = this.#sqlite.prepare(`SELECT id FROM deploy_approvals WHERE card_edit_status = 'pending'${ownGuilds} AND id > @after ORDER BY id LIMIT @limit`);
  }

  /** Runs `work` in one transaction (a savepoint when already in one). */
  transaction<T>(work: () => T): T {
    return this.#sqlite.transaction(work)();
  }

  insert(approval: NewDeployApproval): DeployApprovalRecord {
    const row = this.#db
      .insert(deployApprovals)
      .values({
        guild_id: approval.guildId,
        project_id: approval.projectId,
        resource_id: approval.resourceId,
        plan_run_id: approval.planRunId,
        plan_sha256: approval.planSha256,
        planned_resources: approval.plannedResourcesJson,
        requester_id: approval.requester.id,
        requester_is_admin: approval.requester.isGuildAdmin,
        confirmed_by: approval.confirmedBy.id,
        confirmed_by_admin: approval.confirmedBy.isGuildAdmin,
        credential: approval.credential,
        credential_label: approval.credentialLabel,
        channel_id: approval.channelId,
        requested_at: approval.requestedAt,
        expires_at: approval.expiresAt,
      })
      .returning()
      .get();
    return toRecord(row);
  }

  /**
   * Keeps where the card was posted. Were the request closed meanwhile (the janitor ran between the post and this),
   * the card's edit is queued now, as the closing would have done.
   */
  recordCard(guildId: string, approvalId: number, card: PostedMessage): void {
    this.#db
      .update(deployApprovals)
      .set({
        card_channel_id: card.channelId,
        card_message_id: card.messageId,
        card_edit_status: sql`CASE WHEN ${deployApprovals.status} = 'pending' THEN ${deployApprovals.card_edit_status} ELSE 'pending' END`,
      })
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.guild_id, guildId)))
      .run();
  }

  /** One approval of the guild by id (another guild's is undefined, like a missing id). */
  findInGuild(guildId: string, approvalId: number): DeployApprovalRecord | undefined {
    const row = this.#db
      .select()
      .from(deployApprovals)
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.guild_id, guildId)))
      .get();
    return row ? toRecord(row) : undefined;
  }

  /**
   * Closes an approval still pending at `decision.at` (and, unless expiring it, not past its expiry), queuing the
   * requester's notice in the same statement. Undefined when it was not pending: someone else decided first (a
   * second press, a second reviewer), and the caller must not act on it.
   */
  decide(guildId: string, approvalId: number, decision: ApprovalDecision): DeployApprovalRecord | undefined {
    const row = this.#db
      .update(deployApprovals)
      .set({ status: decision.status, decided_by: decision.by, decided_at: decision.at, close_reason: decision.reason ?? null, ...(decision.notify ? { notice_status: 'pending' as const } : {}) })
      .where(
        and(
          eq(deployApprovals.id, approvalId),
          eq(deployApprovals.guild_id, guildId),
          eq(deployApprovals.status, 'pending'),
          decision.status === 'expired' ? undefined : sql`${deployApprovals.expires_at} > ${decision.at}`,
        ),
      )
      .returning()
      .get();
    return row ? toRecord(row) : undefined;
  }

  /** Expires up to `limit` pending approvals due at `now` and queues each one's notice, in one statement. */
  expireDue(now: number, limit: number): ExpiredApprovalRow[] {
    return this.#expireBatch.all({ now, limit }).map((raw) => expiredRowSchema.parse(raw));
  }

  /** Ids of up to `limit` approvals whose notice is queued, after id `after`, oldest first. */
  pendingNoticeIds(after: number, limit: number): number[] {
    return this.#pendingNotices.all({ after, limit }).map((raw) => z.object({ id: z.number().int() }).parse(raw).id);
  }

  /** The approval if its notice is still queued (read fresh, right before sending), with the tries so far. */
  queuedNotice(approvalId: number): { approval: DeployApprovalRecord; attempts: number } | undefined {
    const row = this.#db
      .select()
      .from(deployApprovals)
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.notice_status, 'pending')))
      .get();
    return row ? { approval: toRecord(row), attempts: row.notice_attempts } : undefined;
  }

  /** Ids of up to `limit` approvals whose card's edit is queued, after id `after`, oldest first (this shard's guilds). */
  pendingCardEditIds(after: number, limit: number): number[] {
    return this.#pendingCardEdits.all({ after, limit }).map((raw) => z.object({ id: z.number().int() }).parse(raw).id);
  }

  /** The approval if its card's edit is still queued (read fresh, right before editing), with the tries so far. */
  queuedCardEdit(approvalId: number): { approval: DeployApprovalRecord; attempts: number } | undefined {
    const row = this.#db
      .select()
      .from(deployApprovals)
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.card_edit_status, 'pending')))
      .get();
    return row ? { approval: toRecord(row), attempts: row.card_edit_attempts } : undefined;
  }

  /** Closes a queued card edit: done, given up for good, or tried again later until `maxAttempts`. */
  markCardEdit(approvalId: number, outcome: 'edited' | 'failed' | 'retry', maxAttempts: number): void {
    this.#db
      .update(deployApprovals)
      .set({
        card_edit_attempts: sql`${deployApprovals.card_edit_attempts} + 1`,
        card_edit_status:
          outcome === 'retry' ? sql`CASE WHEN ${deployApprovals.card_edit_attempts} + 1 >= ${maxAttempts} THEN 'failed' ELSE 'pending' END` : outcome,
      })
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.card_edit_status, 'pending')))
      .run();
  }

  /** Closes a queued notice: delivered by DM, posted in the channel instead, or given up after `maxAttempts`. */
  markNotice(approvalId: number, outcome: 'sent' | 'fallback' | 'failed' | 'retry', maxAttempts: number): void {
    this.#db
      .update(deployApprovals)
      .set({
        notice_attempts: sql`${deployApprovals.notice_attempts} + 1`,
        notice_status:
          outcome === 'retry' ? sql`CASE WHEN ${deployApprovals.notice_attempts} + 1 >= ${maxAttempts} THEN 'failed' ELSE 'pending' END` : outcome,
      })
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.notice_status, 'pending')))
      .run();
  }
}
