/**
 * Seed 003's guild policies: per-guild guardrails on cost and size, checked before anything runs.
 * A guild that never set a policy gets DEFAULT_POLICY. `validate` reports every rule a request breaks, not only
 * the first, so a member learns everything to change in one go.
 */
import { z } from 'zod';
import { ENGINES, PROVIDERS, RESOURCE_TYPES, type EngineName, type Provider, type ResourceType } from '../db/schema.js';
import type { Db } from '../db/index.js';
import type { CostEstimate, PriceCatalogue } from '../pricing/catalogue.js';
import { ResourceTotals } from '../projects/resource-totals.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { assertSnowflake, SNOWFLAKE_PATTERN } from '../shared/snowflake.js';
import { InvalidDeploymentRequest, InvalidPolicy } from './errors.js';
import { PolicyRepository, type PolicyRepositoryOptions } from './policy-repository.js';
import { formatUsd } from '../shared/money.js';
import { printable } from '../shared/member-text.js';
import { instanceTypeSchema } from '../shared/instance-type.js';
import { command, text, type RichText } from '../shared/text.js';

export interface GuildPolicy {
  guildId: string;
  /** US dollars per month, across every resource of the guild that may exist in the cloud. */
  maxBudgetMonthly: number;
  /** Virtual machines that may exist in the cloud at once. */
  maxInstances: number;
  maxDiskSizeGb: number;
  /** Empty means every catalogued type is allowed. */
  allowedInstanceTypes: string[];
  /** Empty means every resource type is allowed. */
  allowedResourceTypes: ResourceType[];
  requireApproval: boolean;
  enginePreference: EngineName;
  /** Longest JIT grant, in minutes. */
  maxJitMinutes: number;
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
  enginePreference: 'terraform',
  maxJitMinutes: 480,
  notificationChannelId: null,
});

/** The ranges an administrator may set; wide enough for real use, narrow enough to catch typos. */
export const POLICY_LIMITS = {
  maxBudgetMonthly: { min: 0, max: 1_000_000 },
  maxInstances: { min: 0, max: 1_000 },
  maxDiskSizeGb: { min: 1, max: 65_536 },
  maxJitMinutes: { min: 1, max: 10_080 },
  allowedInstanceTypes: { max: 100 },
} as const;

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


function wholeIn(name: string, { min, max }: { min: number; max: number }, unit = '') {
  const range = `${name} must be a whole number from ${min} to ${max.toLocaleString('en-US')}${unit}`;
  return z.number({ error: range }).int(range).min(min, range).max(max, range);
}

/** 25, 25.5, 25.50: no fraction of a cent (allowing for binary floating point: 0.07 * 100 is 7.000000000000001). */
function isWholeCents(usd: number): boolean {
  return Math.abs(usd * 100 - Math.round(usd * 100)) < 1e-6;
}

function patchSchema(pricing: PriceCatalogue) {
  const budgetRange = `the monthly budget must be from $0 to ${formatUsd(POLICY_LIMITS.maxBudgetMonthly.max)}`;
  return z
    .strictObject({
      maxBudgetMonthly: z
        .number({ error: budgetRange })
        .finite(budgetRange)
        .min(POLICY_LIMITS.maxBudgetMonthly.min, budgetRange)
        .max(POLICY_LIMITS.maxBudgetMonthly.max, budgetRange)
        // Budgets are shown in dollars and cents: $0.001 would read "$0.00" and mean something no one sees.
        .refine((usd) => isWholeCents(usd), 'the monthly budget must be in whole cents, such as 25 or 25.50 (not 0.001)'),
      maxInstances: wholeIn('the instance limit', POLICY_LIMITS.maxInstances),
      maxDiskSizeGb: wholeIn('the disk limit', POLICY_LIMITS.maxDiskSizeGb, ' GB'),
      maxJitMinutes: wholeIn('the longest JIT grant', POLICY_LIMITS.maxJitMinutes, ' minutes'),
      allowedInstanceTypes: z
        .array(z.string().trim(), { error: 'allowed instance types must be a list of names' })
        .max(POLICY_LIMITS.allowedInstanceTypes.max, `at most ${POLICY_LIMITS.allowedInstanceTypes.max} allowed instance types`)
        .superRefine((types, ctx) => {
          const unknown = types.filter((type) => !pricing.hasInstanceType(type));
          if (unknown.length > 0) {
            ctx.addIssue({
              code: 'custom',
              message: `unknown instance type${unknown.length > 1 ? 's' : ''} ${unknown.map((t) => `"${printable(t)}"`).join(', ')}; known types include ${PROVIDERS.map((p) => pricing.instanceTypes(p).slice(0, 3).join(', ')).join(', ')}`,
            });
          }
        })
        .transform((types) => [...new Set(types)]),
      allowedResourceTypes: z
        .array(z.enum(RESOURCE_TYPES, { error: `resource types must be among: ${RESOURCE_TYPES.join(', ')}` }), {
          error: `allowed resource types must be a list among: ${RESOURCE_TYPES.join(', ')}`,
        })
        .transform((types) => [...new Set(types)]),
      requireApproval: z.boolean({ error: 'require approval must be true or false' }),
      enginePreference: z.enum(ENGINES, { error: `the engine must be one of: ${ENGINES.join(', ')}` }),
      notificationChannelId: z
        .string()
        .regex(SNOWFLAKE_PATTERN, 'the notification channel must be a channel id (17 to 20 digits)')
        .nullable(),
    })
    .partial();
}

/** Ceilings set from outside the guild (its tier, src/tiers): the policy in force is never above them. */
export type PolicyCeilings = (guildId: string) => { maxBudgetMonthly: number | null; maxInstances: number | null };

export class PolicyService {
  readonly #schema: ReturnType<typeof patchSchema>;
  readonly #policies: PolicyRepository;
  readonly #totals: ResourceTotals;

  constructor(
    private readonly db: Db,
    private readonly pricing: PriceCatalogue,
    private readonly clock: Clock = systemClock,
    private readonly ceilings?: PolicyCeilings,
    options: PolicyRepositoryOptions = {},
  ) {
    this.#schema = patchSchema(pricing);
    this.#policies = new PolicyRepository(db, options);
    this.#totals = new ResourceTotals(db);
  }

  /**
   * The guild's policy in force: what it set (or the defaults), lowered to its tier's ceilings. The result may be
   * shared with other callers and is frozen: copy it to change it.
   */
  get(guildId: string): GuildPolicy {
    assertSnowflake(guildId, 'guildId');
    const policy = this.#policies.find(guildId) ?? { guildId, ...DEFAULT_POLICY, allowedInstanceTypes: [], allowedResourceTypes: [], updatedAt: null, updatedBy: null };
    const cap = this.ceilings?.(guildId);
    if (cap === undefined) return policy;
    return {
      ...policy,
      maxBudgetMonthly: cap.maxBudgetMonthly === null ? policy.maxBudgetMonthly : Math.min(policy.maxBudgetMonthly, cap.maxBudgetMonthly),
      maxInstances: cap.maxInstances === null ? policy.maxInstances : Math.min(policy.maxInstances, cap.maxInstances),
    };
  }

  /**
   * Validates and applies a partial update.
   * @throws InvalidPolicy listing every problem (and the allowed range or values), or that nothing was given.
   */
  update(
    guildId: string,
    patch: PolicyPatch | Readonly<Record<string, unknown>>,
    userId: string,
  ): { before: GuildPolicy; after: GuildPolicy } {
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

    return this.db.transaction(() => {
      const before = this.get(guildId);
      const now = this.clock.now();
      const after: GuildPolicy = { ...before, ...changes, updatedAt: now, updatedBy: userId };
      const values = {
        max_budget_monthly: after.maxBudgetMonthly,
        max_instances: after.maxInstances,
        max_disk_size_gb: after.maxDiskSizeGb,
        allowed_instance_types: JSON.stringify(after.allowedInstanceTypes),
        allowed_resource_types: JSON.stringify(after.allowedResourceTypes),
        require_approval: after.requireApproval,
        iac_engine_preference: after.enginePreference,
        max_jit_minutes: after.maxJitMinutes,
        notification_channel_id: after.notificationChannelId,
        updated_by: userId,
        updated_at: now,
      };
      this.#policies.save(guildId, values, now);
      return { before, after };
    });
  }

  /**
   * Checks a deployment against the guild's policy before anything runs, and returns every rule it breaks.
   * Budget and instance counts use every resource of the guild that may exist in the cloud (MAY_EXIST_IN_CLOUD):
   * what a failed or cancelled apply left behind counts until it is destroyed.
   * @throws InvalidDeploymentRequest for a malformed request; UnknownInstanceType from the catalogue.
   */
  validate(guildId: string, request: DeploymentRequest, reserved: Reserved = NOTHING_RESERVED): PolicyDecision {
    assertSnowflake(guildId, 'guildId');
    const parsedRequest = requestSchema.safeParse(request);
    if (!parsedRequest.success) throw new InvalidDeploymentRequest(parsedRequest.error.issues.map((i) => `expected ${i.message}`));
    const valid = parsedRequest.data;
    const policy = this.get(guildId);
    const estimate = this.pricing.estimate(valid);
    const violations: PolicyViolation[] = [];

    const totals = this.#totals.inCloud(guildId);
    const live = { spend: totals.monthlyUsd, vms: totals.vms, unsettledVms: totals.vmsLeftByStoppedRuns };
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
    if (policy.allowedResourceTypes.length > 0 && !policy.allowedResourceTypes.includes(valid.resourceType)) {
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
}

const requestSchema = z.object({
  provider: z.enum(PROVIDERS, { error: `a provider among: ${PROVIDERS.join(', ')}` }),
  resourceType: z.enum(RESOURCE_TYPES, { error: `a resource type among: ${RESOURCE_TYPES.join(', ')}` }),
  instanceType: instanceTypeSchema.optional(),
  diskSizeGb: z.number().int('a disk size in whole GB').min(0, 'a disk size of at least 0 GB').max(1_000_000).optional(),
});
