import type { Logger } from '../logging/logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import type { GrantRepository } from '../jit/grant-repository.js';
import type { JitAuditSink, JitPolicySource } from '../jit/ports.js';
import { HealthLine, type HealthSources } from './health-line.js';
import { Janitor } from './janitor.js';
import { JitExpiryJob } from './jit-expiry-job.js';
import { VaultPurgeJob, type ExpiringVault } from './vault-purge-job.js';

export { Janitor, type JanitorOptions, type TickReport, type JobReport } from './janitor.js';
export { JitExpiryJob, type JitExpiryJobOptions, type ExpiryCounts } from './jit-expiry-job.js';
export { VaultPurgeJob, type ExpiringVault } from './vault-purge-job.js';
export { HealthLine, HEALTH_INTERVAL_MS, type HealthSources } from './health-line.js';
export type { JanitorJob, JobCounts } from './job.js';

/** The janitor with the bot's standard jobs (JIT expiry, then the vault purge) and the health line, for the composition root. */
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
}): Janitor {
  const { schedule, vault, runs, logger, ...jit } = deps;
  return new Janitor({
    schedule,
    logger,
    jobs: [new JitExpiryJob({ ...jit, logger }), new VaultPurgeJob(vault)],
    health: new HealthLine({ vault, runs }, logger, jit.clock),
  });
}
