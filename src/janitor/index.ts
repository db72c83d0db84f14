import type { Logger } from '../logging/logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import type { GrantRepository } from '../jit/grant-repository.js';
import type { JitAuditSink, JitPolicySource } from '../jit/ports.js';
import { HealthLine, type HealthSources } from './health-line.js';
import { Janitor } from './janitor.js';
import { JitExpiryJob } from './jit-expiry-job.js';
import { JitReminderJob } from './jit-reminder-job.js';
import { JitRequestExpiryJob } from './jit-request-expiry-job.js';
import type { ReminderRepository } from '../jit/reminder-repository.js';
import type { RequestNoticeOutbox } from '../jit/request-outbox.js';
import type { JitStore } from '../jit/jit-store.js';
import type { TtlDestroyer } from '../ttl/ttl-destroyer.js';
import type { TtlRepository } from '../ttl/ttl-repository.js';
import { VaultPurgeJob, type ExpiringVault } from './vault-purge-job.js';
import type { DriftCheckJob } from './drift-check-job.js';
import type { JanitorJob } from './job.js';
import { TtlExpiryJob } from './ttl-expiry-job.js';
import { TtlReminderJob, type TtlReminderJobOptions } from './ttl-reminder-job.js';

export { Janitor, type JanitorOptions, type TickReport, type JobReport } from './janitor.js';
export { JitExpiryJob, type JitExpiryJobOptions, type ExpiryCounts } from './jit-expiry-job.js';
export { VaultPurgeJob, type ExpiringVault } from './vault-purge-job.js';
export { JitRequestExpiryJob, type JitRequestExpiryJobOptions } from './jit-request-expiry-job.js';
export { JitReminderJob, type JitReminderJobOptions } from './jit-reminder-job.js';
export { DeployApprovalExpiryJob, type DeployApprovalExpiryJobOptions } from './deploy-approval-expiry-job.js';
export { DriftCheckJob, type DriftCheckJobOptions } from './drift-check-job.js';
export { HealthLine, HEALTH_INTERVAL_MS, type HealthSources } from './health-line.js';
export type { JanitorJob, JobCounts } from './job.js';
export { TtlExpiryJob, type TtlExpiryJobOptions } from './ttl-expiry-job.js';
export { TtlReminderJob, type TtlReminderJobOptions } from './ttl-reminder-job.js';

/** The jobs of deployments with a time to live (src/ttl): reminders before the end, then the destroy at the end. */
export function ttlJobs(deps: Omit<TtlReminderJobOptions, 'destroyer' | 'ttls'> & { ttls: TtlRepository; destroyer: TtlDestroyer }): JanitorJob[] {
  return [new TtlReminderJob(deps), new TtlExpiryJob(deps)];
}

/**
 * The janitor with the bot's standard jobs (JIT expiry, JIT requests' expiry and notices, reminders before grants end,
 * then the vault purge) and the health line, for the composition root.
 */
export function createJanitor(deps: {
  schedule: string;
  grants: GrantRepository;
  clock: Clock;
  audit: JitAuditSink;
  policies: JitPolicySource;
  notifier: Notifier;
  vault: ExpiringVault & HealthSources['vault'];
  runs: HealthSources['runs'];
  logger: Logger;
  /** WAL checkpoints off the event loop (src/db/wal-checkpointer.ts); without one, SQLite checkpoints on commit. */
  checkpoint?: () => Promise<unknown>;
  /** JIT requests and their outcome notices' outbox (shared with the service that decides them). */
  requests: { units: JitStore; outbox: RequestNoticeOutbox };
  /** Reminders before grants end, `leadMs` ahead (0: none). */
  reminders: { repository: ReminderRepository; leadMs: number };
  /** Further jobs, run after the JIT ones and before the vault purge (deployment approvals' expiry, ttlJobs). */
  more?: readonly JanitorJob[];
  /** Starts the drift checks that are due (they run in the background; see DriftCheckJob). */
  driftChecks?: DriftCheckJob;
}): Janitor {
  const { schedule, vault, runs, logger, requests, reminders, more = [], driftChecks, ...jit } = deps;
  const requestExpiry = new JitRequestExpiryJob({ units: requests.units, outbox: requests.outbox, clock: jit.clock });
  const reminderJob = new JitReminderJob({ reminders: reminders.repository, leadMs: reminders.leadMs, ...jit, logger });
  return new Janitor({
    schedule,
    logger,
    jobs: [new JitExpiryJob({ ...jit, logger }), requestExpiry, reminderJob, ...more, new VaultPurgeJob(vault), ...(driftChecks ? [driftChecks] : [])],
    health: new HealthLine({ vault, runs }, logger, jit.clock),
  });
}
