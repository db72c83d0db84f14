import type { ApprovalCardEdits } from '../deploy/approval-card-edits.js';
import type { ApprovalNoticeOutbox } from '../deploy/approval-outbox.js';
import type { DeployApprovalRecord, DeployApprovalRepository } from '../deploy/approval-repository.js';
import type { Logger } from '../logging/logger.js';
import type { Clock } from '../shared/clock.js';
import type { JanitorJob, JobCounts } from './job.js';

export interface DeployApprovalExpiryJobOptions {
  /** The approvals: each expiry batch is one transaction with its audit entries (DeployApprovalRepository.expireDue). */
  records: DeployApprovalRepository;
  /** The same outbox the presses use, so a notice is never sent by both at once. */
  outbox: ApprovalNoticeOutbox;
  /** Shows the cards of the requests it expired closed (queued with the expiry, so once across crashes). */
  cardEdits: ApprovalCardEdits;
  clock: Clock;
  logger: Logger;
  /** Throws away an expired request's plan file and its still-planned row. */
  discard: (approval: DeployApprovalRecord) => Promise<void>;
  batchSize?: number;
  maxNoticesPerTick?: number;
  maxCardEditsPerTick?: number;
}

/**
 * Expires deployment approvals nobody answered in time: each is closed with its notice queued in one statement (its
 * audit entry in the same transaction), its plan file deleted, its card in the channel shown closed (no buttons), and
 * the requester told once through the approvals' outbox, which also sends whatever decision notice a crash left unsent.
 * Repository and outboxes are scoped to this shard's guilds.
 */
export class DeployApprovalExpiryJob implements JanitorJob {
  readonly name = 'deploy-approvals';

  constructor(private readonly options: DeployApprovalExpiryJobOptions) {}

  async run(): Promise<JobCounts> {
    const { expired, discardFailed } = await this.expireDue();
    const cards = await this.options.cardEdits.editQueued(this.options.maxCardEditsPerTick ?? 500);
    const notices = await this.options.outbox.deliverQueued(this.options.maxNoticesPerTick ?? 500);
    return {
      expired,
      discardFailed,
      cardsEdited: cards.edited,
      cardEditsFailed: cards.failed,
      cardEditsRetrying: cards.retrying,
      noticesSent: notices.sent,
      noticesFallback: notices.fallback,
      noticesFailed: notices.failed,
      noticesRetrying: notices.retrying,
    };
  }

  async expireDue(): Promise<{ expired: number; discardFailed: number }> {
    const { records, clock } = this.options;
    const now = clock.now();
    const limit = this.options.batchSize ?? 500;
    let expired = 0;
    let discardFailed = 0;
    for (;;) {
      const rows = await records.expireDue(now, limit);
      for (const row of rows) {
        // Each on its own: a plan that cannot be discarded now is swept at the next start or plan of its workspace.
        try {
          const approval = await records.findInGuild(row.guild_id, row.id);
          if (approval) await this.options.discard(approval);
        } catch (error) {
          discardFailed++;
          this.options.logger.warn({ guildId: row.guild_id, approvalId: row.id, error: error instanceof Error ? error.message : String(error) }, 'expired deployment approval: plan not discarded');
        }
      }
      expired += rows.length;
      if (rows.length < limit) return { expired, discardFailed };
    }
  }
}
