import type { TtlDestroyer } from '../ttl/ttl-destroyer.js';
import type { TtlRepository } from '../ttl/ttl-repository.js';
import type { Clock } from '../shared/clock.js';
import type { JanitorJob, JobCounts } from './job.js';

export interface TtlExpiryJobOptions {
  ttls: Pick<TtlRepository, 'due' | 'pendingNotices' | 'deliveringNotices'>;
  destroyer: Pick<TtlDestroyer, 'start' | 'isRunning' | 'deliverNotice'>;
  clock: Clock;
  /** Destroys started per tick at most (default 20); the runner's own limit decides how many run at once. */
  maxStartedPerTick?: number;
}

/**
 * At the end of a deployment's time to live (or at the next try after a failed one), starts its destroy through the
 * normal destroy path, without waiting for it: a tick must not wait minutes for an engine while grants are due to
 * expire. Also sends the "expired and destroyed" notices a crash left queued.
 */
export class TtlExpiryJob implements JanitorJob {
  readonly name = 'ttl-expiry';

  constructor(private readonly options: TtlExpiryJobOptions) {}

  async run(): Promise<JobCounts> {
    const { ttls, destroyer, clock } = this.options;
    const counts = { started: 0, running: 0, notices: 0 };
    // Another process delivering this shard's notices right now (PostgreSQL) has them: this one sends none.
    await ttls.deliveringNotices(async () => {
      for (const row of await ttls.pendingNotices(100)) {
        if (destroyer.isRunning(row.id)) continue;
        if (await destroyer.deliverNotice(row)) counts.notices += 1;
      }
    });
    const max = this.options.maxStartedPerTick ?? 20;
    // A few more than are started, so destroys still under way do not hide the next due ones.
    for (const row of await ttls.due(clock.now(), max * 2)) {
      if (counts.started >= max) break;
      if (destroyer.start(row)) counts.started += 1;
      else counts.running += 1;
    }
    return counts;
  }
}
