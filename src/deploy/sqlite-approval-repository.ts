/** The deployment approvals on SQLite (see approval-repository.ts for what each method does). */
import type Database from 'better-sqlite3';
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { SqliteSession } from '../db/data-access.js';
import { DELIVERY_LOCKS, deliveringExclusively } from '../db/exclusive-delivery.js';
import { auditRow } from '../audit/audit-log.js';
import { auditLog, deployApprovals, type Db } from '../db/index.js';
import type { PostedMessage } from '../notify/notifier.js';
import { shardCondition, type ShardScope } from '../sharding/shard-scope.js';
import type { ApprovalDecision, DeployApprovalRecord, DeployApprovalRepository, DeployApprovalRepositoryOptions, ExpiredApprovalRow, NewDeployApproval } from './approval-repository.js';
import { approvalExpiryAudit, expiredRowSchema, newApprovalRow, toApprovalRecord } from './approval-rows.js';

const idRow = z.object({ id: z.number().int() });

export class SqliteDeployApprovalRepository implements DeployApprovalRepository {
  readonly #session: SqliteSession;
  readonly #shard: ShardScope | undefined;
  readonly #db: Db;
  readonly #sqlite: Database.Database;
  readonly #expireBatch: Database.Statement;
  readonly #pendingNotices: Database.Statement;
  readonly #pendingCardEdits: Database.Statement;

  constructor(session: SqliteSession, options: DeployApprovalRepositoryOptions = {}) {
    this.#session = session;
    this.#shard = options.shard;
    this.#db = session.db;
    this.#sqlite = session.sqlite;
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

  async insert(approval: NewDeployApproval): Promise<DeployApprovalRecord> {
    const row = this.#db
      .insert(deployApprovals)
      .values(newApprovalRow(approval))
      .returning()
      .get();
    return toApprovalRecord(row);
  }

  async recordCard(guildId: string, approvalId: number, card: PostedMessage): Promise<void> {
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

  async findInGuild(guildId: string, approvalId: number): Promise<DeployApprovalRecord | undefined> {
    const row = this.#db
      .select()
      .from(deployApprovals)
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.guild_id, guildId)))
      .get();
    return row ? toApprovalRecord(row) : undefined;
  }

  async decide(guildId: string, approvalId: number, decision: ApprovalDecision): Promise<DeployApprovalRecord | undefined> {
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
    return row ? toApprovalRecord(row) : undefined;
  }

  async expireDue(now: number, limit: number): Promise<ExpiredApprovalRow[]> {
    // Synchronous, so that no other statement on the connection can land inside it (a savepoint inside a unit of work).
    return this.#sqlite.transaction(() => {
      const rows = this.#expireBatch.all({ now, limit }).map((raw) => expiredRowSchema.parse(raw));
      if (rows.length > 0) this.#db.insert(auditLog).values(rows.map((row) => auditRow(approvalExpiryAudit(row), now))).run();
      return rows;
    })();
  }

  delivering<T>(work: () => Promise<T>): Promise<T | undefined> {
    return deliveringExclusively(this.#session, DELIVERY_LOCKS.deployApprovals, this.#shard, work);
  }

  async pendingNoticeIds(after: number, limit: number): Promise<number[]> {
    return this.#pendingNotices.all({ after, limit }).map((raw) => idRow.parse(raw).id);
  }

  async queuedNotice(approvalId: number): Promise<{ approval: DeployApprovalRecord; attempts: number } | undefined> {
    const row = this.#db
      .select()
      .from(deployApprovals)
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.notice_status, 'pending')))
      .get();
    return row ? { approval: toApprovalRecord(row), attempts: row.notice_attempts } : undefined;
  }

  async pendingCardEditIds(after: number, limit: number): Promise<number[]> {
    return this.#pendingCardEdits.all({ after, limit }).map((raw) => idRow.parse(raw).id);
  }

  async queuedCardEdit(approvalId: number): Promise<{ approval: DeployApprovalRecord; attempts: number } | undefined> {
    const row = this.#db
      .select()
      .from(deployApprovals)
      .where(and(eq(deployApprovals.id, approvalId), eq(deployApprovals.card_edit_status, 'pending')))
      .get();
    return row ? { approval: toApprovalRecord(row), attempts: row.card_edit_attempts } : undefined;
  }

  async markCardEdit(approvalId: number, outcome: 'edited' | 'failed' | 'retry', maxAttempts: number): Promise<void> {
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

  async markNotice(approvalId: number, outcome: 'sent' | 'fallback' | 'failed' | 'retry', maxAttempts: number): Promise<void> {
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
