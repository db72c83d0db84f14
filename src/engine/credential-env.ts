import { z } from 'zod';
import { SECRET_MAX_LENGTH } from '../credentials/secrets.js';
import type { Provider } from '../db/schema.js';
import { UserError } from '../shared/errors.js';
import { command, text } from '../shared/text.js';

/** The vault or the stored credential lacks fields this provider needs. Names the fields, never a value. */
export class MissingCredentialFields extends UserError {
  constructor(provider: Provider, fields: string[]) {
    super(
      'engine.credentials_incomplete',
      text`The ${provider.toUpperCase()} credentials for this project are missing ${fields.join(', ')}. Enter them again (for example with ${command('init')} or ${command('credentials.add')}) and retry.`,
    );
  }
}

const nonEmpty = z.string().trim().min(1);
const limit = SECRET_MAX_LENGTH;

// The same limits the entry form and the credential parser use: a secret that was accepted can always be run.
const schemas = {
  gcp: z.object({ project_id: nonEmpty.max(64), credentials_json: nonEmpty.max(limit.credentials_json).optional() }),
  aws: z.object({
    access_key_id: nonEmpty.max(limit.access_key_id),
    secret_access_key: nonEmpty.max(limit.secret_access_key),
    session_token: nonEmpty.max(limit.session_token).optional(),
  }),
  azure: z.object({
    subscription_id: nonEmpty.max(64),
    tenant_id: nonEmpty.max(64),
    client_id: nonEmpty.max(64),
    client_secret: nonEmpty.max(limit.client_secret),
  }),
} as const;

/**
 * The environment variables through which the engine and its provider receive a project's secrets. Secrets reach
 * the engine only this way, never in a file: gcp `TF_VAR_project_id` (+ `GOOGLE_CREDENTIALS`), aws `AWS_*`,
 * azure `ARM_*`. Throws MissingCredentialFields when a required field is absent or blank.
 */
export function toEngineEnv(provider: Provider, secrets: Record<string, string>): Record<string, string> {
  const parsed = schemas[provider].safeParse(secrets);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? 'fields')))];
    throw new MissingCredentialFields(provider, fields);
  }
  switch (provider) {
    case 'gcp': {
      const s = schemas.gcp.parse(secrets);
      return { TF_VAR_project_id: s.project_id, ...(s.credentials_json ? { GOOGLE_CREDENTIALS: s.credentials_json } : {}) };
    }
    case 'aws': {
      const s = schemas.aws.parse(secrets);
      return {
        AWS_ACCESS_KEY_ID: s.access_key_id,
        AWS_SECRET_ACCESS_KEY: s.secret_access_key,
        ...(s.session_token ? { AWS_SESSION_TOKEN: s.session_token } : {}),
      };
    }
    case 'azure': {
      const s = schemas.azure.parse(secrets);
      return {
        ARM_SUBSCRIPTION_ID: s.subscription_id,
        ARM_TENANT_ID: s.tenant_id,
        ARM_CLIENT_ID: s.client_id,
        ARM_CLIENT_SECRET: s.client_secret,
      };
    }
  }
}
