/**
 * Seed 003's EphemeralVault: per-session secrets kept only in this process's memory, encrypted with a key that
 * exists nowhere else, bound to the guild that opened the session, and erased after an absolute TTL.
 */
import { inspect } from 'node:util';
import { systemClock, type Clock } from '../shared/clock.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { boxPrefix, openBox, sealBox, SealedDataRejected, wipe } from './aead.js';
import {
  InvalidVaultSecrets,
  VaultLimitReached,
  VaultSessionCorrupted,
  VaultSessionExpired,
  VaultSessionNotFound,
} from './errors.js';
import { ExpiryHeap } from './expiry-heap.js';

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
  /** Session id bytes, key, IV, tag and ciphertext in one buffer (aead.ts sealBox): one wipe erases the lot. */
  box: Buffer;
  readonly expiresAt: number;
  heapSlot: number;
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

/**
 * Every operation costs the same however many sessions are held: sessions are found by id, counted and listed per
 * guild, and expired ones are found through a heap ordered by expiry, never by walking them all.
 */
export class EphemeralVault {
  /**
   * Each guild's sessions by id, in the order they were opened; a guild with none has no entry. A session is only
   * ever reached through its own guild's map, which is what keeps one guild from reaching another's.
   */
  readonly #byGuild = new Map<string, Map<string, Session>>();
  #size = 0;
  readonly #expiry = new ExpiryHeap<Session>();
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
    this.#purgeExpired(now);
    if ((this.#byGuild.get(guildId)?.size ?? 0) >= this.#maxSessionsPerGuild) throw new VaultLimitReached(this.#maxSessionsPerGuild);

    const ofGuild = this.#byGuild.get(guildId) ?? new Map<string, Session>();
    const { sessionId, box } = sealNew(guildId, secrets, ofGuild);
    const expiresAt = now + this.#ttlMs;
    const info: VaultSessionInfo = Object.freeze({ sessionId, guildId, ownerId, createdAt: now, expiresAt });
    const session: Session = { info, box, expiresAt, heapSlot: -1 };
    ofGuild.set(sessionId, session);
    if (ofGuild.size === 1) this.#byGuild.set(guildId, ofGuild);
    this.#size += 1;
    this.#expiry.push(session);
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
      return guardedSecrets(openBox(session.box, SESSION_ID_BYTES, bindingOf(guildId, sessionId)));
    } catch (error) {
      if (!(error instanceof SealedDataRejected)) throw error;
      this.#purge(session);
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
    const session = this.#live(guildId, sessionId);
    const old = session.box;
    session.box = sealBox(next, SESSION_ID_BYTES, () => bindingOf(guildId, sessionId), boxPrefix(old, SESSION_ID_BYTES));
    wipe(old);
  }

  /** Metadata of one live session; throws exactly as `read` does. */
  info(guildId: string, sessionId: string): VaultSessionInfo {
    return this.#live(guildId, sessionId).info;
  }

  /** Erases a session of this guild. Returns false when there was none (another guild's session counts as none). */
  close(guildId: string, sessionId: string): boolean {
    const session = this.#byGuild.get(guildId)?.get(sessionId);
    if (!session) return false;
    this.#purge(session);
    return true;
  }

  /** Live sessions of a guild (optionally of one member), oldest first; metadata only. */
  list(guildId: string, ownerId?: string): VaultSessionInfo[] {
    this.#purgeExpired(this.#clock.now());
    const listed: VaultSessionInfo[] = [];
    for (const { info } of this.#byGuild.get(guildId)?.values() ?? []) {
      if (ownerId === undefined || info.ownerId === ownerId) listed.push(info);
    }
    // Already in opening order unless the clock stepped back; the sort keeps the promise either way.
    return listed.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Erases every session past its TTL, in every guild; returns how many. Called by the janitor. */
  cleanupExpired(): number {
    return this.#purgeExpired(this.#clock.now());
  }

  /** Erases everything; for shutdown. */
  purgeAll(): void {
    for (const session of this.#expiry.drain()) this.#purge(session);
  }

  /** Live sessions and the servers holding them, for the operator's health line: counts only. */
  counts(): { sessions: number; guilds: number } {
    this.#purgeExpired(this.#clock.now());
    return { sessions: this.#size, guilds: this.#byGuild.size };
  }

  /** How many sessions are held (live or not yet cleaned), for health output. */
  get size(): number {
    return this.#size;
  }

  toJSON(): { type: 'EphemeralVault'; sessions: number } {
    return { type: 'EphemeralVault', sessions: this.#size };
  }

  toString(): string {
    return `[EphemeralVault: ${this.#size} session(s)]`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  #live(guildId: string, sessionId: string): Session {
    if (typeof sessionId !== 'string' || !SESSION_ID_PATTERN.test(sessionId)) throw new VaultSessionNotFound();
    // Another guild's session must look exactly like a missing one, expired or not.
    const session = this.#byGuild.get(guildId)?.get(sessionId);
    if (!session) throw new VaultSessionNotFound();
    if (isExpired(session, this.#clock.now())) {
      this.#purge(session);
      throw new VaultSessionExpired(Math.round(this.#ttlMs / 60_000));
    }
    return session;
  }

  /** Erases the sessions due at `now`, soonest first; how many. */
  #purgeExpired(now: number): number {
    let purged = 0;
    for (let session = this.#expiry.popDue(now); session; session = this.#expiry.popDue(now)) {
      this.#purge(session);
      purged += 1;
    }
    return purged;
  }

  #purge(session: Session): void {
    const { sessionId, guildId } = session.info;
    const ofGuild = this.#byGuild.get(guildId);
    if (ofGuild?.get(sessionId) !== session) return;
    ofGuild.delete(sessionId);
    if (ofGuild.size === 0) this.#byGuild.delete(guildId);
    this.#size -= 1;
    this.#expiry.remove(session);
    wipe(session.box);
  }
}

function isExpired(session: Session, now: number): boolean {
  return now >= session.expiresAt;
}

/**
 * A sealed box under an id none of the guild's sessions has. 144 random bits make a repeat anywhere practically
 * impossible; the check makes one within a guild, the only place ids are looked up, impossible outright.
 */
function sealNew(guildId: string, secrets: Record<string, string>, ofGuild: ReadonlyMap<string, Session>): { sessionId: string; box: Buffer } {
  for (;;) {
    const box = sealBox({ ...secrets }, SESSION_ID_BYTES, (prefix) => bindingOf(guildId, sessionIdOf(prefix)));
    const sessionId = sessionIdOf(boxPrefix(box, SESSION_ID_BYTES));
    if (!ofGuild.has(sessionId)) return { sessionId, box };
    wipe(box);
  }
}

function sessionIdOf(bytes: Buffer): string {
  return bytes.toString('base64url');
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
const redacted = (): string => REDACTED;

/**
 * The prototype of every object `read` returns: frozen, itself without a prototype, holding only the guards.
 * Inherited, so a read does not define four properties each time; non-enumerable, so Object.entries and spreading
 * see only the secrets. A secret cannot shadow a guard: their names are reserved (RESERVED_NAMES).
 */
const GUARDS: object = Object.freeze(
  Object.create(null, {
    toJSON: { value: redacted },
    toString: { value: redacted },
    [Symbol.toPrimitive]: { value: redacted },
    [inspect.custom]: { value: redacted },
  }) as object,
);

/**
 * A frozen copy whose accidental serialisations say nothing: JSON.stringify, util.inspect, String() and template
 * literals all print a placeholder.
 */
function guardedSecrets(secrets: Record<string, string>): Record<string, string> {
  const guarded = Object.create(GUARDS) as Record<string, string>;
  for (const name of Object.keys(secrets)) guarded[name] = secrets[name]!;
  return Object.freeze(guarded);
}
