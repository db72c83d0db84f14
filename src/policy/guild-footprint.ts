/**
 * What a guild already has in the cloud, as the policy counts it: every resource that may exist there
 * (MAY_EXIST_IN_CLOUD), so what a failed or cancelled apply left behind counts until it is destroyed.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { cloudResources, type ResourceStatus } from '../db/schema.js';
import type { Db } from '../db/index.js';
import { MAY_EXIST_IN_CLOUD } from '../projects/resource-statuses.js';

export interface GuildFootprint {
  /** Monthly estimate of everything that may exist in the cloud, USD. */
  spend: number;
  /** Virtual machines that may exist in the cloud. */
  vms: number;
  /** Of those, the ones left by runs that stopped part-way (named in a refusal: members may have forgotten them). */
  unsettledVms: number;
}

/** Of MAY_EXIST_IN_CLOUD, what runs that stopped part-way leave. */
const LEFT_BY_STOPPED_RUNS: readonly ResourceStatus[] = ['failed', 'interrupted', 'destroying'];

export function guildFootprint(db: Db, guildId: string): GuildFootprint {
  return (
    db
      .select({
        spend: sql<number>`coalesce(sum(${cloudResources.estimated_monthly_cost}), 0)`,
        vms: sql<number>`coalesce(sum(case when ${cloudResources.resource_type} = 'vm' then 1 else 0 end), 0)`,
        unsettledVms: sql<number>`coalesce(sum(case when ${cloudResources.resource_type} = 'vm' and ${inArray(cloudResources.status, [...LEFT_BY_STOPPED_RUNS])} then 1 else 0 end), 0)`,
      })
      .from(cloudResources)
      .where(and(eq(cloudResources.guild_id, guildId), inArray(cloudResources.status, [...MAY_EXIST_IN_CLOUD])))
      .get() ?? { spend: 0, vms: 0, unsettledVms: 0 }
  );
}
