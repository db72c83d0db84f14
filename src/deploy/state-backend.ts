/**
 * Where a project's Terraform state lives, and whose keys reach it. Local, GCS and azurerm state use the project's
 * own credentials; S3 state uses the project's keys for an AWS project, and a stored S3/AWS credential of the guild
 * for any other (a GCP project keeping its state in Spaces, say): the engine then gets both sets, the backend's as
 * AWS_* variables, which cannot collide with GCP or Azure ones.
 */
import type { AppContext } from '../app/context.js';
import type { Provider, StateBackendKind } from '../db/schema.js';
import { toEngineEnv } from '../engine/credential-env.js';
import { assertEndpointResolvesSafely } from '../shared/endpoint.js';
import { UserError } from '../shared/errors.js';
import { code, command, text } from '../shared/text.js';
import { parseBackendSettings, type BackendSettings } from '../state/backend.js';
import { checkStateBucket } from '../storage/remote-state.js';
import { withS3Client } from '../storage/s3-client.js';
import { withArticle } from '../shared/article.js';

/** Defaults for azurerm state, where one option cannot carry three names. */
export const AZURE_STATE_RESOURCE_GROUP = 'cloud-chatops-state';
export const AZURE_STATE_CONTAINER = 'tfstate';

export interface StateBackendRequest {
  guildId: string;
  provider: Provider;
  kind: StateBackendKind;
  /** Bucket (s3, gcs) or storage account (azurerm). */
  bucket?: string;
  region: string;
  /** S3-compatible endpoint, for an AWS project's own keys. */
  endpoint?: string;
  /** A stored aws/s3 credential holding the state, for a non-AWS project. */
  stateCredential?: string;
}

/** Validates what /cloud-init was given and returns the settings to save; refuses combinations that cannot work. */
export async function stateBackendSettings(app: AppContext, request: StateBackendRequest): Promise<BackendSettings> {
  const { kind, bucket, provider } = request;
  if (kind === 'local') {
    if (request.stateCredential) throw new UserError('state.credential_unused', '`state_credential` is only for S3 state; leave it out for local state.');
    return parseBackendSettings({ kind: 'local' });
  }
  if (!bucket) {
    throw new UserError(
      'state.bucket_missing',
      `A ${kind} state backend needs \`state_bucket\` (${kind === 'azurerm' ? 'the storage account name' : 'the bucket name'}).`,
    );
  }
  if (kind === 'gcs') return parseBackendSettings({ kind, bucket });
  if (kind === 'azurerm') {
    return parseBackendSettings({ kind, resourceGroupName: AZURE_STATE_RESOURCE_GROUP, storageAccountName: bucket, containerName: AZURE_STATE_CONTAINER });
  }
  if (provider === 'aws') {
    if (request.stateCredential) {
      throw new UserError(
        'state.credential_conflict',
        'An AWS project keeps its S3 state with its own keys (both would be AWS_* variables). Leave `state_credential` out.',
      );
    }
    return parseBackendSettings({ kind, bucket, region: request.region, ...(request.endpoint ? { endpoint: request.endpoint } : {}) });
  }
  if (!request.stateCredential) {
    throw new UserError(
      'state.credential_missing',
      text`S3 state for ${withArticle(provider)} project needs the keys of the store: store them with ${command('credentials.add', { provider: 's3' })} (or aws) and name them in ${code('state_credential')}. Or keep state in ${provider === 'gcp' ? 'gcs' : 'azurerm'}.`,
    );
  }
  if (request.endpoint) {
    throw new UserError('state.endpoint_from_credential', 'The endpoint comes from the stored credential; leave `state_endpoint` out.');
  }
  const stored = await app.credentials.requireFor(request.guildId, request.stateCredential, ['s3', 'aws'], 'S3 (s3 or aws)');
  return parseBackendSettings({
    kind,
    bucket,
    region: stored.region ?? 'us-east-1',
    ...(stored.endpoint ? { endpoint: stored.endpoint } : {}),
    credentialName: stored.name,
  });
}

/**
 * Resolves the state endpoint's host (an option, or a stored credential's, whose name may point elsewhere by now)
 * and refuses link-local and metadata addresses, before the member is asked for secrets.
 * @throws EndpointRefused
 */
export async function assertStateEndpointSafe(settings: BackendSettings): Promise<void> {
  if (settings.kind === 's3' && settings.endpoint) await assertEndpointResolvesSafely(settings.endpoint, 'state endpoint');
}

/** The keys that reach the state: a stored credential's when the settings name one, else the project's own. */
export async function stateSecrets(app: AppContext, guildId: string, settings: BackendSettings, projectSecrets: Record<string, string>): Promise<Record<string, string>> {
  if (settings.kind === 's3' && settings.credentialName) return (await app.credentials.reveal(guildId, settings.credentialName)).secrets;
  return projectSecrets;
}

/** Extra engine environment for the backend (only when its keys are not the project's own). */
export async function backendEngineEnv(app: AppContext, guildId: string, settings: BackendSettings): Promise<Record<string, string>> {
  if (settings.kind !== 's3' || !settings.credentialName) return {};
  const { secrets } = await app.credentials.reveal(guildId, settings.credentialName);
  return toEngineEnv('aws', secrets);
}

/**
 * Before a project is saved with S3 state, proves the bucket exists and that the keys can list, write and delete
 * under this guild's own prefix, so the first plan does not fail on a backend error. GCS and azurerm are not
 * checked here: their SDKs are not part of the bot.
 */
export async function verifyStateBackend(input: {
  guildId: string;
  projectSlug: string;
  settings: BackendSettings;
  secrets: Record<string, string>;
}): Promise<void> {
  const { settings } = input;
  if (settings.kind !== 's3') return;
  const result = await withS3Client({ secrets: input.secrets, region: settings.region, endpoint: settings.endpoint }, (client) =>
    checkStateBucket({ client, bucket: settings.bucket, guildId: input.guildId, projectSlug: input.projectSlug, endpoint: settings.endpoint }),
  );
  if (!result.ok) {
    throw new UserError(
      'state.bucket_unusable',
      `The state bucket \`${settings.bucket}\` cannot be used (${result.step} step, ${result.code}): ${result.message}`,
    );
  }
}
