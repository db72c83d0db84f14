/**
 * What a policy update may set: the schema every update is checked against, listing every problem with the
 * range or values allowed (PolicyService.update).
 */
import { z } from 'zod';
import { ENGINES, PROVIDERS, RESOURCE_TYPES, UNPRICED_POLICIES } from '../db/schema.js';
import type { PriceCatalogue } from '../pricing/catalogue.js';
import { printable } from '../shared/member-text.js';
import { formatUsd } from '../shared/money.js';
import { SNOWFLAKE_PATTERN } from '../shared/snowflake.js';
import { isTerraformTypeName } from '../shared/terraform-type.js';

/** The ranges an administrator may set; wide enough for real use, narrow enough to catch typos. */
export const POLICY_LIMITS = {
  maxBudgetMonthly: { min: 0, max: 1_000_000 },
  maxInstances: { min: 0, max: 1_000 },
  maxDiskSizeGb: { min: 1, max: 65_536 },
  maxJitMinutes: { min: 1, max: 10_080 },
  jitSelfExtendMinutes: { min: 0, max: 10_080 },
  /** A year, in minutes: the longest time to live a deployment may be given (src/ttl/ttl-duration.ts). */
  ttlMinutes: { min: 1, max: 527_040 },
  allowedInstanceTypes: { max: 100 },
  allowedResourceTypes: { max: 100 },
} as const;

function wholeIn(name: string, { min, max }: { min: number; max: number }, unit = '') {
  const range = `${name} must be a whole number from ${min} to ${max.toLocaleString('en-US')}${unit}`;
  return z.number({ error: range }).int(range).min(min, range).max(max, range);
}

/** 25, 25.5, 25.50: no fraction of a cent (allowing for binary floating point: 0.07 * 100 is 7.000000000000001). */
function isWholeCents(usd: number): boolean {
  return Math.abs(usd * 100 - Math.round(usd * 100)) < 1e-6;
}

export function patchSchema(pricing: PriceCatalogue) {
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
      defaultTtlMinutes: wholeIn('the default TTL', POLICY_LIMITS.ttlMinutes, ' minutes').nullable(),
      maxTtlMinutes: wholeIn('the maximum TTL', POLICY_LIMITS.ttlMinutes, ' minutes').nullable(),
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
        .array(z.string().trim(), { error: `allowed resource types must be a list among: ${RESOURCE_TYPES.join(', ')}, or Terraform resource types` })
        .max(POLICY_LIMITS.allowedResourceTypes.max, `at most ${POLICY_LIMITS.allowedResourceTypes.max} allowed resource types`)
        .superRefine((types, ctx) => {
          const bad = types.filter((type) => !isAllowableResourceType(type));
          if (bad.length > 0) {
            ctx.addIssue({
              code: 'custom',
              message: `resource types must be among: ${RESOURCE_TYPES.join(', ')}, or Terraform resource types such as google_compute_instance (not ${bad.map((t) => `"${printable(t)}"`).join(', ')})`,
            });
          }
        })
        .transform((types) => [...new Set(types)]),
      requireApproval: z.boolean({ error: 'require approval must be true or false' }),
      unpricedResources: z.enum(UNPRICED_POLICIES, { error: `what to do with resources that cannot be estimated must be one of: ${UNPRICED_POLICIES.join(', ')}` }),
      enginePreference: z.enum(ENGINES, { error: `the engine must be one of: ${ENGINES.join(', ')}` }),
      notificationChannelId: z
        .string()
        .regex(SNOWFLAKE_PATTERN, 'the notification channel must be a channel id (17 to 20 digits)')
        .nullable(),
    })
    .partial();
}


/** `vm`, `bucket`, or a Terraform resource type. */
function isAllowableResourceType(type: string): boolean {
  return (RESOURCE_TYPES as readonly string[]).includes(type) || isTerraformTypeName(type);
}
