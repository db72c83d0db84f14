import type { Logger } from '../logging/logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import type { GrantRepository } from '../jit/grant-repository.js';
import type { JitAuditSink, JitPolicySource } from '../jit/ports.js';
import { Janitor } from './janitor.js';
import { JitExpiryJob } from './jit-expiry-job.js';
import { VaultPurgeJob, type ExpiringVault } from './vault-purge-job.js';

export { Janitor, type JanitorOptions, type TickReport, type JobReport } from './janitor.js';
export { JitExpiryJob, type JitExpiryJobOptions, type ExpiryCounts } from './jit-expiry-job.js';
export { VaultPurgeJob, type ExpiringVault } from './vault-purge-job.js';
export type { JanitorJob, JobCounts } from './job.js';

/** The janitor with the bot's standard jobs (JIT expiry, then the vault purge), for the composition root. */
export function createJanitor(deps: {
  schedule: string;
  grants: GrantRepository;
  clock: Clock;
  audit: JitAuditSink;
  policies: JitPolicySource;
  notifier: Notifier;
  vault: ExpiringVault;
  logger: Logger;
}): Janitor {
  const { schedule, vault, logger, ...jit } = deps;
  return new Janitor({
    schedule,
    logger,
    jobs: [new JitExpiryJob({ ...jit, logger }), new VaultPurgeJob(vault)],
  });
}
