import type { JanitorJob, JobCounts } from './job.js';

/** The part of the ephemeral vault the janitor needs: drop sessions past their TTL, say how many. */
export interface ExpiringVault {
  cleanupExpired(): number;
}

/** Purges expired vault sessions so secrets never outlive their TTL in memory, even when nobody touches them. */
export class VaultPurgeJob implements JanitorJob {
  readonly name = 'vault-purge';

  constructor(private readonly vault: ExpiringVault) {}

  async run(): Promise<JobCounts> {
    return { purged: this.vault.cleanupExpired() };
  }
}
