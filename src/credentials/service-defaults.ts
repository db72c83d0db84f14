/**
 * The service's own cloud credentials (from the bot's environment), usable only by guilds the operator lists in
 * SERVICE_CREDENTIALS_GUILDS. Off unless both are configured.
 */
import type { CredentialProvider } from '../db/schema.js';
import { endpointSchema } from '../shared/endpoint.js';
import { regionSchema, snowflakeSchema } from './details.js';
import { ServiceCredentialsConfigInvalid } from './errors.js';
import { parseProviderSecrets, toSecretRecord } from './secrets.js';

export interface ServiceCredential {
  provider: CredentialProvider;
  secrets: Record<string, string>;
  region: string | null;
  endpoint: string | null;
}

/** At most one service credential per provider. */
export type ServiceDefaults = Partial<Record<CredentialProvider, ServiceCredential>>;

/** The variables read, named here once so the README and the code agree. */
export interface ServiceCredentialEnv {
  AWS_ACCESS_KEY_ID?: string | undefined;
  AWS_SECRET_ACCESS_KEY?: string | undefined;
  AWS_SESSION_TOKEN?: string | undefined;
  AWS_REGION?: string | undefined;
  S3_ENDPOINT?: string | undefined;
}

/**
 * Reads the service credentials from an environment passed in by the composition root. With S3_ENDPOINT set the
 * key pair is an S3-compatible one (provider `s3`); otherwise it is an AWS one (provider `aws`). No key pair: none.
 */
export function serviceDefaultsFromEnv(env: ServiceCredentialEnv): ServiceDefaults {
  const blank = (value: string | undefined) => value === undefined || value.trim() === '';
  if (blank(env.AWS_ACCESS_KEY_ID) && blank(env.AWS_SECRET_ACCESS_KEY)) return {};
  const provider = blank(env.S3_ENDPOINT) ? 'aws' : 's3';
  let secrets: Record<string, string>;
  try {
    secrets = toSecretRecord(
      parseProviderSecrets(provider, {
        access_key_id: env.AWS_ACCESS_KEY_ID,
        secret_access_key: env.AWS_SECRET_ACCESS_KEY,
        session_token: env.AWS_SESSION_TOKEN,
      }),
    );
  } catch {
    throw new ServiceCredentialsConfigInvalid('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set, without spaces');
  }
  const region = blank(env.AWS_REGION) ? null : regionSchema.safeParse(env.AWS_REGION);
  if (region !== null && !region.success) throw new ServiceCredentialsConfigInvalid('AWS_REGION is not a region name');
  const endpoint = blank(env.S3_ENDPOINT) ? null : endpointSchema.safeParse(env.S3_ENDPOINT);
  if (endpoint !== null && !endpoint.success) throw new ServiceCredentialsConfigInvalid('S3_ENDPOINT must be an http(s) origin');
  return { [provider]: { provider, secrets, region: region?.data ?? null, endpoint: endpoint?.data ?? null } };
}

/** Parses SERVICE_CREDENTIALS_GUILDS (comma-separated guild ids); empty or unset allows nobody. */
export function parseServiceGuildAllowList(value: string | undefined): ReadonlySet<string> {
  if (value === undefined || value.trim() === '') return new Set();
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const bad = ids.filter((id) => !snowflakeSchema.safeParse(id).success);
  if (bad.length > 0) {
    throw new ServiceCredentialsConfigInvalid(
      `SERVICE_CREDENTIALS_GUILDS must list Discord server ids (17 to 20 digits), separated by commas; ${bad.length} entr${bad.length === 1 ? 'y is' : 'ies are'} not`,
    );
  }
  return new Set(ids);
}
