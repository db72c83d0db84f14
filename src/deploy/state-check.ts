import type { Provider } from '../db/schema.js';
import { UserError } from '../shared/errors.js';
import type { BackendSettings } from '../state/backend.js';
import { checkStateBucket } from '../storage/remote-state.js';
import { withS3Client } from '../storage/s3-client.js';

/**
 * Before a project is saved with S3 state, proves the bucket exists and that these credentials can list, write and
 * delete under this guild's own prefix, so the first plan does not fail on a backend error. Other backends are not
 * checked here: their provider SDKs are not part of the bot.
 */
export async function verifyStateBackend(input: {
  guildId: string;
  projectSlug: string;
  provider: Provider;
  settings: BackendSettings;
  secrets: Record<string, string>;
}): Promise<void> {
  const { settings } = input;
  if (settings.kind !== 's3') return;
  if (input.provider !== 'aws') {
    throw new UserError(
      'state.backend_provider',
      `S3 state needs AWS credentials, and this is a ${input.provider} project. Use \`state_backend:${input.provider === 'gcp' ? 'gcs' : 'azurerm'}\` (or local) instead.`,
    );
  }
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
