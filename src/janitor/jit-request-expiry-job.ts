import type { Clock } from '../shared/clock.js';
import type { JitStore } from '../jit/jit-store.js';
import type { RequestNoticeOutbox } from '../jit/request-outbox.js';
import type { JanitorJob, JobCounts } from './job.js';

export interface JitRequestExpiryJobOptions {
  /** The requests (their expiry batches write their own audit entries). */
  units: JitStore;
  /** The same outbox the decisions use, so a notice is never sent by both at once. */
  outbox: RequestNoticeOutbox;
  clock: Clock;
  /** Requests expired per transaction (default 500). */
  batchSize?: number;
  /** Notices sent per tick at most (default 500); the rest go out on the next ticks. */
  maxNoticesPerTick?: number;
}

/**
 * Expires JIT requests nobody decided in time and tells each requester, exactly once: the expiry and its queued
 * notice are one statement (with its audit entry, one transaction), and the notices go through the requests' outbox,
 * which also sends whatever decision notice a crash left unsent. Any number of processes may run it on PostgreSQL:
 * each batch skips the requests another is expiring (FOR UPDATE SKIP LOCKED), and one process at a time sends a
 * shard's notices (pg-request-repository.ts).
 */
export class JitRequestExpiryJob implements JanitorJob {
  readonly name = 'jit-requests';

  constructor(private readonly options: JitRequestExpiryJobOptions) {}

  async run(): Promise<JobCounts> {
    const expired = await this.expireDue();
    const notices = await this.options.outbox.deliverQueued(this.options.maxNoticesPerTick ?? 500);
    return {
      expired,
      noticesSent: notices.sent,
      noticesFallback: notices.fallback,
      noticesFailed: notices.failed,
      noticesRetrying: notices.retrying,
    };
  }

  /** Expires every request due now, in batches, each with its audit entries in one transaction. */
  async expireDue(): Promise<number> {
    const { units, clock } = this.options;
    const now = clock.now();
    const limit = this.options.batchSize ?? 500;
    let total = 0;
    for (;;) {
      const count = await units.outside.requests.expireDue(now, limit);
      total += count;
      if (count < limit) return total;
    }
  }
}
