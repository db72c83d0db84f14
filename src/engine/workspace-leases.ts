/**
 * One run per workspace across every process on the database: the lock is a `workspace_leases` row (one per guild
 * and workspace), not a map in one process's memory, so two shards (or two machines) can never run in one folder at
 * once. The row says who holds it (run, kind, member, since) for the member who is refused, and which process
 * (`owner`), whose heartbeat keeps it alive (src/shared/leases.ts). A holder that crashed stops renewing; once its
 * row has expired the next claim takes it over.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, gt, lte, notInArray } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { workspaceLeases } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { LEASE_MS, type LeaseRenewer } from '../shared/leases.js';
import type { WorkspaceHolder } from './errors.js';

export type WorkspaceClaim = { claimed: true; release: () => void } | { claimed: false; holder: WorkspaceHolder };

type LeaseRow = typeof workspaceLeases.$inferSelect;

export class WorkspaceLeases implements LeaseRenewer {
  /** Claims whose release failed (the database busy past its timeout): retried at each beat, never renewed. */
  readonly #unreleased = new Map<string, { guildId: string; workspace: string }>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** This process (processOwnerId): the rows it takes carry it, and its heartbeat renews those only. */
    readonly owner: string,
  ) {}

  /** Who holds the workspace now (an expired row holds nothing). */
  holderOf(guildId: string, workspace: string): WorkspaceHolder | undefined {
    const row = this.db
      .select()
      .from(workspaceLeases)
      .where(and(eq(workspaceLeases.guild_id, guildId), eq(workspaceLeases.workspace, workspace), gt(workspaceLeases.expires_at, this.clock.now())))
      .get();
    return row && holderOf(row);
  }

  /**
   * Takes the workspace, or says who holds it. In one transaction, which takes SQLite's write lock at BEGIN, so a
   * claim in another process waits for this one and then finds the row. `holderFor` runs inside it, only when the
   * workspace is free: what it writes (the run's own row) is kept with the lease, or rolled back with it when it throws.
   */
  claim(guildId: string, workspace: string, holderFor: () => WorkspaceHolder): WorkspaceClaim {
    const token = randomUUID();
    const outcome = this.db.transaction((): WorkspaceClaim => {
      const current = this.holderOf(guildId, workspace);
      if (current) return { claimed: false, holder: current };
      const holder = holderFor();
      // An expired row is a crashed holder's: taken over here.
      this.db
        .delete(workspaceLeases)
        .where(and(eq(workspaceLeases.guild_id, guildId), eq(workspaceLeases.workspace, workspace), lte(workspaceLeases.expires_at, this.clock.now())))
        .run();
      this.db
        .insert(workspaceLeases)
        .values({
          guild_id: guildId,
          workspace,
          run_id: holder.runId,
          kind: holder.kind,
          started_by: holder.startedBy,
          since: holder.since,
          owner: this.owner,
          token,
          expires_at: this.clock.now() + LEASE_MS,
        })
        .run();
      return { claimed: true, release: () => undefined };
    });
    if (!outcome.claimed) return outcome;
    let released = false;
    return {
      claimed: true,
      release: () => {
        if (released) return;
        released = true;
        this.#release(token, guildId, workspace);
      },
    };
  }

  /** Lets go of the leases of runs that are over for certain (marked interrupted at start-up: their process is gone). */
  releaseRuns(runs: ReadonlyArray<{ guildId: string; runNumber: number }>): void {
    for (const run of runs) {
      this.db
        .delete(workspaceLeases)
        .where(and(eq(workspaceLeases.guild_id, run.guildId), eq(workspaceLeases.run_id, run.runNumber)))
        .run();
    }
  }

  renewOwn(expiresAt: number): number {
    for (const [token, { guildId, workspace }] of this.#unreleased) this.#release(token, guildId, workspace);
    const unreleased = [...this.#unreleased.keys()];
    const mine = eq(workspaceLeases.owner, this.owner);
    return this.db
      .update(workspaceLeases)
      .set({ expires_at: expiresAt })
      .where(unreleased.length === 0 ? mine : and(mine, notInArray(workspaceLeases.token, unreleased)))
      .run().changes;
  }

  #release(token: string, guildId: string, workspace: string): void {
    try {
      this.db
        .delete(workspaceLeases)
        .where(and(eq(workspaceLeases.guild_id, guildId), eq(workspaceLeases.workspace, workspace), eq(workspaceLeases.token, token)))
        .run();
      this.#unreleased.delete(token);
    } catch {
      // The heartbeat tries again and stops renewing it meanwhile, so at worst it expires.
      this.#unreleased.set(token, { guildId, workspace });
    }
  }
}

function holderOf(row: LeaseRow): WorkspaceHolder {
  return { runId: row.run_id, kind: row.kind, since: row.since, startedBy: row.started_by };
}
