/**
 * The secret material of a cloud credential, per provider. The shape is a flat `Record<string, string>`, the same
 * the ephemeral vault holds, so a run consumes a stored, an ephemeral or a service credential alike.
 *
 * Validation messages name fields, never values: a half-pasted secret must not end up in a reply or a log.
 */
import { z } from 'zod';
import type { CredentialProvider } from '../db/schema.js';
import { InvalidCredentialSecrets } from './errors.js';

/**
 * The longest value each secret field may have, here once for the entry form, this parser and the engine's
 * environment (src/engine/credential-env.ts), so a value the form accepts is never refused by a run later.
 */
export const SECRET_MAX_LENGTH = {
  access_key_id: 128,
  secret_access_key: 256,
  session_token: 4096,
  client_secret: 512,
  credentials_json: 20_000,
} as const;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
/** Line breaks and tabs are part of a pasted JSON key file; NUL and the other controls are not. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function requiredText(maxLength: number) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? 'is missing' : 'must be text') })
    .trim()
    .min(1, 'is empty')
    .max(maxLength, `is longer than ${maxLength} characters`)
    // Checked apart from spaces: a NUL would otherwise pass here and only fail when the engine is started.
    .refine((value) => !CONTROL_CHARACTER.test(value), 'must not contain control characters (such as NUL)')
    .regex(/^\S+$/, 'must not contain spaces or line breaks');
}

const uuid = z
  .string({ error: (issue) => (issue.input === undefined ? 'is missing' : 'must be text') })
  .trim()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a GUID (8-4-4-4-12 hex digits)')
  .transform((value) => value.toLowerCase());

const serviceAccountKey = z.looseObject({
  type: z.literal('service_account', { error: 'must have "type": "service_account"' }),
  client_email: z.string({ error: 'must contain client_email' }).min(1, 'must contain client_email'),
  private_key: z.string({ error: 'must contain private_key' }).min(1, 'must contain private_key'),
});

/** A Google service-account key file, kept as the JSON text it came in; checked without ever echoing it. */
const serviceAccountJson = z
  .string({ error: 'must be text' })
  .trim()
  .min(1, 'is empty')
  .max(SECRET_MAX_LENGTH.credentials_json, `is longer than ${SECRET_MAX_LENGTH.credentials_json} characters`)
  .superRefine((text, ctx) => {
    if (CONTROL_CHARACTER_IN_TEXT.test(text)) {
      ctx.addIssue({ code: 'custom', message: 'must not contain control characters (such as NUL)' });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // JSON.parse's own message quotes the input; it must not reach the user.
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON (paste the whole service-account key file)' });
      return;
    }
    const result = serviceAccountKey.safeParse(parsed);
    if (!result.success) {
      for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
    }
  });

export const awsSecretsSchema = z.object({
  access_key_id: requiredText(SECRET_MAX_LENGTH.access_key_id),
  secret_access_key: requiredText(SECRET_MAX_LENGTH.secret_access_key),
  session_token: requiredText(SECRET_MAX_LENGTH.session_token).optional(),
});

export const gcpSecretsSchema = z.object({
  project_id: z
    .string({ error: (issue) => (issue.input === undefined ? 'is missing' : 'must be text') })
    .trim()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a Google Cloud project id (6 to 30 lowercase letters, digits or dashes)'),
  credentials_json: serviceAccountJson.optional(),
});

export const azureSecretsSchema = z.object({
  subscription_id: uuid,
  tenant_id: uuid,
  client_id: uuid,
  client_secret: requiredText(SECRET_MAX_LENGTH.client_secret),
});

export type AwsSecrets = z.infer<typeof awsSecretsSchema>;
export type GcpSecrets = z.infer<typeof gcpSecretsSchema>;
export type AzureSecrets = z.infer<typeof azureSecretsSchema>;

export interface ProviderSecretsMap {
  aws: AwsSecrets;
  /** An S3-compatible store (Spaces, MinIO, R2...) signs with the same key pair as AWS. */
  s3: AwsSecrets;
  gcp: GcpSecrets;
  azure: AzureSecrets;
}

const schemas = {
  aws: awsSecretsSchema,
  s3: awsSecretsSchema,
  gcp: gcpSecretsSchema,
  azure: azureSecretsSchema,
} satisfies Record<CredentialProvider, z.ZodType>;

/** The fields a provider's secrets have, for building an entry form; `optional` ones may be left empty. */
export function secretFields(provider: CredentialProvider): Array<{ name: string; optional: boolean }> {
  return Object.entries(schemas[provider].shape).map(([name, schema]) => ({ name, optional: schema.safeParse(undefined).success }));
}

/**
 * Checks raw secret material (a form, the vault, a decrypted row) against the provider's fields and returns it
 * trimmed, with unknown fields dropped. Throws InvalidCredentialSecrets listing every missing or bad field at once.
 */
export function parseProviderSecrets<P extends CredentialProvider>(provider: P, raw: unknown): ProviderSecretsMap[P] {
  // Optional fields left empty in a form arrive as ''; they mean "not given".
  const input =
    raw !== null && typeof raw === 'object' && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== '' && value !== undefined))
      : raw;
  const result = schemas[provider].safeParse(input);
  if (result.success) return result.data as ProviderSecretsMap[P];
  const problems = result.error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join('.')} ${issue.message}` : 'expected a set of named fields',
  );
  throw new InvalidCredentialSecrets(provider, problems);
}

/** The flat form the vault and the runners use. Optional fields that are absent are left out. */
export function toSecretRecord(secrets: AwsSecrets | GcpSecrets | AzureSecrets): Record<string, string> {
  return Object.fromEntries(Object.entries(secrets).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** The last four characters of an access key id, the only fragment of a credential ever shown; null if none. */
export function keyIdHint(provider: CredentialProvider, secrets: Record<string, string>): string | null {
  if (provider !== 'aws' && provider !== 's3') return null;
  const id = secrets['access_key_id'];
  return id !== undefined && id.length >= 8 ? id.slice(-4) : null;
}
