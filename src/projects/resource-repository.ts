/**
 * The cloud resources a guild's projects stand for, and their lifecycle. Status changes follow a fixed graph and
 * are compare-and-set, so two runs racing on one resource cannot both move it.
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { RESOURCE_TYPES, cloudProjects, cloudResources, type ResourceStatus, type ResourceType } from '../db/schema.js';
import type { JsonValue } from '../templates/input-values.js';
import { StateLayout } from '../state/layout.js';
import type { Db } from '../db/index.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { STATUS_TRANSITIONS } from './resource-statuses.js';
import { IllegalStatusTransition, InvalidResource, ProjectNotFound, ResourceNotFound } from './errors.js';
import { snowflakeSchema } from '../shared/snowflake.js';
import { instanceTypeSchema } from '../shared/instance-type.js';
import { GuildCache } from '../db/guild-cache.js';
import { RESOURCE_TOTALS_CACHE } from './resource-totals.js';

/** A sensitive input of a template deployment as declared (its value is only ever in the project's vault session). */
export interface SensitiveInputDeclaration {
  name: string;
  type: string;
  nullable: boolean;
  hasDefault: boolean;
}

export interface Resource {
  id: number;
  projectId: number;
  guildId: string;
  name: string;
  /** The built-in type; null for a deployment of a template (see `template`). */
  resourceType: ResourceType | null;
  /** The template deployed: `vm` or `bucket` for the built-ins, else the template's name. */
  template: string;
  /** The template's pinned revision when it was last planned; null for the built-ins. */
  templateRevision: string | null;
  /** The non-sensitive input values, by variable name. */
  inputs: Record<string, JsonValue>;
  sensitiveInputs: SensitiveInputDeclaration[];
  /** A template deployment's folder inside its project's; null: the project's own folder (the built-ins). */
  workspace: string | null;
  instanceType: string | null;
  diskSizeGb: number | null;
  estimatedMonthlyCost: number;
  /** Compute instances (VMs) it stands for, from its last plan (1 for a built-in VM): counted with `max_instances`. */
  computeInstances: number;
  status: ResourceStatus;
  /** Terraform resource addresses this row stands for. */
  addresses: string[];
  lastError: string | null;
  /** When its time to live runs out and the janitor destroys it (src/ttl); null: no time to live (yet: see ttlMs). */
  expiresAt: number | null;
  /** The time to live asked for at deploy; the clock starts when the apply succeeds. */
  ttlMs: number | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface NewResource {
  projectId: number;
  guildId: string;
  name: string;
  resourceType: ResourceType;
  instanceType?: string;
  diskSizeGb?: number;
  estimatedMonthlyCost: number;
  createdBy: string;
}

/** A deployment of a template: a planned row with its inputs and a workspace folder of its own. */
export interface NewTemplateDeployment {
  projectId: number;
  guildId: string;
  template: string;
  templateRevision?: string | undefined;
  inputs: Record<string, JsonValue>;
  sensitiveInputs: SensitiveInputDeclaration[];
  estimatedMonthlyCost: number;
  createdBy: string;
}

const MAX_ERROR_CHARS = 2000;
/** What a deployment's inputs may take in the database: far more than any form, a bound on a row. */
const MAX_INPUTS_JSON = 256 * 1024;

const newResourceSchema = z.object({
  projectId: z.number().int().positive('a project id'),
  name: z.string().trim().min(1, 'a name').max(64, 'a name of at most 64 characters'),
  resourceType: z.enum(RESOURCE_TYPES, { error: `a resource type: ${RESOURCE_TYPES.join(', ')}` }),
  instanceType: instanceTypeSchema.optional(),
  diskSizeGb: z.number().int('a disk size in whole GB').min(0, 'a disk size of at least 0 GB').max(1_000_000).optional(),
  estimatedMonthlyCost: z.number().finite('a monthly cost').min(0, 'a monthly cost of at least $0'),
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
  estimatedMonthlyCost: z.number().finite('a monthly cost').min(0, 'a monthly cost of at least $0'),
  createdBy: snowflakeSchema,
});

type ResourceRow = typeof cloudResources.$inferSelect;

export class ResourceRepository {
  /** ResourceTotals' per-guild cache of the totals the triggers keep: every write here forgets the guild's. */
  readonly #totals: GuildCache<unknown>;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {
    this.#totals = new GuildCache(db.$client, RESOURCE_TOTALS_CACHE);
  }

  /**
   * Records a planned resource in one of the guild's projects.
   * @throws ProjectNotFound when the project is not this guild's (or is archived).
   * @throws InvalidResource listing every problem with the input.
   */
  create(input: NewResource): Resource {
    assertSnowflake(input.guildId, 'guildId');
    const parsed = newResourceSchema.safeParse(input);
    if (!parsed.success) throw new InvalidResource(parsed.error.issues.map((issue) => `expected ${issue.message}`));
    const valid = parsed.data;
    if (valid.resourceType === 'vm' && !valid.instanceType) throw new InvalidResource(['a virtual machine needs an instance type']);
    return this.db.transaction((tx) => {
      const project = tx
        .select({ id: cloudProjects.id })
        .from(cloudProjects)
        .where(
          and(eq(cloudProjects.id, valid.projectId), eq(cloudProjects.guild_id, input.guildId), eq(cloudProjects.status, 'active')),
        )
        .get();
      if (!project) throw new ProjectNotFound(`#${valid.projectId}`);
      const now = this.clock.now();
      const row = tx
        .insert(cloudResources)
        .values({
          project_id: valid.projectId,
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
          created_at: now,
          updated_at: now,
        })
        .returning()
        .get();
      this.#totals.forget(input.guildId);
      return toResource(row);
    });
  }

  /**
   * Records a planned deployment of a template, with its own workspace folder (`<template>-<id>`) inside the project's.
   * @throws ProjectNotFound when the project is not this guild's (or is archived); InvalidResource.
   */
  createTemplateDeployment(input: NewTemplateDeployment): Resource {
    assertSnowflake(input.guildId, 'guildId');
    const parsed = newDeploymentSchema.safeParse(input);
    if (!parsed.success) throw new InvalidResource(parsed.error.issues.map((issue) => `expected ${issue.message}`));
    const valid = parsed.data;
    const inputs = JSON.stringify(valid.inputs);
    if (inputs.length > MAX_INPUTS_JSON) throw new InvalidResource([`inputs of at most ${MAX_INPUTS_JSON / 1024} KiB`]);
    return this.db.transaction((tx) => {
      const project = tx
        .select({ id: cloudProjects.id })
        .from(cloudProjects)
        .where(and(eq(cloudProjects.id, valid.projectId), eq(cloudProjects.guild_id, input.guildId), eq(cloudProjects.status, 'active')))
        .get();
      if (!project) throw new ProjectNotFound(`#${valid.projectId}`);
      const now = this.clock.now();
      const inserted = tx
        .insert(cloudResources)
        .values({
          project_id: valid.projectId,
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
          created_at: now,
          updated_at: now,
        })
        .returning({ id: cloudResources.id })
        .get();
      // The folder is named after the row, so no two deployments can share one.
      const row = tx
        .update(cloudResources)
        .set({ workspace: StateLayout.deploymentFolder(valid.template, inserted.id) })
        .where(eq(cloudResources.id, inserted.id))
        .returning()
        .get();
      this.#totals.forget(input.guildId);
      return toResource(row!);
    });
  }

  /** The revision a template deployment was planned with, recorded by each plan. */
  setTemplateRevision(guildId: string, id: number, revision: string | null): void {
    assertSnowflake(guildId, 'guildId');
    this.db
      .update(cloudResources)
      .set({ template_revision: revision, updated_at: this.clock.now() })
      .where(and(eq(cloudResources.id, id), eq(cloudResources.guild_id, guildId)))
      .run();
  }

  /** @throws ResourceNotFound — also for another guild's resource. */
  get(guildId: string, id: number): Resource {
    const row = this.#row(guildId, id);
    if (!row) throw new ResourceNotFound(id);
    return toResource(row);
  }

  listByProject(guildId: string, projectId: number): Resource[] {
    assertSnowflake(guildId, 'guildId');
    return this.db
      .select()
      .from(cloudResources)
      .where(and(eq(cloudResources.guild_id, guildId), eq(cloudResources.project_id, projectId)))
      .orderBy(asc(cloudResources.id))
      .all()
      .map(toResource);
  }

  /** The guild's resources, optionally only those in the given statuses. */
  listByGuild(guildId: string, statuses?: readonly ResourceStatus[]): Resource[] {
    assertSnowflake(guildId, 'guildId');
    if (statuses && statuses.length === 0) return [];
    const where = statuses
      ? and(eq(cloudResources.guild_id, guildId), inArray(cloudResources.status, [...statuses]))
      : eq(cloudResources.guild_id, guildId);
    return this.db.select().from(cloudResources).where(where).orderBy(asc(cloudResources.id)).all().map(toResource);
  }

  /**
   * Moves a resource along its lifecycle (see STATUS_TRANSITIONS), optionally recording its Terraform addresses or
   * last error. Compare-and-set: if another writer moved it first, the move is judged against the new status.
   * @throws ResourceNotFound, IllegalStatusTransition.
   */
  setStatus(
    guildId: string,
    id: number,
    status: ResourceStatus,
    extra: { addresses?: string[]; lastError?: string } = {},
  ): Resource {
    const current = this.get(guildId, id);
    if (!STATUS_TRANSITIONS[current.status].includes(status)) throw new IllegalStatusTransition(id, current.status, status);
    const addresses = extra.addresses === undefined ? undefined : addressesSchema.parse(extra.addresses);
    const row = this.db
      .update(cloudResources)
      .set({
        status,
        updated_at: this.clock.now(),
        ...(addresses === undefined ? {} : { addresses: JSON.stringify(addresses) }),
        ...(extra.lastError === undefined ? {} : { last_error: extra.lastError.slice(0, MAX_ERROR_CHARS) }),
      })
      .where(and(eq(cloudResources.id, id), eq(cloudResources.guild_id, guildId), eq(cloudResources.status, current.status)))
      .returning()
      .get();
    this.#totals.forget(guildId);
    if (!row) {
      const now = this.get(guildId, id);
      throw new IllegalStatusTransition(id, now.status, status);
    }
    return toResource(row);
  }

  /**
   * Records what the resource's plan will make, as the policy counts it from now on: its monthly estimate against
   * the budget, and its compute instances against `max_instances`. Only while it is planned: once applying, the
   * figures it was approved with stand (and count as soon as it may exist in the cloud, in the same statement that
   * moves it: the totals' triggers).
   * @throws ResourceNotFound; IllegalStatusTransition when it is no longer planned.
   */
  setPlannedFigures(guildId: string, id: number, figures: { monthlyUsd: number; computeInstances: number }): Resource {
    const cost = newResourceSchema.shape.estimatedMonthlyCost.parse(figures.monthlyUsd);
    const instances = computeInstancesSchema.parse(figures.computeInstances);
    const row = this.db
      .update(cloudResources)
      .set({ estimated_monthly_cost: cost, compute_instances: instances, updated_at: this.clock.now() })
      .where(and(eq(cloudResources.id, id), eq(cloudResources.guild_id, guildId), eq(cloudResources.status, 'planned')))
      .returning()
      .get();
    this.#totals.forget(guildId);
    if (!row) throw new IllegalStatusTransition(id, this.get(guildId, id).status, 'planned');
    return toResource(row);
  }

  #row(guildId: string, id: number): ResourceRow | undefined {
    assertSnowflake(guildId, 'guildId');
    if (!Number.isSafeInteger(id)) return undefined;
    return this.db
      .select()
      .from(cloudResources)
      .where(and(eq(cloudResources.id, id), eq(cloudResources.guild_id, guildId)))
      .get();
  }
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

/** What a list of resources shows of each (/cloud-projects, a destroy's targets): `toResourceLine` makes it from these columns. */
export type ResourceLine = Pick<
  Resource,
  'id' | 'resourceType' | 'template' | 'inputs' | 'sensitiveInputs' | 'instanceType' | 'diskSizeGb' | 'estimatedMonthlyCost' | 'status' | 'expiresAt'
>;
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
