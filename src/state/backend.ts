/**
 * Terraform state backend configuration, written as Terraform JSON syntax (`backend.tf.json`) with JSON.stringify,
 * so no bucket name or endpoint can inject HCL. Keys and prefixes always carry the guild id, so two guilds with
 * a project of the same name never share state. Credentials never go here: the engine passes them in the
 * environment of the child process.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { StateBackendKind } from '../db/schema.js';
import { endpointSchema } from '../shared/endpoint.js';
import { UserError } from '../shared/errors.js';
import { StateLayout } from './layout.js';
import { writePrivateFile } from './private-file.js';
import { assertSnowflake } from '../shared/snowflake.js';

export const BACKEND_FILE_NAME = 'backend.tf.json';

// Provider naming rules, loosely: enough to keep out anything that is not a plain name.
const s3Bucket = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3–63 lower-case letters, digits, "." or "-")');
const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'a region such as us-east-1 (for other S3-compatible services, their region name)')
  .or(z.string().regex(/^[a-z0-9-]{2,32}$/, 'a region name'));
const gcsBucket = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, 'a GCS bucket name (3–63 lower-case letters, digits, ".", "_" or "-")');

export const backendSettingsSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('local') }),
  z.strictObject({
    kind: z.literal('s3'),
    bucket: s3Bucket,
    region: awsRegion,
    /** An S3-compatible service (MinIO, Spaces, R2...), under the same rule as a stored credential's endpoint. */
    endpoint: endpointSchema.optional(),
    /**
     * The guild's stored credential whose keys reach the state, when they are not the project's own (a GCP or Azure
     * project keeping state in Spaces, say). Only its name: the keys go to the engine's environment at run time.
     */
    credentialName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a stored credential name')
      .optional(),
  }),
  z.strictObject({ kind: z.literal('gcs'), bucket: gcsBucket }),
  z.strictObject({
    kind: z.literal('azurerm'),
    resourceGroupName: z.string().regex(/^[A-Za-z0-9._()-]{1,90}$/, 'a resource group name (letters, digits, ".", "_", "-", "(", ")")'),
    storageAccountName: z.string().regex(/^[a-z0-9]{3,24}$/, 'a storage account name (3–24 lower-case letters and digits)'),
    containerName: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/, 'a container name (3–63 lower-case letters, digits, "-")'),
  }),
]);

export type BackendSettings = z.infer<typeof backendSettingsSchema>;

/** The value of `terraform.backend`: one key, the backend type, mapping to its settings. */
export type BackendBlock = Record<string, Record<string, unknown>>;

export class InvalidBackendSettings extends UserError {
  constructor(problems: string[]) {
    super('state.invalid_backend', `The state backend settings are not usable: ${problems.join('; ')}.`);
  }
}

/** Validates settings from user input or read back from the database. */
export function parseBackendSettings(value: unknown): BackendSettings {
  const parsed = backendSettingsSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new InvalidBackendSettings(
    parsed.error.issues.map((issue) => `${issue.path.join('.') || 'settings'}: expected ${issue.message}`),
  );
}

/**
 * The `terraform.backend` object for one guild's project, or for one template deployment in it (`deployment`, its
 * folder name): each deployment has a state of its own, next to the project's and never inside its key or prefix.
 * @throws InvalidBackendSettings when `settings` does not match `kind` or is malformed.
 */
export function backendBlock(kind: StateBackendKind, guildId: string, slug: string, settings: BackendSettings, deployment?: string): BackendBlock {
  assertSnowflake(guildId, 'guildId');
  if (!StateLayout.isSlug(slug)) throw new TypeError('slug must come from StateLayout.slugify');
  if (deployment !== undefined && !StateLayout.isSlug(deployment)) throw new TypeError('deployment must come from StateLayout.deploymentFolder');
  const valid = parseBackendSettings(settings);
  if (valid.kind !== kind) throw new InvalidBackendSettings([`settings are for "${valid.kind}", not "${kind}"`]);
  switch (valid.kind) {
    case 'local':
      // Relative: the engine may run where the workspace is mounted at another path (a sandbox).
      return { local: { path: 'terraform.tfstate' } };
    case 's3': {
      const s3: Record<string, unknown> = {
        bucket: valid.bucket,
        key: deployment ? `terraform-state/${guildId}/${slug}/deployments/${deployment}/terraform.tfstate` : `terraform-state/${guildId}/${slug}/terraform.tfstate`,
        region: valid.region,
        encrypt: true,
        // S3-native locking (Terraform ≥ 1.10, OpenTofu ≥ 1.10): no DynamoDB table needed.
        use_lockfile: true,
      };
      if (valid.endpoint) {
        Object.assign(s3, {
          endpoints: { s3: valid.endpoint },
          use_path_style: true,
          // S3-compatible services have no STS, IMDS or AWS region list to check against.
          skip_credentials_validation: true,
          skip_region_validation: true,
          skip_requesting_account_id: true,
          skip_metadata_api_check: true,
          skip_s3_checksum: true,
        });
      }
      return { s3 };
    }
    case 'gcs':
      // A deployment's prefix is not under the project's: the gcs backend lists a prefix's objects as its workspaces.
      return { gcs: { bucket: valid.bucket, prefix: deployment ? `tenants/${guildId}/terraform/deployments/${slug}/${deployment}` : `tenants/${guildId}/terraform/state/${slug}` } };
    case 'azurerm':
      return {
        azurerm: {
          resource_group_name: valid.resourceGroupName,
          storage_account_name: valid.storageAccountName,
          container_name: valid.containerName,
          key: deployment ? `${guildId}-${slug}--${deployment}-tfstate` : `${guildId}-${slug}-tfstate`,
        },
      };
  }
}

/** Writes `backend.tf.json` (owner read/write only) into a workspace folder, atomically. Returns its path. */
export function writeBackendFile(workspaceDir: string, block: BackendBlock): string {
  const path = join(workspaceDir, BACKEND_FILE_NAME);
  writePrivateFile(path, `${JSON.stringify({ terraform: { backend: block } }, null, 2)}\n`);
  return path;
}
