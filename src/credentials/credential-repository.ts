/**
 * The one owner of the `cloud_credentials` table: every read and write of a stored credential's row, asynchronous,
 * on either dialect (src/db/data-access.ts says how; sqlite-credential-repository.ts and pg-credential-repository.ts
 * are the two). Rows only: sealing, names and refusals are the store's (credential-store.ts).
 */
import type { Session } from '../db/data-access.js';
import type { CredentialProvider } from '../db/schema.js';
import type { CredentialRow } from './credential-rows.js';
import { PgCredentialRepository } from './pg-credential-repository.js';
import { SqliteCredentialRepository } from './sqlite-credential-repository.js';

/** A row about to be stored: everything but its id and what later use and removal set. */
export type NewCredentialRow = Omit<CredentialRow, 'id' | 'last_used_at' | 'deleted_at'>;

/** A secret sealed under one master key, as the row stores it. */
export interface SealedColumns {
  ciphertext: Buffer;
  iv: Buffer;
  auth_tag: Buffer;
  master_key_id: string;
}

/** What an edit rewrites: always the sealed secret, and the location and key hint when they change with it. */
export type CredentialRewrite = SealedColumns & Partial<Pick<CredentialRow, 'region' | 'endpoint' | 'key_id_hint'>>;

export interface CredentialRepository {
  /** A live credential of the guild by its exact (already normalised) name; another guild's is undefined. */
  liveByName(guildId: string, name: string): Promise<CredentialRow | undefined>;
  /** A live credential of the guild by id; another guild's is undefined. */
  liveById(guildId: string, id: number): Promise<CredentialRow | undefined>;
  /** The guild's live credentials by name, in bytewise order (as SQLite sorts). */
  listLive(guildId: string): Promise<CredentialRow[]>;
  /** The guild's live default for a provider. */
  liveDefault(guildId: string, provider: CredentialProvider): Promise<CredentialRow | undefined>;
  /** @throws the driver's unique violation (isUniqueViolation) when the name is taken among the guild's live rows. */
  insert(row: NewCredentialRow): Promise<CredentialRow>;
  /** No live credential of the guild for `provider` is the default any more (but `exceptId`, if given). */
  clearDefaults(guildId: string, provider: CredentialProvider, exceptId?: number): Promise<void>;
  makeDefault(id: number): Promise<void>;
  markUsed(id: number, now: number): Promise<void>;
  /** Removes a live row: unusable, no longer a default, its sealed secret overwritten with nothing. */
  erase(id: number, now: number): Promise<void>;
  /** Rewrites a row that is still live; the row as written, or undefined when it was removed meanwhile. */
  rewrite(id: number, changes: CredentialRewrite): Promise<CredentialRow | undefined>;
  /** Ids of the live rows (of one guild, or every guild's) not sealed under `currentKeyId`. */
  idsToRotate(currentKeyId: string, guildId?: string): Promise<number[]>;
  /** A live row by id, whichever guild holds it (key rotation, which knows ids only). */
  liveOfAnyGuild(id: number): Promise<CredentialRow | undefined>;
  /** Re-seals a row only if it is still sealed under `fromKeyId` (so two rotations at once do no harm); rows changed. */
  resealIfUnder(id: number, fromKeyId: string, sealed: SealedColumns): Promise<number>;
  /**
   * After a secret was overwritten, outside any transaction: makes sure no copy of the old one outlives it where the
   * database can see to it (SQLite's WAL); see each implementation for what that covers.
   */
  afterErasure(): Promise<void>;
}

/** The credential repository of the session's dialect. */
export function credentialRepositoryFor(session: Session): CredentialRepository {
  return session.dialect === 'sqlite' ? new SqliteCredentialRepository(session) : new PgCredentialRepository(session);
}
