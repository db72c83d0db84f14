/**
 * The guild's policy held against what a plan will actually make (planned-resources.ts), for any module: allowed
 * resource and instance types, the size of every disk, the compute instances against `max_instances`, and the
 * plan's monthly estimate against the budget, with what may already exist in the cloud and what other deployments
 * have reserved. Resources the catalogue cannot price are handled as the policy says (`unpricedResources`).
 * This is the authority after `plan`; PolicyService.validate only refuses early, from the options, what is sure to fail.
 * Every broken rule is returned as typed facts; the front end words them.
 */
import type { Provider } from '../db/schema.js';
import type { CostEstimate, PriceCatalogue } from '../pricing/catalogue.js';
import { roundToCents } from '../shared/money.js';
import type { GuildFootprint } from './guild-footprint.js';
import { estimatePlanCost, type NotEstimated } from './plan-cost.js';
import type { GuildPolicy, Reserved } from './policy-service.js';
import type { PlannedDisk, PlannedResource, PlannedValue, ResourceCategory } from './planned-resources.js';

export type PlanViolation =
  /** A type the guild does not allow, with every address of it in the plan. */
  | { rule: 'resource_type'; terraformType: string; category: ResourceCategory | null; addresses: string[]; allowed: string[] }
  /** An instance type not in the allowed list, or one the plan cannot show (known only after apply). */
  | { rule: 'instance_type'; address: string; instanceType: PlannedValue<string>; allowed: string[] }
  /** A disk over the limit, or one whose size is known only after apply. */
  | { rule: 'disk'; address: string; disk: PlannedDisk; maxGb: number }
  /** `running` counts what may exist in the cloud and what is reserved; `unsettled` those left by stopped runs. */
  | { rule: 'instances'; running: number; unsettled: number; adding: number; max: number }
  | { rule: 'budget'; estimateUsd: number; projectedUsd: number; maxUsd: number; notEstimated: number }
  /** The policy refuses resources the catalogue cannot price. */
  | { rule: 'unpriced'; resources: NotEstimated[] };

export type PlanRule = PlanViolation['rule'];

/** Why an admin must approve: the policy asks it of every deployment, or the plan holds resources not estimated. */
export type ApprovalReason = 'policy' | 'unpriced';

export interface PlanDecision {
  allowed: boolean;
  violations: PlanViolation[];
  requiresApproval: boolean;
  approvalReasons: ApprovalReason[];
  /** What the plan's resources cost per month, as far as the catalogue can price them. */
  estimate: CostEstimate;
  notEstimated: NotEstimated[];
  /** The guild's monthly estimate (everything that may exist in the cloud, and reservations) with this plan. */
  projectedMonthlyUsd: number;
  /** Compute instances the plan's resources hold: what its reservation holds until the apply has ended. */
  vms: number;
}

export interface PlanCheck {
  guildId: string;
  /** The project's provider: prices resources whose own provider is not a cloud's (tls, random, terraform_data). */
  provider: Provider;
  /** The resources of this deployment in the plan (created, replaced, updated and unchanged). */
  planned: readonly PlannedResource[];
  /** Promised to deployments that passed their last check and have not started applying. */
  reserved?: Reserved;
  /** Data each bucket is expected to hold, GB (a plan cannot say). */
  expectedStorageGb?: number | undefined;
  /** What the guild's figures already count for this deployment (planned again): not counted twice. */
  alreadyCounted?: { monthlyUsd: number; vms: number };
}

const NOTHING: Reserved = { monthlyUsd: 0, vms: 0 };

/** Whether the policy's allowed list (categories and Terraform types; empty: everything) lets this type through. */
export function isResourceTypeAllowed(allowed: readonly string[], category: ResourceCategory | null, terraformType: string): boolean {
  return allowed.length === 0 || allowed.includes(terraformType) || (category !== null && allowed.includes(category));
}

/** Every rule of `policy` the plan breaks, the estimate, and whether an admin must approve. */
export function judgePlan(policy: GuildPolicy, footprint: GuildFootprint, pricing: PriceCatalogue, check: PlanCheck): PlanDecision {
  const reserved = check.reserved ?? NOTHING;
  const counted = check.alreadyCounted ?? NOTHING;
  const changed = check.planned.filter((resource) => resource.action !== 'no-op');
  const { estimate, notEstimated } = estimatePlanCost(pricing, check.provider, check.planned, { expectedStorageGb: check.expectedStorageGb });
  const vms = check.planned.filter((resource) => resource.category === 'vm').length;
  const projectedMonthlyUsd = roundToCents(footprint.spend + reserved.monthlyUsd - counted.monthlyUsd + estimate.monthlyUsd);
  const violations: PlanViolation[] = [];

  if (projectedMonthlyUsd > policy.maxBudgetMonthly) {
    violations.push({ rule: 'budget', estimateUsd: estimate.monthlyUsd, projectedUsd: projectedMonthlyUsd, maxUsd: policy.maxBudgetMonthly, notEstimated: notEstimated.length });
  }
  const running = footprint.vms + reserved.vms - counted.vms;
  const adding = vms - counted.vms;
  if (adding > 0 && running + adding > policy.maxInstances) {
    violations.push({ rule: 'instances', running, unsettled: footprint.unsettledVms, adding, max: policy.maxInstances });
  }
  for (const resource of changed) {
    for (const disk of resource.disks) {
      if (disk.sizeGb === null || disk.sizeGb > policy.maxDiskSizeGb) violations.push({ rule: 'disk', address: resource.address, disk, maxGb: policy.maxDiskSizeGb });
    }
  }
  if (policy.allowedInstanceTypes.length > 0) {
    for (const resource of changed) {
      const instanceType = resource.instanceType;
      if (instanceType === null || (instanceType.state === 'known' && policy.allowedInstanceTypes.includes(instanceType.value))) continue;
      violations.push({ rule: 'instance_type', address: resource.address, instanceType, allowed: policy.allowedInstanceTypes });
    }
  }
  violations.push(...typesRefused(policy.allowedResourceTypes, changed));
  if (notEstimated.length > 0 && policy.unpricedResources === 'refuse') violations.push({ rule: 'unpriced', resources: notEstimated });

  const approvalReasons: ApprovalReason[] = [];
  if (policy.requireApproval) approvalReasons.push('policy');
  if (notEstimated.length > 0 && policy.unpricedResources === 'require_approval') approvalReasons.push('unpriced');
  return {
    allowed: violations.length === 0,
    violations,
    requiresApproval: approvalReasons.length > 0,
    approvalReasons,
    estimate,
    notEstimated,
    projectedMonthlyUsd,
    vms,
  };
}

/** One violation per type refused, naming each of its addresses; supporting resources serve what is allowed. */
function typesRefused(allowed: readonly string[], changed: readonly PlannedResource[]): PlanViolation[] {
  const refused = new Map<string, { category: ResourceCategory | null; addresses: string[] }>();
  for (const resource of changed) {
    if (resource.supporting || isResourceTypeAllowed(allowed, resource.category, resource.terraformType)) continue;
    const entry = refused.get(resource.terraformType) ?? { category: resource.category, addresses: [] };
    entry.addresses.push(resource.address);
    refused.set(resource.terraformType, entry);
  }
  return [...refused].map(([terraformType, entry]) => ({ rule: 'resource_type', terraformType, ...entry, allowed: [...allowed] }));
}
