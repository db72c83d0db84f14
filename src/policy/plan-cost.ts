/**
 * The monthly cost of what a plan will make, from the price catalogue (src/pricing): a VM's instance type and
 * disks, a bucket's allowance and the storage its deployer expects, a standalone disk, or a flat price the catalogue
 * knows for the type (0 for networks and the like). Whatever it cannot price is listed as not estimated, with why,
 * and the guild's policy decides what that means (plan-policy.ts); it is never counted as free.
 */
import type { Provider } from '../db/schema.js';
import type { CostEstimate, CostLine, PriceCatalogue } from '../pricing/catalogue.js';
import { roundToCents } from '../shared/money.js';
import type { PlannedResource } from './planned-resources.js';

export type NotEstimatedReason = 'unknown_type' | 'instance_type_unknown' | 'instance_type_not_priced' | 'disk_size_unknown';

export interface NotEstimated {
  address: string;
  terraformType: string;
  reason: NotEstimatedReason;
  /** The instance type the catalogue does not list (left out when the plan marks it sensitive). */
  instanceType?: string;
}

export interface PlanCost {
  /** What could be priced, one line per priced part. */
  estimate: CostEstimate;
  notEstimated: NotEstimated[];
}

export interface PlanCostOptions {
  /** Data each bucket is expected to hold, GB: a plan cannot say (the member's `disk_size` for a built-in bucket). */
  expectedStorageGb?: number | undefined;
}

type Priced = { lines: CostLine[] } | { notEstimated: Omit<NotEstimated, 'address' | 'terraformType'> };

/** Prices every resource given; `projectProvider` prices those whose own provider is not a cloud's (tls, random). */
export function estimatePlanCost(pricing: PriceCatalogue, projectProvider: Provider, resources: readonly PlannedResource[], options: PlanCostOptions = {}): PlanCost {
  const lines: CostLine[] = [];
  const notEstimated: NotEstimated[] = [];
  for (const resource of resources) {
    const priced = priceOne(pricing, resource.provider ?? projectProvider, resource, options);
    if ('lines' in priced) lines.push(...priced.lines);
    else notEstimated.push({ address: resource.address, terraformType: resource.terraformType, ...priced.notEstimated });
  }
  return { estimate: { monthlyUsd: roundToCents(lines.reduce((sum, line) => sum + line.monthlyUsd, 0)), lines }, notEstimated };
}

function priceOne(pricing: PriceCatalogue, provider: Provider, resource: PlannedResource, options: PlanCostOptions): Priced {
  const { address } = resource;
  if (resource.category === 'vm') return priceVm(pricing, provider, resource);
  const flat = pricing.resourceMonthlyUsd(provider, resource.terraformType);
  if (flat !== undefined) return { lines: flat > 0 ? [{ label: `${address}: ${resource.terraformType}`, monthlyUsd: flat }] : [] };
  if (resource.category === 'bucket') {
    const bucket = pricing.bucketPrices(provider);
    const stored = options.expectedStorageGb ?? 0;
    const bucketLines = [{ label: `${address}: bucket (base)`, monthlyUsd: roundToCents(bucket.baseMonthlyUsd) }];
    if (stored > 0) bucketLines.push({ label: `${address}: ${stored} GB stored`, monthlyUsd: roundToCents(stored * bucket.perGbMonthUsd) });
    return { lines: bucketLines };
  }
  if (resource.disks.length > 0) return priceDisks(pricing, provider, resource, []);
  return { notEstimated: { reason: 'unknown_type' } };
}

function priceVm(pricing: PriceCatalogue, provider: Provider, resource: PlannedResource): Priced {
  const instanceType = resource.instanceType;
  if (instanceType === null || instanceType.state === 'unknown') return { notEstimated: { reason: 'instance_type_unknown' } };
  const monthly = pricing.instanceMonthlyUsd(provider, instanceType.value);
  if (monthly === undefined) {
    return { notEstimated: { reason: 'instance_type_not_priced', ...(instanceType.sensitive ? {} : { instanceType: instanceType.value }) } };
  }
  const shown = instanceType.sensitive ? 'instance' : `${instanceType.value} instance`;
  return priceDisks(pricing, provider, resource, [{ label: `${resource.address}: ${shown} (on-demand)`, monthlyUsd: monthly }]);
}

function priceDisks(pricing: PriceCatalogue, provider: Provider, resource: PlannedResource, lines: CostLine[]): Priced {
  for (const disk of resource.disks) {
    if (disk.sizeGb === null) return { notEstimated: { reason: 'disk_size_unknown' } };
    if (disk.sizeGb > 0) lines.push({ label: `${resource.address}: ${disk.sizeGb} GB ${disk.role} disk`, monthlyUsd: roundToCents(disk.sizeGb * pricing.diskPerGbMonthUsd(provider)) });
  }
  return { lines };
}
