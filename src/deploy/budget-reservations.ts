import type { Reserved } from '../policy/policy-service.js';

/** A deployment's share: its monthly estimate, and its compute instances (`vm` for one or none, as before plans held more). */
type Hold = { monthlyUsd: number } & ({ vms: number } | { vm: boolean });

/**
 * Budget and instance slots promised to deployments between their last policy check and the moment their resource
 * counts in the database (applying or active). Without this, two deployments checked a moment apart could both fit a
 * budget only one of them fits. In memory: a guild's interactions are handled by one process.
 */
export class BudgetReservations {
  private readonly holds = new Map<string, Map<number, Hold>>();

  /** What this guild has promised and not yet spent. */
  reservedFor(guildId: string): Reserved {
    let monthlyUsd = 0;
    let vms = 0;
    for (const hold of this.holds.get(guildId)?.values() ?? []) {
      monthlyUsd += hold.monthlyUsd;
      vms += 'vms' in hold ? hold.vms : hold.vm ? 1 : 0;
    }
    return { monthlyUsd, vms };
  }

  /** Holds a resource's share until the returned release is called (once the run has ended either way). */
  hold(guildId: string, resourceId: number, hold: Hold): () => void {
    const guildHolds = this.holds.get(guildId) ?? new Map<number, Hold>();
    guildHolds.set(resourceId, hold);
    this.holds.set(guildId, guildHolds);
    return () => {
      guildHolds.delete(resourceId);
      if (guildHolds.size === 0 && this.holds.get(guildId) === guildHolds) this.holds.delete(guildId);
    };
  }
}
