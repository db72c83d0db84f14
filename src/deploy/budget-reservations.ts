/**
 * Budget and instance slots promised to deployments between their policy check at Apply and the end of their run.
 * Without them, two deployments checked a moment apart could both fit a budget only one of them fits. They are
 * `budget_holds` rows, not memory, because the two deployments may be pressed in two processes (two shards, two
 * machines) on one database: the check and the hold are one transaction (`reserveIfAllowed`), which takes the write
 * lock at BEGIN, so the second check waits for the first hold and counts it.
 *
 * A hold is released when its run ends, either way. A holder that crashed cannot release it, so every hold is a
 * lease (src/shared/leases.ts): its process's heartbeat renews it while the process lives, and it stops counting
 * LEASE_MS after the last beat. By then the crashed run is over, and its resource counts on its own if it reached
 * the cloud (applying, failed and interrupted resources are in the guild's footprint).
 */
import { and, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { budgetHolds } from '../db/schema.js';
import type { Reserved } from '../policy/policy-service.js';
import type { Clock } from '../shared/clock.js';
import { LEASE_MS, type LeaseRenewer } from '../shared/leases.js';

/** A deployment's share: its monthly estimate, and its compute instances. */
export interface Hold {
  monthlyUsd: number;
  vms: number;
}

/** What a policy check answers, as far as a hold needs it. */
interface Decision {
  allowed: boolean;
  estimate: { monthlyUsd: number };
  vms: number;
}

export class BudgetReservations implements LeaseRenewer {
  /** Holds whose release failed (the database busy past its timeout): retried at each beat, never renewed. */
  readonly #unreleased = new Map<string, { guildId: string; resourceId: number }>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** This process (processOwnerId): its heartbeat renews its own holds only. */
    readonly owner: string,
  ) {}

  /** What this guild has promised and not yet spent, in every process (expired holds count for nothing). */
  reservedFor(guildId: string): Reserved {
    const row = this.db
      .select({ monthlyUsd: sql<number>`coalesce(sum(${budgetHolds.monthly_usd}), 0)`, vms: sql<number>`coalesce(sum(${budgetHolds.vms}), 0)` })
      .from(budgetHolds)
      .where(and(eq(budgetHolds.guild_id, guildId), gt(budgetHolds.expires_at, this.clock.now())))
      .get();
    return { monthlyUsd: row?.monthlyUsd ?? 0, vms: row?.vms ?? 0 };
  }

  /**
   * Runs `check` against what is reserved now and, when it allows, holds the resource's share, in one transaction.
   * `release` is there when the hold was taken: call it once the run has ended, either way.
   */
  reserveIfAllowed<D extends Decision>(guildId: string, resourceId: number, check: (reserved: Reserved) => D): { decision: D; release?: () => void } {
    return this.db.transaction(() => {
      const decision = check(this.reservedFor(guildId));
      if (!decision.allowed) return { decision };
      return { decision, release: this.hold(guildId, resourceId, { monthlyUsd: decision.estimate.monthlyUsd, vms: decision.vms }) };
    });
  }

  /** Holds a resource's share until the returned release is called. Only after a check: see reserveIfAllowed. */
  hold(guildId: string, resourceId: number, hold: Hold): () => void {
    const values = { monthly_usd: hold.monthlyUsd, vms: hold.vms, owner: this.owner, expires_at: this.clock.now() + LEASE_MS };
    // A resource has one deployment at a time; a row left by a crashed holder of the same resource is replaced.
    this.db
      .insert(budgetHolds)
      .values({ guild_id: guildId, resource_id: resourceId, ...values })
      .onConflictDoUpdate({ target: [budgetHolds.guild_id, budgetHolds.resource_id], set: values })
      .run();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release(guildId, resourceId);
    };
  }

  renewOwn(expiresAt: number): number {
    // First what could not be released: a database that takes the renewal takes the release too.
    for (const { guildId, resourceId } of [...this.#unreleased.values()]) this.#release(guildId, resourceId);
    return this.db.update(budgetHolds).set({ expires_at: expiresAt }).where(eq(budgetHolds.owner, this.owner)).run().changes;
  }

  #release(guildId: string, resourceId: number): void {
    const key = `${guildId}/${resourceId}`;
    try {
      this.db
        .delete(budgetHolds)
        .where(and(eq(budgetHolds.guild_id, guildId), eq(budgetHolds.resource_id, resourceId), eq(budgetHolds.owner, this.owner)))
        .run();
      this.#unreleased.delete(key);
    } catch {
      this.#unreleased.set(key, { guildId, resourceId });
    }
  }
}
