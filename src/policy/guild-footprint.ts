/**
 * What a guild already has in the cloud, as the policy counts it: every resource that may exist there
 * (MAY_EXIST_IN_CLOUD in src/projects/resource-statuses.ts; kept by src/projects/resource-totals.ts), so what a failed or cancelled apply left behind counts until it is destroyed.
 */

export interface GuildFootprint {
  /** Monthly estimate of everything that may exist in the cloud, USD. */
  spend: number;
  /** Virtual machines that may exist in the cloud. */
  vms: number;
  /** Of those, the ones left by runs that stopped part-way (named in a refusal: members may have forgotten them). */
  unsettledVms: number;
}
