/**
 * Which key a /cloud-storage subcommand signs with, checked before anything is asked or read: a stored aws/s3
 * credential of this guild (with its bucket allow-list), or a one-off key typed into a private form, used for this
 * one command and never stored (seed 000's per-request credentials).
 */
import { z } from 'zod';
import type { AppContext } from '../../src/app/context.js';
import { NO_SETTINGS } from '../../src/credentials/credential-settings.js';
import { parseCredentialLocation } from '../../src/credentials/details.js';
import { parseProviderSecrets, toSecretRecord } from '../../src/credentials/secrets.js';
import type { PermissionLevel } from '../../src/db/schema.js';
import type { Conversation } from '../../src/interaction/conversation.js';
import { assertEndpointResolvesSafely } from '../../src/shared/endpoint.js';
import { UserError } from '../../src/shared/errors.js';
import { code, text } from '../../src/shared/text.js';
import type { S3Target } from '../../src/storage/s3-client.js';
import { STORAGE_PROVIDERS } from '../views/credentials.js';
import { FORM_TIMEOUT_MS, secretForm } from '../views/secret-form.js';

/** The options every subcommand takes to say which key to use. */
export const accessOptionsSchema = {
  credential: z.string().trim().min(1).max(64).optional(),
  one_off: z.boolean().optional(),
  endpoint: z.string().trim().max(2048).optional(),
  region: z.string().trim().max(32).optional(),
};

export interface AccessOptions {
  credential?: string | undefined;
  one_off?: boolean | undefined;
  endpoint?: string | undefined;
  region?: string | undefined;
}

export interface StorageAccess {
  /** What the reply says the key was: the credential's name, or "a one-off key". */
  via: { name: string };
  /** The stored credential's name, for the audit entry; undefined for a one-off key. */
  credentialName: string | undefined;
  /** Re-reads the credential (so a removed one stops working mid-paging) and returns where to connect. */
  target(): S3Target | Promise<S3Target>;
  /** Empty: any bucket the key can reach. */
  allowedBuckets: readonly string[];
}

export class StorageAccessInvalid extends UserError {
  constructor(problem: string) {
    super('storage.access_invalid', problem);
  }
}

export class BucketNotAllowed extends UserError {
  constructor(bucket: string, credential: string, allowed: readonly string[]) {
    super(
      'storage.bucket_not_allowed',
      text`The credential '${credential}' is only for the buckets ${allowed.map((b) => b).join(', ')}; ${code(bucket)} is not one of them. A server admin can change that list with /cloud-storage allow-list.`,
    );
  }
}

/** Checks the member may use storage insights at `needed`, now (called again before each page). */
export async function requireStorageAccess(app: AppContext, conversation: Conversation, needed: PermissionLevel): Promise<void> {
  const { guildId, actor } = conversation;
  // S3-compatible stores count as aws for permissions.
  await app.jit.require({ guildId, userId: actor.id, provider: 'aws', isGuildAdmin: actor.isGuildAdmin, needed });
}

/**
 * Resolves the key, asking for a one-off key's secret last, after the options and the member's permission passed.
 * Returns null when the member closed the form (the front end has said so).
 */
export async function resolveStorageAccess(
  app: AppContext,
  conversation: Conversation,
  options: AccessOptions,
  needed: PermissionLevel,
): Promise<StorageAccess | null> {
  await requireStorageAccess(app, conversation, needed);
  const { guildId } = conversation;
  if (options.one_off === true) {
    if (options.credential !== undefined) throw new StorageAccessInvalid('Use either credential: (a stored credential) or one_off:true (a key typed now), not both.');
    // An endpoint means an S3-compatible store; without one, AWS itself.
    const provider = options.endpoint === undefined || options.endpoint === '' ? 'aws' : 's3';
    const location = parseCredentialLocation(provider, options.region, options.endpoint);
    // A name that resolves to a metadata address is refused before anyone types a secret for it.
    if (location.endpoint !== null) await assertEndpointResolvesSafely(location.endpoint);
    const answer = await conversation.askModal(secretForm(provider, 'One-off storage key (not stored)'), FORM_TIMEOUT_MS);
    if (answer === null) return null;
    const secrets = toSecretRecord(parseProviderSecrets(provider, answer.values));
    return {
      via: { name: 'a one-off key' },
      credentialName: undefined,
      target: () => ({ secrets, region: location.region, endpoint: location.endpoint }),
      allowedBuckets: [],
    };
  }
  if (options.endpoint !== undefined || options.region !== undefined) {
    throw new StorageAccessInvalid("endpoint: and region: are for a one-off key (one_off:true); a stored credential uses its own.");
  }
  if (options.credential === undefined) {
    throw new StorageAccessInvalid('Say which key to use: credential:NAME for a stored aws or s3 credential, or one_off:true to type a key now (it is not stored).');
  }
  const chosen = await app.credentials.requireFor(guildId, options.credential, STORAGE_PROVIDERS, 'storage (aws or s3)');
  const settings = await app.credentials.settings(guildId, chosen.name) ?? NO_SETTINGS;
  return {
    via: chosen,
    credentialName: chosen.name,
    target: async () => {
      const { metadata, secrets } = await app.credentials.reveal(guildId, chosen.name);
      return { secrets, region: metadata.region, endpoint: metadata.endpoint };
    },
    allowedBuckets: settings.allowedBuckets,
  };
}

/** Refuses a bucket outside the credential's allow-list (any bucket when it has none). */
export function requireBucketAllowed(access: StorageAccess, ...buckets: Array<string | undefined>): void {
  if (access.allowedBuckets.length === 0) return;
  for (const bucket of buckets) {
    if (bucket !== undefined && !access.allowedBuckets.includes(bucket.trim())) {
      throw new BucketNotAllowed(bucket, access.via.name, access.allowedBuckets);
    }
  }
}
