/**
 * Non-secret settings of one stored credential, chosen by the guild's admins: today the buckets it is for (seed
 * 000's FALLBACK_BUCKETS, for keys that may read some buckets but not list them).
 *
 * The credentials table has no column for them and its schema is not changed for this, so they travel inside the
 * sealed payload, next to the secret fields, under a key no provider uses. That keeps them bound to the guild and
 * the credential like the secret is, and a run never sees them: the secret parsers keep only their own fields.
 */
import { z } from 'zod';
import { parseBucketName } from '../storage/s3-client.js';

export const SETTINGS_KEY = '$settings';
export const MAX_ALLOWED_BUCKETS = 50;

export interface CredentialSettings {
  /** Empty: every bucket the key can list. Otherwise only these, and these are what `buckets` shows if listing is denied. */
  allowedBuckets: string[];
}

const storedSettingsSchema = z.object({ allowedBuckets: z.array(z.string()).max(MAX_ALLOWED_BUCKETS).default([]) });

export const NO_SETTINGS: CredentialSettings = { allowedBuckets: [] };

/** Parses a member's list ("logs, media assets" or one per line); 'none' or empty clears it. Throws InvalidBucketName. */
export function parseAllowedBuckets(value: string): string[] {
  const words = value.split(/[\s,]+/).filter((word) => word !== '');
  if (words.length === 1 && words[0]?.toLowerCase() === 'none') return [];
  return [...new Set(words.map((word) => parseBucketName(word.toLowerCase())))].slice(0, MAX_ALLOWED_BUCKETS);
}

/** The settings in a decrypted payload; a payload from before settings existed has none. */
export function settingsIn(payload: unknown): CredentialSettings {
  if (payload === null || typeof payload !== 'object' || !(SETTINGS_KEY in payload)) return NO_SETTINGS;
  const parsed = storedSettingsSchema.safeParse((payload as Record<string, unknown>)[SETTINGS_KEY]);
  return parsed.success ? parsed.data : NO_SETTINGS;
}

/** The payload with these settings in place of its old ones (secret fields untouched). */
export function withSettings(payload: Record<string, unknown>, settings: CredentialSettings): Record<string, unknown> {
  const { [SETTINGS_KEY]: _old, ...secrets } = payload;
  return settings.allowedBuckets.length === 0 ? secrets : { ...secrets, [SETTINGS_KEY]: settings };
}
