/**
 * Seed 003's EphemeralVault: per-session secrets kept only in this process's memory, encrypted with a key that
 * exists nowhere else, bound to the guild that opened the session, and erased after an absolute TTL.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { systemClock, type Clock } from '../shared/clock.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { generateKey, openSealed, sealSecrets, SealedDataRejected, wipe, type Sealed } from './aead.js';
import {
  InvalidVaultSecrets,
  VaultLimitReached,
  VaultSessionCorrupted,
  VaultSessionExpired,
  VaultSessionNotFound,
} from './errors.js';

/** What may be shown about a session: never its contents. */
export interface VaultSessionInfo {
  readonly sessionId: string;
  readonly guildId: string;
  readonly ownerId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface EphemeralVaultOptions {
  /** Absolute lifetime of a session from its creation; reading does not extend it. */
  ttlMs: number;
  /** Live sessions one guild may hold at once. */
  maxSessionsPerGuild: number;
  clock?: Clock;
}

interface Session {
  readonly info: VaultSessionInfo;
  readonly key: Buffer;
  readonly sealed: Sealed;
}

/** 144 random bits, base64url: unguessable and safe to show in a Discord message or store in a database row. */
const SESSION_ID_BYTES = 18;
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{24}$/;

const MAX_SECRET_ENTRIES = 32;
const MAX_SECRET_NAME = 64;
const MAX_TOTAL_BYTES = 64 * 1024;
const SECRET_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;
/** Names that would clash with the non-enumerable guards on the object `read` returns. */
const RESERVED_NAMES = new Set(['toJSON', 'toString', 'valueOf', 'constructor', '__proto__', 'prototype']);

export class EphemeralVault {
  readonly #sessions = new Map<string, Session>();
  readonly #ttlMs: number;
  readonly #maxSessionsPerGuild: number;
  readonly #clock: Clock;

  constructor(options: EphemeralVaultOptions) {
    if (!Number.isInteger(options.ttlMs) || options.ttlMs <= 0) throw new RangeError('ttlMs must be a positive integer');
    if (!Number.isInteger(options.maxSessionsPerGuild) || options.maxSessionsPerGuild <= 0) {
      throw new RangeError('maxSessionsPerGuild must be a positive integer');
    }
    this.#ttlMs = options.ttlMs;
    this.#maxSessionsPerGuild = options.maxSessionsPerGuild;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Encrypts `secrets` into a new session owned by `ownerId` in `guildId`.
   * @throws VaultLimitReached when the guild already holds its maximum of live sessions.
   * @throws InvalidVaultSecrets when `secrets` is empty, too large, or has unusable names.
   */
  open(guildId: string, ownerId: string, secrets: Record<string, string>): VaultSessionInfo {
    assertSnowflake(guildId, 'guildId');
    assertSnowflake(ownerId, 'ownerId');
    checkSecrets(secrets);
    const now = this.#clock.now();
    this.#purgeExpiredOf(guildId, now);
    if (this.#liveCount(guildId) >= this.#maxSessionsPerGuild) throw new VaultLimitReached(this.#maxSessionsPerGuild);

    let sessionId = newSessionId();
    while (this.#sessions.has(sessionId)) sessionId = newSessionId();
    const info: VaultSessionInfo = Object.freeze({ sessionId, guildId, ownerId, createdAt: now, expiresAt: now + this.#ttlMs });
    const key = generateKey();
    const sealed = sealSecrets(key, { ...secrets }, bindingOf(guildId, sessionId));
    this.#sessions.set(sessionId, { info, key, sealed });
    return info;
  }

  /**
   * Decrypts a session's secrets. The returned object is frozen and hides itself from JSON.stringify, util.inspect
   * and String(): read its properties (or Object.entries) deliberately.
   * @throws VaultSessionNotFound when there is no such session in this guild (including another guild's session).
   * @throws VaultSessionExpired when this guild's session is past its TTL; it is erased on the way.
   */
  read(guildId: string, sessionId: string): Record<string, string> {
    const session = this.#live(guildId, sessionId);
    try {
      return guardedSecrets(openSealed(session.key, session.sealed, bindingOf(guildId, sessionId)));
    } catch (error) {
      if (!(error instanceof SealedDataRejected)) throw error;
      this.#purge(sessionId);
      throw new VaultSessionCorrupted();
    }
  }

  /**
   * Adds, replaces or removes values of a live session of this guild (a deployment's secret inputs joining its
   * project's session, say). Sealed again under a fresh key; owner and expiry stay as they were, so a value added
   * late lives no longer than the session. Removing the last value closes the session.
   * @throws as `read` does; InvalidVaultSecrets when the session would exceed its limits.
   */
  amend(guildId: string, sessionId: string, change: { set?: Record<string, string>; remove?: readonly string[] }): void {
    const current = this.read(guildId, sessionId);
    const next: Record<string, string> = {};
    for (const [name, value] of Object.entries(current)) if (!change.remove?.includes(name)) next[name] = value;
    Object.assign(next, change.set ?? {});
    if (Object.keys(next).length === 0) {
      this.close(guildId, sessionId);
      return;
    }
    checkSecrets(next);
    const old = this.#live(guildId, sessionId);
    const key = generateKey();
    const sealed = sealSecrets(key, next, bindingOf(guildId, sessionId));
    this.#sessions.set(sessionId, { info: old.info, key, sealed });
    wipe(old.key, old.sealed.ciphertext, old.sealed.iv, old.sealed.tag);
  }

  /** Metadata of one live session; throws exactly as `read` does. */
  info(guildId: string, sessionId: string): VaultSessionInfo {
    return this.#live(guildId, sessionId).info;
  }

  /** Erases a session of this guild. Returns false when there was none (another guild's session counts as none). */
  close(guildId: string, sessionId: string): boolean {
    const session = this.#sessions.get(sessionId);
    if (!session || session.info.guildId !== guildId) return false;
    this.#purge(sessionId);
    return true;
  }

  /** Live sessions of a guild (optionally of one member), oldest first; metadata only. */
  list(guildId: string, ownerId?: string): VaultSessionInfo[] {
    const now = this.#clock.now();
    this.#purgeExpiredOf(guildId, now);
    return [...this.#sessions.values()]
      .map((session) => session.info)
      .filter((info) => info.guildId === guildId && (ownerId === undefined || info.ownerId === ownerId))
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Erases every session past its TTL, in every guild; returns how many. Called by the janitor. */
  cleanupExpired(): number {
    const now = this.#clock.now();
    let purged = 0;
    for (const [sessionId, session] of this.#sessions) {
      if (isExpired(session, now)) {
        this.#purge(sessionId);
        purged += 1;
      }
    }
    return purged;
  }

  /** Erases everything; for shutdown. */
  purgeAll(): void {
    for (const sessionId of [...this.#sessions.keys()]) this.#purge(sessionId);
  }

  /** Live sessions and the servers holding them, for the operator's health line: counts only. */
  counts(): { sessions: number; guilds: number } {
    const now = this.#clock.now();
    const guilds = new Set<string>();
    let sessions = 0;
    for (const session of this.#sessions.values()) {
      if (isExpired(session, now)) continue;
      sessions += 1;
      guilds.add(session.info.guildId);
    }
    return { sessions, guilds: guilds.size };
  }

  /** How many sessions are held (live or not yet cleaned), for health output. */
  get size(): number {
    return this.#sessions.size;
  }

  toJSON(): { type: 'EphemeralVault'; sessions: number } {
    return { type: 'EphemeralVault', sessions: this.#sessions.size };
  }

  toString(): string {
    return `[EphemeralVault: ${this.#sessions.size} session(s)]`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  #live(guildId: string, sessionId: string): Session {
    if (typeof sessionId !== 'string' || !SESSION_ID_PATTERN.test(sessionId)) throw new VaultSessionNotFound();
    const session = this.#sessions.get(sessionId);
    // Another guild's session must look exactly like a missing one, expired or not.
    if (!session || session.info.guildId !== guildId) throw new VaultSessionNotFound();
    if (isExpired(session, this.#clock.now())) {
      this.#purge(sessionId);
      throw new VaultSessionExpired(Math.round(this.#ttlMs / 60_000));
    }
    return session;
  }

  #liveCount(guildId: string): number {
    let count = 0;
    for (const session of this.#sessions.values()) if (session.info.guildId === guildId) count += 1;
    return count;
  }

  #purgeExpiredOf(guildId: string, now: number): void {
    for (const [sessionId, session] of this.#sessions) {
      if (session.info.guildId === guildId && isExpired(session, now)) this.#purge(sessionId);
    }
  }

  #purge(sessionId: string): void {
    const session = this.#sessions.get(sessionId);
    if (!session) return;
    this.#sessions.delete(sessionId);
    wipe(session.key, session.sealed.ciphertext, session.sealed.iv, session.sealed.tag);
  }
}

function isExpired(session: Session, now: number): boolean {
  return now >= session.info.expiresAt;
}

function newSessionId(): string {
  return randomBytes(SESSION_ID_BYTES).toString('base64url');
}

/** Additional authenticated data: a ciphertext only opens under the guild and session it was sealed for. */
function bindingOf(guildId: string, sessionId: string): string {
  return `cloud-chatops/vault/v1\u0000${guildId}\u0000${sessionId}`;
}

function checkSecrets(secrets: unknown): asserts secrets is Record<string, string> {
  if (typeof secrets !== 'object' || secrets === null || Array.isArray(secrets)) {
    throw new InvalidVaultSecrets('expected named text values');
  }
  const entries = Object.entries(secrets);
  if (entries.length === 0) throw new InvalidVaultSecrets('nothing was given');
  if (entries.length > MAX_SECRET_ENTRIES) throw new InvalidVaultSecrets(`at most ${MAX_SECRET_ENTRIES} values are allowed`);
  let total = 0;
  for (const [name, value] of entries) {
    if (name.length > MAX_SECRET_NAME || !SECRET_NAME_PATTERN.test(name) || RESERVED_NAMES.has(name)) {
      throw new InvalidVaultSecrets(`a value name must start with a letter and use only letters, digits, "_", "." or "-" (at most ${MAX_SECRET_NAME} characters)`);
    }
    if (typeof value !== 'string') throw new InvalidVaultSecrets(`the value "${name}" is not text`);
    total += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  if (total > MAX_TOTAL_BYTES) throw new InvalidVaultSecrets(`together they exceed ${MAX_TOTAL_BYTES / 1024} KiB`);
}

const REDACTED = '[vault secrets: redacted]';

/**
 * A frozen copy whose accidental serialisations say nothing: JSON.stringify, util.inspect, String() and template
 * literals all print a placeholder. The guards are non-enumerable, so Object.entries and spreading see only the secrets.
 */
function guardedSecrets(secrets: Record<string, string>): Record<string, string> {
  const guarded: Record<string, string> = Object.create(null) as Record<string, string>;
  Object.assign(guarded, secrets);
  const hidden = { enumerable: false, writable: false, configurable: false } as const;
  Object.defineProperties(guarded, {
    toJSON: { ...hidden, value: () => REDACTED },
    toString: { ...hidden, value: () => REDACTED },
    [Symbol.toPrimitive]: { ...hidden, value: () => REDACTED },
    [inspect.custom]: { ...hidden, value: () => REDACTED },
  });
  return Object.freeze(guarded);
}
