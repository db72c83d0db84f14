import { SYSTEM_USER } from '../audit/audit-log.js';
import type { Clock } from '../shared/clock.js';
import type { JitAuditSink } from '../jit/ports.js';
import type { RequestNoticeOutbox } from '../jit/request-outbox.js';
import type { JitRequestRepository } from '../jit/request-repository.js';
import type { JanitorJob, JobCounts } from './job.js';

export interface JitRequestExpiryJobOptions {
  requests: JitRequestRepository;
  /** The same outbox the decisions use, so a notice is never sent by both at once. */
  outbox: RequestNoticeOutbox;
  audit: JitAuditSink;
  clock: Clock;
  /** Requests expired per transaction (default 500). */
  batchSize?: number;
  /** Notices sent per tick at most (default 500); the rest go out on the next ticks. */
  maxNoticesPerTick?: number;
}

/**
 * Expires JIT requests nobody decided in time and tells each requester, exactly once: the expiry and its queued
 * notice are one statement (with its audit entry, one transaction), and the notices go through the requests' outbox,
 * which also sends whatever decision notice a crash left unsent.
 */
export class JitRequestExpiryJob implements JanitorJob {
  readonly name = 'jit-requests';

  constructor(private readonly options: JitRequestExpiryJobOptions) {}

  async run(): Promise<JobCounts> {
    const expired = this.expireDue();
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
  expireDue(): number {
    const { requests, audit, clock } = this.options;
    const now = clock.now();
    const limit = this.options.batchSize ?? 500;
    let total = 0;
    for (;;) {
      const count = requests.transaction(() => {
        const rows = requests.expireDue(now, limit);
        for (const row of rows) {
          audit.record({
            guildId: row.guild_id,
            userId: SYSTEM_USER,
            action: 'jit.request.expire',
            target: row.requester_id,
            outcome: 'success',
            details: { requestId: row.id, kind: row.kind, provider: row.provider, level: row.permission_level, ...(row.grant_id ? { grantId: row.grant_id } : {}) },
          });
        }
        return rows.length;
      });
      total += count;
      if (count < limit) return total;
    }
  }
}
