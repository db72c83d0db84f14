/**
 * Seed 003's guild policies: per-guild guardrails on cost and size, checked before anything runs.
 * A guild that never set a policy gets DEFAULT_POLICY. `validate` reports every rule a request breaks, not only
 * the first, so a member learns everything to change in one go.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  ENGINES,
  PROVIDERS,
  RESOURCE_TYPES,
  cloudResources,
  guildPolicies,
  type EngineName,
  type Provider,
  type ResourceStatus,
  type ResourceType,
} from '../db/schema.js';
import type { Db } from '../db/index.js';
import type { CostEstimate, PriceCatalogue } from '../pricing/catalogue.js';
import { MAY_EXIST_IN_CLOUD } from '../projects/resource-statuses.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { assertSnowflake, SNOWFLAKE_PATTERN } from '../shared/snowflake.js';
import { InvalidDeploymentRequest, InvalidPolicy } from './errors.js';
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
  /** Minutes a member may add to their own grant, in total, without a review; 0 = every extension is reviewed. */
  jitSelfExtendMinutes: number;
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
  jitSelfExtendMinutes: 0,
  notificationChannelId: null,
});

/** The ranges an administrator may set; wide enough for real use, narrow enough to catch typos. */
export const POLICY_LIMITS = {
  maxBudgetMonthly: { min: 0, max: 1_000_000 },
  maxInstances: { min: 0, max: 1_000 },
  maxDiskSizeGb: { min: 1, max: 65_536 },
  maxJitMinutes: { min: 1, max: 10_080 },
  jitSelfExtendMinutes: { min: 0, max: 10_080 },
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

/** Of MAY_EXIST_IN_CLOUD, what runs that stopped part-way leave: named in the refusal, as members may have forgotten them. */
const LEFT_BY_STOPPED_RUNS: readonly ResourceStatus[] = ['failed', 'interrupted', 'destroying'];

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
      jitSelfExtendMinutes: wholeIn('the self-extension allowance', POLICY_LIMITS.jitSelfExtendMinutes, ' minutes'),
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

const storedList = z.array(z.string());
const storedResourceTypes = z.array(z.enum(RESOURCE_TYPES));

type PolicyRow = typeof guildPolicies.$inferSelect;

/** Ceilings set from outside the guild (its tier, src/tiers): the policy in force is never above them. */
export type PolicyCeilings = (guildId: string) => { maxBudgetMonthly: number | null; maxInstances: number | null };

export class PolicyService {
  readonly #schema: ReturnType<typeof patchSchema>;

  constructor(
    private readonly db: Db,
    private readonly pricing: PriceCatalogue,
    private readonly clock: Clock = systemClock,
    private readonly ceilings?: PolicyCeilings,
  ) {
    this.#schema = patchSchema(pricing);
  }

  /** The guild's policy in force: what it set (or the defaults), lowered to its tier's ceilings. */
  get(guildId: string): GuildPolicy {
    assertSnowflake(guildId, 'guildId');
    const row = this.db.select().from(guildPolicies).where(eq(guildPolicies.guild_id, guildId)).get();
    const policy = row ? toPolicy(row) : { guildId, ...DEFAULT_POLICY, allowedInstanceTypes: [], allowedResourceTypes: [], updatedAt: null, updatedBy: null };
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
        jit_self_extend_minutes: after.jitSelfExtendMinutes,
        notification_channel_id: after.notificationChannelId,
        updated_by: userId,
        updated_at: now,
      };
      this.db
        .insert(guildPolicies)
        .values({ guild_id: guildId, created_at: now, ...values })
        .onConflictDoUpdate({ target: guildPolicies.guild_id, set: values })
        .run();
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

    const live = this.db
      .select({
        spend: sql<number>`coalesce(sum(${cloudResources.estimated_monthly_cost}), 0)`,
        vms: sql<number>`coalesce(sum(case when ${cloudResources.resource_type} = 'vm' then 1 else 0 end), 0)`,
        unsettledVms: sql<number>`coalesce(sum(case when ${cloudResources.resource_type} = 'vm' and ${inArray(cloudResources.status, [...LEFT_BY_STOPPED_RUNS])} then 1 else 0 end), 0)`,
      })
      .from(cloudResources)
      .where(and(eq(cloudResources.guild_id, guildId), inArray(cloudResources.status, [...MAY_EXIST_IN_CLOUD])))
      .get() ?? { spend: 0, vms: 0, unsettledVms: 0 };
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

function toPolicy(row: PolicyRow): GuildPolicy {
  return {
    guildId: row.guild_id,
    maxBudgetMonthly: row.max_budget_monthly,
    maxInstances: row.max_instances,
    maxDiskSizeGb: row.max_disk_size_gb,
    allowedInstanceTypes: storedList.parse(JSON.parse(row.allowed_instance_types)),
    allowedResourceTypes: storedResourceTypes.parse(JSON.parse(row.allowed_resource_types)),
    requireApproval: row.require_approval,
    enginePreference: row.iac_engine_preference,
    maxJitMinutes: row.max_jit_minutes,
    jitSelfExtendMinutes: row.jit_self_extend_minutes,
    notificationChannelId: row.notification_channel_id,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}
