/**
 * Between cloud_resources rows and Resources, the same on both dialects (the tables of schema.ts and pg-schema.ts
 * have the same columns): the input checked before a row is written, the values written, and a row read back.
 */
import { z } from 'zod';
import { RESOURCE_TYPES, type cloudResources } from '../db/schema.js';
import { instanceTypeSchema } from '../shared/instance-type.js';
import { assertSnowflake, snowflakeSchema } from '../shared/snowflake.js';
import type { JsonValue } from '../templates/input-values.js';
import { InvalidResource } from './errors.js';
import type { NewResource, NewTemplateDeployment, Resource, ResourceLine } from './resource.js';

const MAX_ERROR_CHARS = 2000;
/** What a deployment's inputs may take in the database: far more than any form, a bound on a row. */
const MAX_INPUTS_JSON = 256 * 1024;

const monthlyCostSchema = z.number().finite('a monthly cost').min(0, 'a monthly cost of at least $0');
const newResourceSchema = z.object({
  projectId: z.number().int().positive('a project id'),
  name: z.string().trim().min(1, 'a name').max(64, 'a name of at most 64 characters'),
  resourceType: z.enum(RESOURCE_TYPES, { error: `a resource type: ${RESOURCE_TYPES.join(', ')}` }),
  instanceType: instanceTypeSchema.optional(),
  diskSizeGb: z.number().int('a disk size in whole GB').min(0, 'a disk size of at least 0 GB').max(1_000_000).optional(),
  estimatedMonthlyCost: monthlyCostSchema,
  createdBy: snowflakeSchema,
});
const computeInstancesSchema = z.number().int().min(0).max(1_000_000);
const addressesSchema = z.array(z.string().max(500)).max(1000);
const templateNameSchema = z.string().trim().min(1, 'a template name').max(64, 'a template name of at most 64 characters');
const sensitiveInputsSchema = z
  .array(z.object({ name: z.string().min(1).max(64), type: z.string().max(4000), nullable: z.boolean(), hasDefault: z.boolean() }))
  .max(100);
const inputsJsonSchema = z.record(z.string(), z.json());
const newDeploymentSchema = z.object({
  projectId: z.number().int().positive('a project id'),
  template: templateNameSchema,
  templateRevision: z.string().max(128, 'a revision of at most 128 characters').optional(),
  inputs: inputsJsonSchema,
  sensitiveInputs: sensitiveInputsSchema,
  estimatedMonthlyCost: monthlyCostSchema,
  createdBy: snowflakeSchema,
});

/** A row of cloud_resources as drizzle reads it (either dialect: the column names and types agree). */
export type ResourceRow = typeof cloudResources.$inferSelect;
/** The columns of a new row, but its project's and the times, which the repository adds. */
type NewRowValues = Omit<typeof cloudResources.$inferInsert, 'project_id' | 'created_at' | 'updated_at'>;

export interface CheckedResource {
  guildId: string;
  projectId: number;
  values: NewRowValues;
}

/**
 * A planned built-in resource's row, checked.
 * @throws InvalidResource listing every problem with the input.
 */
export function checkedNewResource(input: NewResource): CheckedResource {
  assertSnowflake(input.guildId, 'guildId');
  const parsed = newResourceSchema.safeParse(input);
  if (!parsed.success) throw new InvalidResource(parsed.error.issues.map((issue) => `expected ${issue.message}`));
  const valid = parsed.data;
  if (valid.resourceType === 'vm' && !valid.instanceType) throw new InvalidResource(['a virtual machine needs an instance type']);
  return {
    guildId: input.guildId,
    projectId: valid.projectId,
    values: {
      guild_id: input.guildId,
      name: valid.name,
      resource_type: valid.resourceType,
      template: valid.resourceType,
      instance_type: valid.instanceType ?? null,
      disk_size_gb: valid.diskSizeGb ?? null,
      estimated_monthly_cost: valid.estimatedMonthlyCost,
      compute_instances: valid.resourceType === 'vm' ? 1 : 0,
      status: 'planned',
      created_by: valid.createdBy,
    },
  };
}

/**
 * A planned template deployment's row, checked; `now` names it (its workspace is named after its id, once known).
 * @throws InvalidResource listing every problem with the input.
 */
export function checkedNewDeployment(input: NewTemplateDeployment, now: number): CheckedResource & { template: string } {
  assertSnowflake(input.guildId, 'guildId');
  const parsed = newDeploymentSchema.safeParse(input);
  if (!parsed.success) throw new InvalidResource(parsed.error.issues.map((issue) => `expected ${issue.message}`));
  const valid = parsed.data;
  const inputs = JSON.stringify(valid.inputs);
  if (inputs.length > MAX_INPUTS_JSON) throw new InvalidResource([`inputs of at most ${MAX_INPUTS_JSON / 1024} KiB`]);
  return {
    guildId: input.guildId,
    projectId: valid.projectId,
    template: valid.template,
    values: {
      guild_id: input.guildId,
      name: `${valid.template.slice(0, 48)}-${now.toString(36)}`,
      resource_type: 'template',
      template: valid.template,
      template_revision: valid.templateRevision ?? null,
      inputs,
      sensitive_inputs: JSON.stringify(valid.sensitiveInputs),
      estimated_monthly_cost: valid.estimatedMonthlyCost,
      status: 'planned',
      created_by: valid.createdBy,
    },
  };
}

/** What a status change writes besides the status: its Terraform addresses, its last error (both checked). */
export function statusExtras(extra: { addresses?: string[]; lastError?: string }): { addresses?: string; last_error?: string } {
  const addresses = extra.addresses === undefined ? undefined : addressesSchema.parse(extra.addresses);
  return {
    ...(addresses === undefined ? {} : { addresses: JSON.stringify(addresses) }),
    ...(extra.lastError === undefined ? {} : { last_error: extra.lastError.slice(0, MAX_ERROR_CHARS) }),
  };
}

/** A plan's figures as the columns they are written to, checked. */
export function plannedFigureColumns(figures: { monthlyUsd: number; computeInstances: number }): {
  estimated_monthly_cost: number;
  compute_instances: number;
} {
  return { estimated_monthly_cost: monthlyCostSchema.parse(figures.monthlyUsd), compute_instances: computeInstancesSchema.parse(figures.computeInstances) };
}

/** A JSON column read with its schema; malformed reads as `fallback` rather than breaking every listing. */
function jsonColumn<T>(text: string, schema: z.ZodType<T>, fallback: T): T {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : fallback;
  } catch {
    return fallback;
  }
}

export type ResourceLineRow = Pick<
  ResourceRow,
  'id' | 'resource_type' | 'template' | 'inputs' | 'sensitive_inputs' | 'instance_type' | 'disk_size_gb' | 'estimated_monthly_cost' | 'status' | 'expires_at' | 'expired_at'
>;

export function toResourceLine(row: ResourceLineRow): ResourceLine {
  const builtin = row.resource_type === 'template' ? null : row.resource_type;
  return {
    id: row.id,
    resourceType: builtin,
    template: row.template || (builtin ?? ''),
    // Empty for every built-in: not worth a parse and a schema check each.
    inputs: row.inputs === '{}' ? {} : (jsonColumn(row.inputs, inputsJsonSchema, {}) as Record<string, JsonValue>),
    sensitiveInputs: row.sensitive_inputs === '[]' ? [] : jsonColumn(row.sensitive_inputs, sensitiveInputsSchema, []),
    instanceType: row.instance_type,
    diskSizeGb: row.disk_size_gb,
    estimatedMonthlyCost: row.estimated_monthly_cost,
    status: row.status,
    expiresAt: row.expired_at === null ? row.expires_at : null,
  };
}

/** A row of cloud_resources as the rest of the bot sees it. */
export function toResource(row: ResourceRow): Resource {
  const line = toResourceLine(row);
  return {
    ...line,
    projectId: row.project_id,
    guildId: row.guild_id,
    name: row.name,
    templateRevision: row.template_revision,
    workspace: line.resourceType === null ? row.workspace : null,
    computeInstances: row.compute_instances,
    addresses: jsonColumn(row.addresses, addressesSchema, []),
    lastError: row.last_error,
    ttlMs: row.ttl_ms,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
