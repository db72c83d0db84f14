/**
 * What a stored credential looks like outside its store: the shapes callers pass and get back, and the mapping of a
 * `cloud_credentials` row to them (one mapper for the table, used by the store alone).
 */
import type { cloudCredentials, CredentialProvider } from '../db/schema.js';
import type { SealBinding } from './sealing.js';

export type CredentialRow = typeof cloudCredentials.$inferSelect;

/** Everything about a stored credential that may be shown: never a secret, only the key id's last 4 characters. */
export interface CredentialMetadata {
  id: number;
  guildId: string;
  name: string;
  provider: CredentialProvider;
  region: string | null;
  endpoint: string | null;
  isDefault: boolean;
  /** Last four characters of the access key id (aws/s3 only), for recognising which key it is. */
  keyIdHint: string | null;
  createdBy: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface CreateCredentialInput {
  guildId: string;
  name: string;
  provider: CredentialProvider;
  region?: string | null;
  endpoint?: string | null;
  /** Raw fields as entered; validated against the provider's secret fields. */
  secrets: Record<string, string>;
  createdBy: string;
  makeDefault?: boolean;
}

/** What `update` may replace; what is left out stays as it was. */
export interface UpdateCredentialInput {
  /** New secret fields as entered (all of the provider's fields: a replacement, not a merge). */
  secrets?: Record<string, string>;
  region?: string | null;
  endpoint?: string | null;
}

export interface RevealedCredential {
  metadata: CredentialMetadata;
  secrets: Record<string, string>;
}

export interface RotationReport {
  reencrypted: number;
  /** Rows that could not be decrypted with any configured key; left as they were. No secrets, only identities. */
  unreadable: Array<{ id: number; guildId: string; name: string; masterKeyId: string }>;
}

export function toMetadata(row: CredentialRow): CredentialMetadata {
  return {
    id: row.id,
    guildId: row.guild_id,
    name: row.name,
    provider: row.provider,
    region: row.region,
    endpoint: row.endpoint,
    isDefault: row.is_default,
    keyIdHint: row.key_id_hint,
    createdBy: row.created_by,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export function bindingOf(row: Pick<CredentialRow, 'guild_id' | 'name' | 'provider' | 'endpoint'>): SealBinding {
  return { guildId: row.guild_id, name: row.name, provider: row.provider, endpoint: row.endpoint };
}

/** SQLite's or PostgreSQL's (23505) unique violation, thrown as it is or wrapped (drizzle's error has it as its cause). */
export function isUniqueViolation(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 3; depth++, current = current.cause) {
    if ('code' in current && (current.code === 'SQLITE_CONSTRAINT_UNIQUE' || current.code === '23505')) return true;
  }
  return false;
}

