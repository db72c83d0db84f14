/**
 * Seed 003's guild policies: per-guild guardrails on cost and size, checked before anything runs.
 * A guild that never set a policy gets DEFAULT_POLICY. `validate` reports every rule a request's options break,
 * not only the first, so a member learns everything to change in one go; `checkPlan` holds the same policy against
 * what the plan will make (plan-policy.ts), and is the authority once there is a plan.
 */
import { z } from 'zod';
import {
  PROVIDERS,
  RESOURCE_TYPES,
  type EngineName,
  type Provider,
  type ResourceType,
  type UnpricedPolicy,
} from '../db/schema.js';
import { UnitOfWork, type DataAccess } from '../db/data-access.js';
import { serialiseGuild } from '../db/guild-lock.js';
import type { CostEstimate, PriceCatalogue } from '../pricing/catalogue.js';
import { resourceTotalsFor, type ResourceTotals } from '../projects/resource-totals.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { InvalidDeploymentRequest, InvalidPolicy } from './errors.js';
import { patchSchema, POLICY_LIMITS } from './policy-patch.js';
import { policyRepositoryFor, type PolicyRepository, type PolicyRepositoryOptions } from './policy-repository.js';
import { formatUsd } from '../shared/money.js';
import { formatDuration } from '../shared/duration.js';
import { printable } from '../shared/member-text.js';
import { instanceTypeSchema } from '../shared/instance-type.js';
import { command, text, type RichText } from '../shared/text.js';
import type { GuildFootprint } from './guild-footprint.js';
import { isResourceTypeAllowed, judgePlan, type PlanCheck, type PlanDecision } from './plan-policy.js';

export interface GuildPolicy {
  guildId: string;
  /** US dollars per month, across every resource of the guild that may exist in the cloud. */
  maxBudgetMonthly: number;
  /** Virtual machines that may exist in the cloud at once. */
  maxInstances: number;
  maxDiskSizeGb: number;
  /** Empty means every catalogued type is allowed. */
  allowedInstanceTypes: string[];
  /**
   * Categories (`vm`, `bucket`) and Terraform resource types (`google_compute_instance`) a deployment may create;
   * empty means every type is allowed.
   */
  allowedResourceTypes: string[];
  requireApproval: boolean;
  /** What a plan holding resources the price catalogue cannot estimate needs: nothing more, an approval, or refusal. */
  unpricedResources: UnpricedPolicy;
  enginePreference: EngineName;
  /** Longest JIT grant, in minutes. */
  maxJitMinutes: number;
  /** Minutes a member may add to their own grant, in total, without a review; 0 = every extension is reviewed. */
  jitSelfExtendMinutes: number;
  /** Time to live (minutes) of a deployment that asks for none; null: none (src/ttl). */
  defaultTtlMinutes: number | null;
  /** Longest time to live (minutes) a deployment may have; null: no limit, and deployments may have none. */
  maxTtlMinutes: number | null;
  /** Where guild-wide notices go (e.g. when a DM is refused); null for none. */
  notificationChannelId: string | null;
  /** Null while the guild runs on defaults. */
  updatedAt: number | null;
  updatedBy: string | null;
}

export type PolicySettings = Omit<GuildPolicy, 'guildId' | 'updatedAt' | 'updatedBy'>;
export type PolicyPatch = Partial<PolicySettings>;

/** Seed 003's defaults, plus an 8-hour JIT ceiling and no notification channel. */
export const DEFAULT_POLICY: Readonly<PolicySettings> = Object.freeze({
  maxBudgetMonthly: 1000,
  maxInstances: 10,
  maxDiskSizeGb: 500,
  allowedInstanceTypes: [],
  allowedResourceTypes: [],
  requireApproval: false,
  unpricedResources: 'require_approval',
  enginePreference: 'terraform',
  maxJitMinutes: 480,
  jitSelfExtendMinutes: 0,
  defaultTtlMinutes: null,
  maxTtlMinutes: null,
  notificationChannelId: null,
});


/**
 * The Terraform type of each built-in resource (what src/engine/config-generator.ts writes for it), so a policy that
 * lists Terraform types is read the same way by the option check as by the plan check.
 */
export const BUILT_IN_TERRAFORM_TYPES: Readonly<Record<Provider, Readonly<Record<ResourceType, string>>>> = {
  gcp: { vm: 'google_compute_instance', bucket: 'google_storage_bucket' },
  aws: { vm: 'aws_instance', bucket: 'aws_s3_bucket' },
  azure: { vm: 'azurerm_linux_virtual_machine', bucket: 'azurerm_storage_account' },
};

export { POLICY_LIMITS };

export interface DeploymentRequest {
  provider: Provider;
  resourceType: ResourceType;
  instanceType?: string;
  diskSizeGb?: number;
}

export type PolicyRule = 'budget' | 'instances' | 'disk' | 'instance_type' | 'resource_type';

export interface PolicyViolation {
  rule: PolicyRule;
  message: RichText;
}

/** Spend and instances already promised to deployments that have passed their last check but not yet started. */
export interface Reserved {
  monthlyUsd: number;
  vms: number;
}
const NOTHING_RESERVED: Reserved = { monthlyUsd: 0, vms: 0 };

export interface PolicyDecision {
  allowed: boolean;
  violations: PolicyViolation[];
  requiresApproval: boolean;
  estimate: CostEstimate;
  /** The guild's monthly estimate (everything that may exist in the cloud) including this request. */
  projectedMonthlyUsd: number;
}



/** Ceilings set from outside the guild (its tier, src/tiers): the policy in force is never above them. */
export type PolicyCeilings = (guildId: string) => Promise<Ceilings> | Ceilings;
interface Ceilings {
  maxBudgetMonthly: number | null;
  maxInstances: number | null;
}

/** What the policy reads: the guild's own settings, and what it has in the cloud. */
interface PolicyReads {
  policies: PolicyRepository;
  totals: ResourceTotals;
  /** Inside a unit of work: the rest of it runs alone for this guild's policy (src/db/guild-lock.ts). */
  serialise(guildId: string): Promise<void>;
}

export class PolicyService {
  readonly #schema: ReturnType<typeof patchSchema>;
  readonly #units: UnitOfWork<PolicyReads>;

  constructor(
    data: DataAccess,
    private readonly pricing: PriceCatalogue,
    private readonly clock: Clock = systemClock,
    private readonly ceilings?: PolicyCeilings,
    options: PolicyRepositoryOptions = {},
  ) {
    this.#schema = patchSchema(pricing);
    this.#units = new UnitOfWork(data, (session) => ({
      policies: policyRepositoryFor(session, options),
      totals: resourceTotalsFor(session),
      serialise: (guildId) => serialiseGuild(session, 'policy', guildId),
    }));
  }

  /**
   * What the guild may already have in the cloud, as the policy counts it (totals kept by triggers, resource-totals.ts).
   * Read in the unit of work the caller is in, if any (a budget reservation's: DataAccess.current).
   */
  async #footprint(guildId: string): Promise<GuildFootprint> {
    const totals = await this.#units.current.totals.inCloud(guildId);
    return { spend: totals.monthlyUsd, vms: totals.vms, unsettledVms: totals.vmsLeftByStoppedRuns };
  }

  /**
   * The guild's policy in force: what it set (or the defaults), lowered to its tier's ceilings. The result may be
   * shared with other callers and is frozen: copy it to change it.
   */
  async get(guildId: string): Promise<GuildPolicy> {
    assertSnowflake(guildId, 'guildId');
    return this.#inForce(this.#units.current, guildId);
  }

  async #inForce(reads: PolicyReads, guildId: string): Promise<GuildPolicy> {
    const policy = await this.#ownPolicy(reads, guildId);
    if (!this.ceilings) return policy;
    const cap = await this.ceilings(guildId);
    return {
      ...policy,
      maxBudgetMonthly: cap.maxBudgetMonthly === null ? policy.maxBudgetMonthly : Math.min(policy.maxBudgetMonthly, cap.maxBudgetMonthly),
      maxInstances: cap.maxInstances === null ? policy.maxInstances : Math.min(policy.maxInstances, cap.maxInstances),
    };
  }

  /** What the guild itself set (or the defaults), before its tier's ceilings lower it. */
  async #ownPolicy(reads: PolicyReads, guildId: string): Promise<GuildPolicy> {
    return (await reads.policies.find(guildId)) ?? { guildId, ...DEFAULT_POLICY, allowedInstanceTypes: [], allowedResourceTypes: [], updatedAt: null, updatedBy: null };
  }

  /**
   * Validates and applies a partial update.
   * @throws InvalidPolicy listing every problem (and the allowed range or values), or that nothing was given.
   */
  async update(
    guildId: string,
    patch: PolicyPatch | Readonly<Record<string, unknown>>,
    userId: string,
  ): Promise<{ before: GuildPolicy; after: GuildPolicy }> {
    assertSnowflake(guildId, 'guildId');
    assertSnowflake(userId, 'userId');
    const parsed = this.#schema.safeParse(patch);
    if (!parsed.success) {
      throw new InvalidPolicy(
        parsed.error.issues.map((issue) =>
          issue.code === 'unrecognized_keys'
            ? `unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${printable(k)}"`).join(', ')}`
            : issue.message,
        ),
      );
    }
    const changes = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)) as PolicyPatch;
    if (Object.keys(changes).length === 0) throw new InvalidPolicy(['nothing to change: give at least one setting']);

    return this.#units.transaction(async (tx) => {
      // Two admins' changes to one guild merge rather than the second overwriting the first with what it read.
      await tx.serialise(guildId);
      const before = await this.#inForce(tx, guildId);
      const now = this.clock.now();
      // The guild's own values, not the tier-lowered ones: a later tier upgrade must lift the ceiling again.
      const after: GuildPolicy = { ...(await this.#ownPolicy(tx, guildId)), ...changes, updatedAt: now, updatedBy: userId };
      if (after.defaultTtlMinutes !== null && after.maxTtlMinutes !== null && after.defaultTtlMinutes > after.maxTtlMinutes) {
        throw new InvalidPolicy([`the default TTL (${formatDuration(after.defaultTtlMinutes * 60_000)}) must not be above the maximum TTL (${formatDuration(after.maxTtlMinutes * 60_000)})`]);
      }
      const values = {
        max_budget_monthly: after.maxBudgetMonthly,
        max_instances: after.maxInstances,
        max_disk_size_gb: after.maxDiskSizeGb,
        allowed_instance_types: JSON.stringify(after.allowedInstanceTypes),
        allowed_resource_types: JSON.stringify(after.allowedResourceTypes),
        require_approval: after.requireApproval,
        unpriced_resources: after.unpricedResources,
        iac_engine_preference: after.enginePreference,
        max_jit_minutes: after.maxJitMinutes,
        jit_self_extend_minutes: after.jitSelfExtendMinutes,
        default_ttl_minutes: after.defaultTtlMinutes,
        max_ttl_minutes: after.maxTtlMinutes,
        notification_channel_id: after.notificationChannelId,
        updated_by: userId,
        updated_at: now,
      };
      await tx.policies.save(guildId, values, now);
      return { before, after: await this.#inForce(tx, guildId) };
    });
  }

  /**
   * Checks a deployment against the guild's policy before anything runs, and returns every rule it breaks.
   * Budget and instance counts use every resource of the guild that may exist in the cloud (MAY_EXIST_IN_CLOUD):
   * what a failed or cancelled apply left behind counts until it is destroyed.
   * @throws InvalidDeploymentRequest for a malformed request; UnknownInstanceType from the catalogue.
   */
  async validate(guildId: string, request: DeploymentRequest, reserved: Reserved = NOTHING_RESERVED): Promise<PolicyDecision> {
    assertSnowflake(guildId, 'guildId');
    const parsedRequest = requestSchema.safeParse(request);
    if (!parsedRequest.success) throw new InvalidDeploymentRequest(parsedRequest.error.issues.map((i) => `expected ${i.message}`));
    const valid = parsedRequest.data;
    const policy = await this.get(guildId);
    const estimate = this.pricing.estimate(valid);
    const violations: PolicyViolation[] = [];

    const live = await this.#footprint(guildId);
    // Deployments approved but not yet applying count too, or two could both fit a budget only one fits.
    live.spend += reserved.monthlyUsd;
    live.vms += reserved.vms;
    const projectedMonthlyUsd = Math.round((live.spend + estimate.monthlyUsd) * 100) / 100;

    if (projectedMonthlyUsd > policy.maxBudgetMonthly) {
      violations.push({
        rule: 'budget',
        message: `Estimated monthly cost (${formatUsd(estimate.monthlyUsd)}) would bring the guild to ${formatUsd(projectedMonthlyUsd)}, over its budget limit (${formatUsd(policy.maxBudgetMonthly)}).`,
      });
    }
    if (valid.resourceType === 'vm' && live.vms >= policy.maxInstances) {
      // Say so when some of them are left by runs that stopped part-way: the member may not think of them as running.
      const unsettled =
        live.unsettledVms > 0
          ? text` (${live.unsettledVms} of them failed, interrupted or being destroyed, and may still exist in the cloud: ${command('projects')} lists them, ${command('destroy')} removes them)`
          : undefined;
      violations.push({
        rule: 'instances',
        message: text`The guild already runs ${live.vms} of its ${policy.maxInstances} allowed instances${unsettled}; destroy one first.`,
      });
    }
    if (valid.diskSizeGb !== undefined && valid.diskSizeGb > policy.maxDiskSizeGb) {
      violations.push({
        rule: 'disk',
        message: `Disk size (${valid.diskSizeGb} GB) exceeds the guild limit (${policy.maxDiskSizeGb} GB).`,
      });
    }
    if (valid.instanceType !== undefined && policy.allowedInstanceTypes.length > 0 && !policy.allowedInstanceTypes.includes(valid.instanceType)) {
      violations.push({
        rule: 'instance_type',
        message: text`Instance type "${valid.instanceType}" is not allowed in this guild; allowed: ${policy.allowedInstanceTypes.join(', ')}.`,
      });
    }
    if (!isResourceTypeAllowed(policy.allowedResourceTypes, valid.resourceType, BUILT_IN_TERRAFORM_TYPES[valid.provider][valid.resourceType])) {
      violations.push({
        rule: 'resource_type',
        message: `Resource type "${valid.resourceType}" is not allowed in this guild; allowed: ${policy.allowedResourceTypes.join(', ')}.`,
      });
    }

    return {
      allowed: violations.length === 0,
      violations,
      requiresApproval: policy.requireApproval,
      estimate,
      projectedMonthlyUsd,
    };
  }

  /**
   * The guild's policy against what a plan will make (plan-policy.ts), with everything that may exist in the cloud:
   * after `plan`, the authority on whether the deployment may be applied.
   */
  async checkPlan(check: PlanCheck): Promise<PlanDecision> {
    assertSnowflake(check.guildId, 'guildId');
    return judgePlan(await this.get(check.guildId), await this.#footprint(check.guildId), this.pricing, check);
  }
}

const requestSchema = z.object({
  provider: z.enum(PROVIDERS, { error: `a provider among: ${PROVIDERS.join(', ')}` }),
  resourceType: z.enum(RESOURCE_TYPES, { error: `a resource type among: ${RESOURCE_TYPES.join(', ')}` }),
  instanceType: instanceTypeSchema.optional(),
  diskSizeGb: z.number().int('a disk size in whole GB').min(0, 'a disk size of at least 0 GB').max(1_000_000).optional(),
});
