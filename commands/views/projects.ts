import { z } from 'zod';
import type { AppContext } from '../../src/app/context.js';
import type { CredentialMetadata } from '../../src/credentials/credential-store.js';
import { CredentialNotFound, CredentialProviderMismatch } from '../../src/credentials/errors.js';
import { STATE_BACKENDS, type Provider, type StateBackendKind } from '../../src/db/schema.js';
import type { Project } from '../../src/projects/project-repository.js';
import { ProjectNotFound } from '../../src/projects/errors.js';
import { parseBackendSettings, type BackendSettings } from '../../src/state/backend.js';
import { UserError } from '../../src/shared/errors.js';

export const projectNameOption = z.string().trim().min(1, 'give the project a name').max(64, 'at most 64 characters');
export const regionOption = z
  .string()
  .trim()
  .regex(/^[a-zA-Z0-9-]{2,32}$/, 'a region name such as us-central1, eu-west-1 or westeurope');
export const stateBackendOption = z.enum(STATE_BACKENDS, { error: `choose one of ${STATE_BACKENDS.join(', ')}` });

export const STATE_BACKEND_CHOICES = [
  { name: 'local (on the bot’s disk)', value: 'local' },
  { name: 'S3 or S3-compatible', value: 's3' },
  { name: 'Google Cloud Storage', value: 'gcs' },
  { name: 'Azure Storage (azurerm)', value: 'azurerm' },
] as const;

/** Defaults for azurerm state, where one option cannot carry three names. */
export const AZURE_STATE_RESOURCE_GROUP = 'cloud-chatops-state';
export const AZURE_STATE_CONTAINER = 'tfstate';

/** The project of that name or slug in this guild, or undefined. Another guild's project is never found. */
export function findProject(app: AppContext, guildId: string, nameOrSlug: string): Project | undefined {
  try {
    return app.projects.get(guildId, nameOrSlug);
  } catch (error) {
    if (error instanceof ProjectNotFound) return undefined;
    throw error;
  }
}

/** The backend settings a /cloud-init asks for; remote backends need a bucket (or storage account). */
export function backendSettingsFrom(
  kind: StateBackendKind,
  bucket: string | undefined,
  region: string,
  endpoint?: string,
): BackendSettings {
  if (kind === 'local') return parseBackendSettings({ kind: 'local' });
  if (!bucket) {
    throw new UserError(
      'state.bucket_missing',
      `A ${kind} state backend needs \`state_bucket\` (${kind === 'azurerm' ? 'the storage account name' : 'the bucket name'}).`,
    );
  }
  if (kind === 's3') return parseBackendSettings({ kind, bucket, region, ...(endpoint ? { endpoint } : {}) });
  if (kind === 'gcs') return parseBackendSettings({ kind, bucket });
  return parseBackendSettings({
    kind,
    resourceGroupName: AZURE_STATE_RESOURCE_GROUP,
    storageAccountName: bucket,
    containerName: AZURE_STATE_CONTAINER,
  });
}

/** A stored credential for a project of `provider` (an S3-compatible key pair is for storage, not for runs). */
export function storedCredentialFor(app: AppContext, guildId: string, name: string, provider: Provider): CredentialMetadata {
  const credential = app.credentials.find(guildId, name);
  if (!credential) throw new CredentialNotFound(name);
  if (credential.provider !== provider) throw new CredentialProviderMismatch(name, credential.provider, provider);
  return credential;
}
