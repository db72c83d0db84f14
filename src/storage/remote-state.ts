/**
 * Terraform state in S3 or an S3-compatible store, one prefix per guild:
 * `terraform-state/{guild_id}/{project}/terraform.tfstate`. Keys are only ever built here, from a validated guild id
 * and project slug, and every key used is checked to lie under the calling guild's own prefix.
 */
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { UserError } from '../shared/errors.js';
import { parseBucketName } from './s3-client.js';
import { explainS3Error, type S3Failure } from './s3-errors.js';
import { snowflakeSchema } from '../shared/snowflake.js';

export const STATE_ROOT = 'terraform-state';

const guildIdSchema = snowflakeSchema;
/** No dots or slashes: a slug can never climb out of, or into another, prefix. */
const projectSlugSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/);

export class StatePrefixRefused extends UserError {
  constructor(reason: string) {
    super('storage.state_prefix_refused', `That state location is refused: ${reason}.`);
  }
}

function guildPrefix(guildId: string): string {
  if (!guildIdSchema.safeParse(guildId).success) throw new StatePrefixRefused('the server id is not a Discord id');
  return `${STATE_ROOT}/${guildId}/`;
}

/** `terraform-state/{guild_id}/{project}/`, the only place a guild's project state may live. */
export function statePrefix(guildId: string, projectSlug: string): string {
  const root = guildPrefix(guildId);
  if (!projectSlugSchema.safeParse(projectSlug).success) {
    throw new StatePrefixRefused("the project slug must be 1 to 64 lowercase letters, digits, '_' or '-'");
  }
  return `${root}${projectSlug}/`;
}

/** The backend key of a project's state file. */
export function stateKey(guildId: string, projectSlug: string): string {
  return `${statePrefix(guildId, projectSlug)}terraform.tfstate`;
}

/** Refuses any key outside the guild's own state prefix (another guild's, the bucket root, or a `..` trick). */
export function assertGuildOwnsKey(guildId: string, key: string): void {
  const root = guildPrefix(guildId);
  const segments = key.split('/');
  if (!key.startsWith(root) || segments.some((segment) => segment === '..' || segment === '.')) {
    throw new StatePrefixRefused(`a server may only use keys under its own prefix ${root}`);
  }
}

export interface S3BackendSettings {
  bucket: string;
  key: string;
  region: string;
  encrypt: true;
  /** S3-native state locking (a .tflock object beside the state; Terraform ≥ 1.10, OpenTofu ≥ 1.10). */
  use_lockfile: true;
  endpoints?: { s3: string };
  use_path_style?: true;
  skip_credentials_validation?: true;
  skip_region_validation?: true;
  skip_requesting_account_id?: true;
  skip_metadata_api_check?: true;
  skip_s3_checksum?: true;
}


export type StateBucketCheck =
  | { ok: true; key: string }
  | ({ ok: false; step: 'bucket' | 'write' | 'delete' } & S3Failure);

/**
 * Checks, before a project is initialised, that the bucket exists and that the credential can list, write and
 * delete under the guild's project prefix (Terraform needs both for state and lock files). The probe object is removed.
 * Returns what failed and why rather than throwing, so the reply can say exactly what to fix.
 */
export async function checkStateBucket(input: {
  client: S3Client;
  bucket: string;
  guildId: string;
  projectSlug: string;
  endpoint?: string | null;
}): Promise<StateBucketCheck> {
  const bucket = parseBucketName(input.bucket);
  const prefix = statePrefix(input.guildId, input.projectSlug);
  const key = stateKey(input.guildId, input.projectSlug);
  const probeKey = `${prefix}.chatops-probe-${randomBytes(6).toString('hex')}`;
  assertGuildOwnsKey(input.guildId, probeKey);
  const context = { bucket, endpoint: input.endpoint };

  try {
    // A listing rather than HeadBucket: HEAD answers carry no error body, so a bad key id or a missing bucket would
    // both look like a bare 403/404. Terraform's S3 backend needs s3:ListBucket on the bucket anyway.
    await input.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
  } catch (error) {
    return { ok: false, step: 'bucket', ...explainS3Error(error, { ...context, action: `list objects under ${prefix}` }) };
  }
  try {
    await input.client.send(
      new PutObjectCommand({ Bucket: bucket, Key: probeKey, Body: 'cloud-chatops write check; safe to delete\n', ContentType: 'text/plain' }),
    );
  } catch (error) {
    return { ok: false, step: 'write', ...explainS3Error(error, { ...context, action: `write objects under ${prefix}` }) };
  }
  try {
    await input.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: probeKey }));
  } catch (error) {
    const failure = explainS3Error(error, { ...context, action: `delete objects under ${prefix} (needed for state lock files)` });
    return {
      ok: false,
      step: 'delete',
      code: failure.code,
      message: `${failure.message} A probe object was left at ${probeKey}; delete it by hand.`,
    };
  }
  return { ok: true, key };
}
