/**
 * Which credential rows each query means, written once for both dialects: the tables of schema.ts and pg-schema.ts
 * have the same columns, and drizzle's operators build each dialect's SQL.
 */
import { and, eq, isNull, ne, type SQL } from 'drizzle-orm';
import type { cloudCredentials as pgCloudCredentials } from '../db/pg-schema.js';
import type { CredentialProvider, cloudCredentials as sqliteCloudCredentials } from '../db/schema.js';

type Credentials = typeof sqliteCloudCredentials | typeof pgCloudCredentials;

/** A guild's credentials that are not removed. */
export function liveOf(t: Credentials, guildId: string): SQL | undefined {
  return and(eq(t.guild_id, guildId), isNull(t.deleted_at));
}

/** One row by id, if it is not removed (whichever guild's: callers scope by guild where a member asked). */
export function liveRow(t: Credentials, id: number): SQL | undefined {
  return and(eq(t.id, id), isNull(t.deleted_at));
}

/** The guild's live defaults for a provider, but `exceptId`'s. */
export function defaultsOf(t: Credentials, guildId: string, provider: CredentialProvider, exceptId?: number): SQL | undefined {
  return and(liveOf(t, guildId), eq(t.provider, provider), eq(t.is_default, true), exceptId === undefined ? undefined : ne(t.id, exceptId));
}

/** Live rows not sealed under the current key, of one guild or of every guild. */
export function toRotate(t: Credentials, currentKeyId: string, guildId?: string): SQL | undefined {
  return and(isNull(t.deleted_at), ne(t.master_key_id, currentKeyId), guildId === undefined ? undefined : eq(t.guild_id, guildId));
}

/** What a removal writes: the row stays for the audit trail, unusable, with nothing decryptable left in it. */
export function erasedColumns(now: number) {
  const empty = Buffer.alloc(0);
  return { deleted_at: now, is_default: false, ciphertext: empty, iv: empty, auth_tag: empty };
}
