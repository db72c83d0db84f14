/**
 * Delivers the one notice that tells a requester how their deployment's approval ended, exactly once, as the JIT
 * requests' outbox does (src/jit/request-outbox.ts): the decision and notice_status = 'pending' are written in one
 * statement; the press that decided sends it at once, the janitor sends whatever is left (expiries, and what a crash
 * cut short). Both run in the process that serves the guild (one process per database, or per shard, whose janitor
 * sweeps only its own guilds, whose presses arrive at it), so an in-flight set plus a fresh read just before sending
 * keeps the two from sending one notice twice.
 */
import type { Logger } from '../logging/logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { ProjectRepository } from '../projects/project-repository.js';
import type { ResourceRepository } from '../projects/resource-repository.js';
import { deliverToMember, describeError } from '../jit/delivery.js';
import type { JitPolicySource } from '../jit/ports.js';
import { approvalRequesterNotice, type ApprovalFacts } from './approval-notices.js';
import type { DeployApprovalRecord, DeployApprovalRepository } from './approval-repository.js';

export type ApprovalNoticeResult = 'sent' | 'fallback' | 'failed' | 'retrying' | 'skipped';

export interface ApprovalOutboxDeps {
  records: DeployApprovalRepository;
  projects: Pick<ProjectRepository, 'getById'>;
  resources: Pick<ResourceRepository, 'get'>;
  policies: JitPolicySource;
  notifier: Notifier;
  logger?: Logger;
  /** Transient failures after which a notice is given up (default 5). */
  maxAttempts?: number;
}

export class ApprovalNoticeOutbox {
  readonly #inFlight = new Set<number>();
  readonly #maxAttempts: number;

  constructor(private readonly deps: ApprovalOutboxDeps) {
    this.#maxAttempts = deps.maxAttempts ?? 5;
  }

  /** What a card or notice names besides the record, read now. */
  async factsOf(approval: DeployApprovalRecord): Promise<ApprovalFacts> {
    const project = await this.deps.projects.getById(approval.guildId, approval.projectId, { includeArchived: true });
    return { projectName: project.name, resource: await this.deps.resources.get(approval.guildId, approval.resourceId) };
  }

  /** Sends the approval's queued notice, unless it is not queued (sent already) or being sent right now. */
  async deliver(approvalId: number): Promise<ApprovalNoticeResult> {
    if (this.#inFlight.has(approvalId)) return 'skipped';
    // Claimed before the first await, so nothing else in this process can claim the row in between.
    this.#inFlight.add(approvalId);
    try {
      const queued = await this.deps.records.queuedNotice(approvalId);
      if (!queued) return 'skipped';
      return await this.#send(queued.approval, queued.attempts);
    } finally {
      this.#inFlight.delete(approvalId);
    }
  }

  /**
   * Sends queued notices, oldest first, up to `max`; counts how each went. None when another process is sending
   * this shard's right now (PostgreSQL: src/db/exclusive-delivery.ts).
   */
  async deliverQueued(max = 500): Promise<Record<ApprovalNoticeResult, number>> {
    const counts: Record<ApprovalNoticeResult, number> = { sent: 0, fallback: 0, failed: 0, retrying: 0, skipped: 0 };
    await this.deps.records.delivering(async () => {
      let after = 0;
      let handled = 0;
      while (handled < max) {
        const limit = Math.min(100, max - handled);
        const ids = await this.deps.records.pendingNoticeIds(after, limit);
        for (const id of ids) {
          after = id;
          handled += 1;
          counts[await this.deliver(id)] += 1;
        }
        if (ids.length < limit) break;
      }
    });
    return counts;
  }

  async #send(approval: DeployApprovalRecord, attempts: number): Promise<ApprovalNoticeResult> {
    const { records, notifier, policies, logger } = this.deps;
    try {
      const facts = await this.factsOf(approval);
      const policy = await policies.get(approval.guildId);
      const delivery = await deliverToMember(
        notifier,
        approval.requester.id,
        { direct: approvalRequesterNotice(approval, facts), channel: approvalRequesterNotice(approval, facts, true) },
        // Without a notification channel, the channel the deployment was asked in is where the requester looks.
        policy.notificationChannelId ?? approval.channelId,
      );
      const outcome = delivery.via === 'dm' ? 'sent' : delivery.via === 'channel' ? 'fallback' : 'failed';
      await records.markNotice(approval.id, outcome, this.#maxAttempts);
      return outcome;
    } catch (error) {
      await records.markNotice(approval.id, 'retry', this.#maxAttempts);
      const gaveUp = attempts + 1 >= this.#maxAttempts;
      logger?.[gaveUp ? 'warn' : 'debug'](
        { guildId: approval.guildId, approvalId: approval.id, attempts: attempts + 1, error: describeError(error) },
        gaveUp ? 'deployment approval notice given up after repeated failures' : 'deployment approval notice failed; will retry',
      );
      return gaveUp ? 'failed' : 'retrying';
    }
  }
}
