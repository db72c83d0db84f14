/**
 * What a guild has in the cloud, from `guild_resource_totals` (a row per status and resource type, kept by triggers
 * on cloud_resources): a handful of rows however many resources the guild has, read by a statement prepared once.
 * The budget check and /cloud-projects both read it, so the estimate a member sees is the one the policy checks.
 */
import { eq, sql } from 'drizzle-orm';
import { guildResourceTotals } from '../db/schema.js';
import type { Db } from '../db/index.js';
import { LEFT_BY_STOPPED_RUNS, MAY_EXIST_IN_CLOUD } from './resource-statuses.js';

export interface InCloudTotals {
  /** US dollars per month, of every resource that may exist in the cloud (MAY_EXIST_IN_CLOUD). */
  monthlyUsd: number;
  /** Virtual machines that may exist in the cloud. */
  vms: number;
  /** Of those, the ones runs that stopped part-way left (LEFT_BY_STOPPED_RUNS). */
  vmsLeftByStoppedRuns: number;
}

export class ResourceTotals {
  readonly #ofGuild;

  constructor(db: Db) {
    this.#ofGuild = db
      .select({
        status: guildResourceTotals.status,
        resourceType: guildResourceTotals.resource_type,
        resources: guildResourceTotals.resources,
        monthlyUsd: guildResourceTotals.monthly_usd,
      })
      .from(guildResourceTotals)
      .where(eq(guildResourceTotals.guild_id, sql.placeholder('guildId')))
      .prepare();
  }

  inCloud(guildId: string): InCloudTotals {
    const totals: InCloudTotals = { monthlyUsd: 0, vms: 0, vmsLeftByStoppedRuns: 0 };
    for (const row of this.#ofGuild.all({ guildId })) {
      if (!MAY_EXIST_IN_CLOUD.includes(row.status)) continue;
      totals.monthlyUsd += row.monthlyUsd;
      if (row.resourceType !== 'vm') continue;
      totals.vms += row.resources;
      if (LEFT_BY_STOPPED_RUNS.includes(row.status)) totals.vmsLeftByStoppedRuns += row.resources;
    }
    return totals;
  }
}
