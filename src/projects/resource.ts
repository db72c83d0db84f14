/**
 * What a cloud resource is to the rest of the bot (a built-in VM or bucket, or a deployment of a template), and what
 * it takes to record a new one. Rows become these in resource-rows.ts; resource-repository.ts reads and writes them.
 */
import type { ResourceStatus, ResourceType } from '../db/schema.js';
import type { JsonValue } from '../templates/input-values.js';

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

/** What a list of resources shows of each (/cloud-projects, a destroy's targets): `toResourceLine` makes it from these columns. */
export type ResourceLine = Pick<
  Resource,
  'id' | 'resourceType' | 'template' | 'inputs' | 'sensitiveInputs' | 'instanceType' | 'diskSizeGb' | 'estimatedMonthlyCost' | 'status' | 'expiresAt'
>;
