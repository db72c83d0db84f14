/**
 * Shows a deployment approval's card closed when it was closed without a press on it (the janitor's expiry), so its
 * Approve and Reject do not stay live in the channel. An outbox like the requester's notice (approval-outbox.ts): the
 * closing and card_edit_status = 'pending' are one statement; the janitor edits whatever is queued, in the process
 * that serves the guild (its shard's guilds only), with an in-flight set plus a fresh read just before editing. A
 * crash between the edit and its mark edits the card again at the next tick, with the same words: the card ends
 * shown closed once. A card that cannot be edited for good (deleted, permission lost) is logged and given up at once;
 * a passing failure is tried again, up to `maxAttempts`. None of it holds back the expiry itself.
 */
import { describeError } from '../jit/delivery.js';
import type { Logger } from '../logging/logger.js';
import { MessageUnreachable, type Notifier } from '../notify/notifier.js';
import { approvalCard, type ApprovalFacts } from './approval-notices.js';
import type { DeployApprovalRecord, DeployApprovalRepository } from './approval-repository.js';

export type CardEditResult = 'edited' | 'failed' | 'retrying' | 'skipped';

export interface ApprovalCardEditDeps {
  records: Pick<DeployApprovalRepository, 'delivering' | 'pendingCardEditIds' | 'queuedCardEdit' | 'markCardEdit'>;
  /** What the card names besides the record (the notice outbox's factsOf), read now. */
  factsOf: (approval: DeployApprovalRecord) => Promise<ApprovalFacts>;
  notifier: Pick<Notifier, 'editChannelMessage'>;
  logger?: Logger;
  /** Passing failures after which an edit is given up (default 5). */
  maxAttempts?: number;
}

export class ApprovalCardEdits {
  readonly #inFlight = new Set<number>();
  readonly #maxAttempts: number;

  constructor(private readonly deps: ApprovalCardEditDeps) {
    this.#maxAttempts = deps.maxAttempts ?? 5;
  }

  /** Edits the approval's card to how it ended, unless its edit is not queued (done, given up) or under way. */
  async edit(approvalId: number): Promise<CardEditResult> {
    if (this.#inFlight.has(approvalId)) return 'skipped';
    // Claimed before the first await, so nothing else in this process can claim the row in between.
    this.#inFlight.add(approvalId);
    try {
      const queued = await this.deps.records.queuedCardEdit(approvalId);
      if (!queued) return 'skipped';
      return await this.#edit(queued.approval, queued.attempts);
    } finally {
      this.#inFlight.delete(approvalId);
    }
  }

  /** Edits queued cards, oldest first, up to `max`; counts how each went. None while another process edits this shard's. */
  async editQueued(max = 500): Promise<Record<CardEditResult, number>> {
    const counts: Record<CardEditResult, number> = { edited: 0, failed: 0, retrying: 0, skipped: 0 };
    await this.deps.records.delivering(async () => {
      let after = 0;
      let handled = 0;
      while (handled < max) {
        const limit = Math.min(100, max - handled);
        const ids = await this.deps.records.pendingCardEditIds(after, limit);
        for (const id of ids) {
          after = id;
          handled += 1;
          counts[await this.edit(id)] += 1;
        }
        if (ids.length < limit) break;
      }
    });
    return counts;
  }

  async #edit(approval: DeployApprovalRecord, attempts: number): Promise<CardEditResult> {
    const { records, notifier, logger } = this.deps;
    const where = { guildId: approval.guildId, approvalId: approval.id };
    if (!approval.card || approval.status === 'pending') {
      // Nothing to edit (or not closed after all): close the queue entry rather than look at it every tick.
      await records.markCardEdit(approval.id, 'failed', this.#maxAttempts);
      return 'failed';
    }
    try {
      await notifier.editChannelMessage(approval.card, approvalCard(approval, await this.deps.factsOf(approval)));
      await records.markCardEdit(approval.id, 'edited', this.#maxAttempts);
      return 'edited';
    } catch (error) {
      if (error instanceof MessageUnreachable) {
        await records.markCardEdit(approval.id, 'failed', this.#maxAttempts);
        logger?.warn({ ...where, reason: error.reason }, 'deployment approval card not shown closed: the message cannot be edited (deleted, or the bot lost access)');
        return 'failed';
      }
      await records.markCardEdit(approval.id, 'retry', this.#maxAttempts);
      const gaveUp = attempts + 1 >= this.#maxAttempts;
      logger?.[gaveUp ? 'warn' : 'debug'](
        { ...where, attempts: attempts + 1, error: describeError(error) },
        gaveUp ? 'deployment approval card edit given up after repeated failures' : 'deployment approval card edit failed; will retry',
      );
      return gaveUp ? 'failed' : 'retrying';
    }
  }
}
