/**
 * Delivers the one notice that tells a requester how their request ended, exactly once. The decision (or expiry) and
 * notice_status = 'pending' are written together; the notice is sent right after a decision by the press that made
 * it, and by the janitor for whatever is left (expiries, and what a crash cut short). Both run in the process that
 * serves the guild (the process lock allows one per database, or one per shard, and a shard's janitor sweeps only its
 * own guilds, whose review presses arrive at it), so an in-flight set plus a fresh read of the row just before
 * sending keeps them from sending one notice twice. (The unavoidable window, as for expiry DMs: dying between Discord accepting the
 * DM and the row update would send that one notice again.)
 */
import type { Logger } from '../logging/logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import { deliverToMember, describeError } from './delivery.js';
import type { GrantRepository } from './grant-repository.js';
import type { JitPolicySource } from './ports.js';
import { requestOutcomeNotice } from './request-notices.js';
import type { JitRequest, RequestRepository } from './request-repository.js';

export type OutboxResult = 'sent' | 'fallback' | 'failed' | 'retrying' | 'skipped';

export interface RequestOutboxDeps {
  requests: RequestRepository;
  grants: Pick<GrantRepository, 'findInGuild'>;
  policies: JitPolicySource;
  notifier: Notifier;
  clock: Clock;
  logger?: Logger;
  /** Transient failures (network, rate limit) after which a notice is given up as failed (default 5). */
  maxAttempts?: number;
}

export class RequestNoticeOutbox {
  readonly #inFlight = new Set<number>();
  readonly #maxAttempts: number;

  constructor(private readonly deps: RequestOutboxDeps) {
    this.#maxAttempts = deps.maxAttempts ?? 5;
  }

  /** Sends the request's queued notice, unless it is not queued (sent already) or being sent right now. */
  async deliver(requestId: number): Promise<OutboxResult> {
    if (this.#inFlight.has(requestId)) return 'skipped';
    // Claimed before the first await, so nothing else in this process can claim the row in between.
    this.#inFlight.add(requestId);
    try {
      const queued = await this.deps.requests.queuedNotice(requestId);
      if (!queued) return 'skipped';
      return await this.send(queued.request, queued.attempts);
    } finally {
      this.#inFlight.delete(requestId);
    }
  }

  /**
   * Sends queued notices, oldest first, up to `max`; counts how each went. None when another process is sending
   * this shard's right now (PostgreSQL: see pg-request-repository.ts).
   */
  async deliverQueued(max = 500): Promise<Record<OutboxResult, number>> {
    const counts: Record<OutboxResult, number> = { sent: 0, fallback: 0, failed: 0, retrying: 0, skipped: 0 };
    await this.deps.requests.deliveringNotices(() => this.#sweep(max, counts));
    return counts;
  }

  async #sweep(max: number, counts: Record<OutboxResult, number>): Promise<void> {
    let after = 0;
    let handled = 0;
    while (handled < max) {
      const limit = Math.min(100, max - handled);
      // The id cursor lets a notice that failed this time wait for the next run instead of being retried at once.
      const ids = await this.deps.requests.pendingNoticeIds(after, limit);
      for (const id of ids) {
        after = id;
        handled += 1;
        counts[await this.deliver(id)] += 1;
      }
      if (ids.length < limit) break;
    }
  }

  private async send(request: JitRequest, attempts: number): Promise<OutboxResult> {
    const { requests, grants, policies, notifier, clock, logger } = this.deps;
    try {
      const grant = request.grantId === null ? undefined : await grants.findInGuild(request.guildId, request.grantId);
      const guildName = await notifier.guildName(request.guildId).catch(() => undefined);
      const policy = await policies.get(request.guildId);
      // Without a notification channel, the channel the request was reviewed in is where the requester looks.
      const fallback = policy.notificationChannelId ?? request.reviewChannelId;
      const delivery = await deliverToMember(
        notifier,
        request.requesterId,
        { direct: requestOutcomeNotice(request, grant, guildName), channel: requestOutcomeNotice(request, grant, guildName, true) },
        fallback,
      );
      const now = clock.now();
      if (delivery.via === 'dm') {
        await requests.markNotified(request.id, 'sent', now, null);
        return 'sent';
      }
      if (delivery.via === 'channel') {
        await requests.markNotified(request.id, 'fallback', now, `direct message refused: ${delivery.refused}`);
        return 'fallback';
      }
      await requests.markNotified(request.id, 'failed', now, `direct message refused: ${delivery.refused}; nowhere else to post`);
      return 'failed';
    } catch (error) {
      const description = describeError(error);
      await requests.markNoticeAttemptFailed(request.id, description, this.#maxAttempts);
      const gaveUp = attempts + 1 >= this.#maxAttempts;
      logger?.[gaveUp ? 'warn' : 'debug'](
        { guildId: request.guildId, requestId: request.id, attempts: attempts + 1, error: description },
        gaveUp ? 'JIT request notice given up after repeated failures' : 'JIT request notice failed; will retry',
      );
      return gaveUp ? 'failed' : 'retrying';
    }
  }
}
