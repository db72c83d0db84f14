/**
 * One run per workspace across every process on the database: the lock is a `workspace_leases` row (one per guild
 * and workspace), not a map in one process's memory, so two shards (or two machines) can never run in one folder at
 * once. The row says who holds it (run, kind, member, since) for the member who is refused, and which process
 * (`owner`), whose heartbeat keeps it alive (src/shared/leases.ts). A holder that crashed stops renewing; once its
 * row has expired the next claim takes it over. The statements of each dialect are workspace-lease-rows.ts'.
 */
import { randomUUID } from 'node:crypto';
import type { DataAccess } from '../db/data-access.js';
import type { Clock } from '../shared/clock.js';
import { LEASE_MS, type LeaseRenewer } from '../shared/leases.js';
import type { WorkspaceHolder } from './errors.js';
import { leaseRowsFor, type LeaseRows } from './workspace-lease-rows.js';

export type WorkspaceClaim = { claimed: true; release: () => Promise<void> } | { claimed: false; holder: WorkspaceHolder };

export class WorkspaceLeases implements LeaseRenewer {
  readonly #rows: LeaseRows;
  /** Claims whose release failed (the database busy past its timeout): retried at each beat, never renewed. */
  readonly #unreleased = new Map<string, { guildId: string; workspace: string }>();

  constructor(
    data: DataAccess,
    private readonly clock: Clock,
    /** This process (processOwnerId): the rows it takes carry it, and its heartbeat renews those only. */
    readonly owner: string,
  ) {
    this.#rows = leaseRowsFor(data);
  }

  /** Who holds the workspace now (an expired row holds nothing). */
  holderOf(guildId: string, workspace: string): Promise<WorkspaceHolder | undefined> {
    return this.#rows.holderOf(guildId, workspace, this.clock.now());
  }

  /**
   * Takes the workspace, or says who holds it, atomically across processes (see workspace-lease-rows.ts). In one
   * unit of work: `holderFor` runs inside it, only when the workspace is free, and what it writes (the run's own
   * row) joins it, so it is kept with the lease, or rolled back with it when it throws.
   */
  async claim(guildId: string, workspace: string, holderFor: () => Promise<WorkspaceHolder>): Promise<WorkspaceClaim> {
    const token = randomUUID();
    const now = this.clock.now();
    const outcome = await this.#rows.claim({ guildId, workspace, owner: this.owner, token, now, expiresAt: now + LEASE_MS }, holderFor);
    if (!outcome.claimed) return outcome;
    let released = false;
    return {
      claimed: true,
      release: async () => {
        if (released) return;
        released = true;
        await this.#release(token, guildId, workspace);
      },
    };
  }

  /** Lets go of the leases of runs that are over for certain (marked interrupted at start-up: their process is gone). */
  async releaseRuns(runs: ReadonlyArray<{ guildId: string; runNumber: number }>): Promise<void> {
    for (const run of runs) await this.#rows.releaseRun(run.guildId, run.runNumber);
  }

  async renewOwn(expiresAt: number): Promise<number> {
    for (const [token, { guildId, workspace }] of [...this.#unreleased]) await this.#release(token, guildId, workspace);
    return this.#rows.renew(this.owner, expiresAt, [...this.#unreleased.keys()]);
  }

  /** Never throws: a release that failed is tried again at each beat and not renewed meanwhile, so at worst it expires. */
  async #release(token: string, guildId: string, workspace: string): Promise<void> {
    try {
      await this.#rows.release(guildId, workspace, token);
      this.#unreleased.delete(token);
    } catch {
      this.#unreleased.set(token, { guildId, workspace });
    }
  }
}
