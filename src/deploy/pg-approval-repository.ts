/**
 * The deployment approvals on PostgreSQL (see approval-repository.ts for what each method does), over pg-schema.ts.
 * A decision is one conditional UPDATE (still pending), so of two presses, reviewers or processes one decides. The
 * expiry batch claims its rows with FOR UPDATE SKIP LOCKED and re-checks `status = 'pending'` on the row it updates,
 * so two janitors expiring at once expire (audit, and queue the notice of) each approval once.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { PostgresSession } from '../db/data-access.js';
import { DELIVERY_LOCKS, deliveringExclusively } from '../db/exclusive-delivery.js';
import { auditRow } from '../audit/audit-log.js';
import { auditLog, deployApprovals } from '../db/pg-schema.js';
import type { PostedMessage } from '../notify/notifier.js';
import { pgShardCondition, type ShardScope } from '../sharding/shard-scope.js';
import type { ApprovalDecision, DeployApprovalRecord, DeployApprovalRepository, DeployApprovalRepositoryOptions, ExpiredApprovalRow, NewDeployApproval } from './approval-repository.js';
import { approvalExpiryAudit, expiredRowSchema, newApprovalRow, toApprovalRecord } from './approval-rows.js';

const idRow = z.object({ id: z.coerce.number().int() });

export class PgDeployApprovalRepository implements DeployApprovalRepository {
  readonly #session: PostgresSession;
  readonly #shard: ShardScope | undefined;
  readonly #ownGuilds: SQL;

  constructor(session: PostgresSession, options: DeployApprovalRepositoryOptions = {}) {
    this.#session = session;
    this.#shard = options.shard;
    this.#ownGuilds = sql.raw(pgShardCondition(options.shard));
  }

  get #db() {
    return this.#session.db;
  }

  async insert(approval: NewDeployApproval): Promise<DeployApprovalRecord> {
    const [row] = await this.#db.insert(deployApprovals).values(newApprovalRow(approval)).returning();
    if (!row) throw new Error('the approval insert returned no row');
    return toApprovalRecord(row);
  }

  async recordCard(guildId: string, approvalId: number, card: PostedMessage): Promise<void> {
    await this.#db
      .update(deployApprovals)
      .set({
        card_channel_id: card.channelId,
        card_message_id: card.messageId,
        card_edit_status: sql`CASE WHEN ${deployApprovals.status} = 'pending' THEN ${deployApprovals.card_edit_status} ELSE 'pending' END`,
      })
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.guild_id, guildId)));
  }

  async findInGuild(guildId: string, approvalId: number): Promise<DeployApprovalRecord | undefined> {
    const [row] = await this.#db
      .select()
      .from(deployApprovals)
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.guild_id, guildId)))
      .limit(1);
    return row ? toApprovalRecord(row) : undefined;
  }

  async decide(guildId: string, approvalId: number, decision: ApprovalDecision): Promise<DeployApprovalRecord | undefined> {
    const [row] = await this.#db
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
      .returning();
    return row ? toApprovalRecord(row) : undefined;
  }

  async expireDue(now: number, limit: number): Promise<ExpiredApprovalRow[]> {
    // A transaction of its own (a savepoint inside a unit of work): the expiry and its audit entries commit together.
    return this.#db.transaction(async (tx) => {
      const result = await tx.execute(sql`
      UPDATE deploy_approvals SET status = 'expired', decided_at = ${now}::bigint, notice_status = 'pending',
             card_edit_status = CASE WHEN card_message_id IS NOT NULL THEN 'pending' ELSE card_edit_status END
       WHERE status = 'pending' AND id IN (
               SELECT id FROM deploy_approvals WHERE status = 'pending' AND expires_at <= ${now}${this.#ownGuilds}
                ORDER BY expires_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING id, guild_id, requester_id`);
      // RETURNING comes in no promised order; SQLite's comes in id order, and so does this.
      const rows = result.rows.map((raw) => expiredRowSchema.parse(raw)).sort((a, b) => a.id - b.id);
      if (rows.length > 0) await tx.insert(auditLog).values(rows.map((row) => auditRow(approvalExpiryAudit(row), now)));
      return rows;
    });
  }

  delivering<T>(work: () => Promise<T>): Promise<T | undefined> {
    return deliveringExclusively(this.#session, DELIVERY_LOCKS.deployApprovals, this.#shard, work);
  }

  async pendingNoticeIds(after: number, limit: number): Promise<number[]> {
    const result = await this.#db.execute(sql`
      SELECT id FROM deploy_approvals WHERE notice_status = 'pending'${this.#ownGuilds} AND id > ${after} ORDER BY id LIMIT ${limit}`);
    return result.rows.map((raw) => idRow.parse(raw).id);
  }

  async queuedNotice(approvalId: number): Promise<{ approval: DeployApprovalRecord; attempts: number } | undefined> {
    const [row] = await this.#db
      .select()
      .from(deployApprovals)
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.notice_status, 'pending')))
      .limit(1);
    return row ? { approval: toApprovalRecord(row), attempts: row.notice_attempts } : undefined;
  }

  async pendingCardEditIds(after: number, limit: number): Promise<number[]> {
    const result = await this.#db.execute(sql`
      SELECT id FROM deploy_approvals WHERE card_edit_status = 'pending'${this.#ownGuilds} AND id > ${after} ORDER BY id LIMIT ${limit}`);
    return result.rows.map((raw) => idRow.parse(raw).id);
  }

  async queuedCardEdit(approvalId: number): Promise<{ approval: DeployApprovalRecord; attempts: number } | undefined> {
    const [row] = await this.#db
      .select()
      .from(deployApprovals)
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.card_edit_status, 'pending')))
      .limit(1);
    return row ? { approval: toApprovalRecord(row), attempts: row.card_edit_attempts } : undefined;
  }

  async markCardEdit(approvalId: number, outcome: 'edited' | 'failed' | 'retry', maxAttempts: number): Promise<void> {
    await this.#db
      .update(deployApprovals)
      .set({
        card_edit_attempts: sql`${deployApprovals.card_edit_attempts} + 1`,
        card_edit_status:
          outcome === 'retry' ? sql`CASE WHEN ${deployApprovals.card_edit_attempts} + 1 >= ${maxAttempts} THEN 'failed' ELSE 'pending' END` : outcome,
      })
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.card_edit_status, 'pending')));
  }

  async markNotice(approvalId: number, outcome: 'sent' | 'fallback' | 'failed' | 'retry', maxAttempts: number): Promise<void> {
    await this.#db
      .update(deployApprovals)
      .set({
        notice_attempts: sql`${deployApprovals.notice_attempts} + 1`,
        notice_status:
          outcome === 'retry' ? sql`CASE WHEN ${deployApprovals.notice_attempts} + 1 >= ${maxAttempts} THEN 'failed' ELSE 'pending' END` : outcome,
      })
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.notice_status, 'pending')));
  }
}
