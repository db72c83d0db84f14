/**
 * The non-secret details of a credential (name, region, endpoint) and the ids that own it, validated once here
 * for the store, the resolver and the front ends.
 */
import { z } from 'zod';
import { CREDENTIAL_PROVIDERS, type CredentialProvider } from '../db/schema.js';
import { endpointSchema } from '../shared/endpoint.js';
import { InvalidCredentialInput } from './errors.js';
import { refuseInvisible } from '../shared/member-text.js';

export { snowflakeSchema } from '../shared/snowflake.js';

/** Names are case-insensitive for people, so they are stored lower-case: 'Prod' and 'prod' are one credential. */
export const credentialNameSchema = z
  .string({ error: 'is missing' })
  .trim()
  .toLowerCase()
  .superRefine(refuseInvisible)
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit");

export const regionSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be a region name such as us-east-1, nyc3 or auto');

export const credentialProviderSchema = z.enum(CREDENTIAL_PROVIDERS, {
  error: `must be one of ${CREDENTIAL_PROVIDERS.join(', ')}`,
});

export interface CredentialLocation {
  region: string | null;
  endpoint: string | null;
}

/**
 * Checks the region and endpoint a provider accepts: an S3-compatible store needs an endpoint; AWS may have one
 * (e.g. a FIPS or VPC endpoint); Google Cloud and Azure credentials have none.
 */
export function parseCredentialLocation(provider: CredentialProvider, region: unknown, endpoint: unknown): CredentialLocation {
  const problems: string[] = [];
  let parsedRegion: string | null = null;
  let parsedEndpoint: string | null = null;
  if (region !== undefined && region !== null && region !== '') {
    const result = regionSchema.safeParse(region);
    if (result.success) parsedRegion = result.data;
    else problems.push(`region ${result.error.issues[0]?.message ?? 'is invalid'}`);
  }
  if (endpoint !== undefined && endpoint !== null && endpoint !== '') {
    if (provider === 'gcp' || provider === 'azure') {
      problems.push(`endpoint is only for aws and s3 credentials, not ${provider}`);
    } else {
      const result = endpointSchema.safeParse(endpoint);
      if (result.success) parsedEndpoint = result.data;
      else problems.push(`endpoint ${result.error.issues[0]?.message ?? 'is invalid'}`);
    }
  } else if (provider === 's3') {
    problems.push('endpoint is required for an S3-compatible credential (for example https://nyc3.digitaloceanspaces.com)');
  }
  if (problems.length > 0) throw new InvalidCredentialInput(problems);
  return { region: parsedRegion, endpoint: parsedEndpoint };
}

/** Validates one field, throwing InvalidCredentialInput naming it. */
export function parseField<T>(schema: z.ZodType<T>, field: string, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new InvalidCredentialInput([`${field} ${result.error.issues[0]?.message ?? 'is invalid'}`]);
}
