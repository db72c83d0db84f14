/**
 * The plan's resources kept with an approval (what the policy reads: types, instance types, disk sizes), read back
 * from the database at the press. Checked with zod, as anything read back is: a row that does not parse is treated
 * like a plan that changed, never half-trusted.
 */
import { z } from 'zod';
import { PROVIDERS } from '../db/schema.js';
import type { PlannedResource } from '../policy/planned-resources.js';

const plannedValue = z.union([
  z.object({ state: z.literal('known'), value: z.string(), sensitive: z.boolean() }),
  z.object({ state: z.literal('unknown') }),
]);

const plannedResourceSchema = z.object({
  address: z.string(),
  terraformType: z.string(),
  action: z.enum(['create', 'replace', 'update', 'no-op']),
  category: z.enum(['vm', 'bucket']).nullable(),
  supporting: z.boolean(),
  provider: z.enum(PROVIDERS).nullable(),
  instanceType: plannedValue.nullable(),
  disks: z.array(
    z.object({
      role: z.enum(['boot', 'data', 'scratch', 'standalone']),
      sizeGb: z.number().nullable(),
      source: z.enum(['plan', 'default', 'unknown']),
    }),
  ),
});

/** The planned resources stored as JSON, or undefined when they do not parse. */
export function readPlannedResources(json: string): PlannedResource[] | undefined {
  try {
    const parsed = z.array(plannedResourceSchema).safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
