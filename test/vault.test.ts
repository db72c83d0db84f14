import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BOX_OVERHEAD, boxPrefix, generateKey, IV_BYTES, openBox, openSealed, sealBox, sealSecrets, SealedDataRejected, wipe } from '../src/vault/aead.js';
import { EphemeralVault } from '../src/vault/ephemeral-vault.js';
import {
  InvalidVaultSecrets,
  VaultLimitReached,
  VaultSessionExpired,
  VaultSessionNotFound,
} from '../src/vault/errors.js';
import type { UserError } from '../src/shared/errors.js';
import { FakeClock } from './support/clock.js';
import { toMarkdown } from '../src/discord/markdown.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ALICE = '333333333333333333';
const BOB = '444444444444444444';
const SECRET = 'my-secret-gcp-project-123456';
const MINUTE = 60_000;

function makeVault(overrides: { ttlMinutes?: number; max?: number } = {}) {
  const clock = new FakeClock();
  const vault = new EphemeralVault({
    ttlMs: (overrides.ttlMinutes ?? 30) * MINUTE,
    maxSessionsPerGuild: overrides.max ?? 5,
    clock,
  });
  return { vault, clock };
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('ephemeral vault', () => {
  it('returns what was stored to the guild that stored it', () => {
    const { vault } = makeVault();
    const info = vault.open(GUILD_A, ALICE, { project_id: SECRET });
    expect(vault.read(GUILD_A, info.sessionId).project_id).toBe(SECRET);
    expect(Object.entries(vault.read(GUILD_A, info.sessionId))).toEqual([['project_id', SECRET]]);
    expect(info).toMatchObject({ guildId: GUILD_A, ownerId: ALICE });
    expect(info.expiresAt - info.createdAt).toBe(30 * MINUTE);
  });

  it('gives every session an unguessable id of at least 128 random bits', () => {
    const { vault } = makeVault({ max: 100 });
    const ids = new Set<string>();
    for (let i = 0; i < 50; i += 1) ids.add(vault.open(GUILD_A, ALICE, { project_id: SECRET }).sessionId);
    expect(ids.size).toBe(50);
    for (const id of ids) expect(Buffer.from(id, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
  });

  it('treats a read from another guild exactly like a missing session', () => {
    const { vault } = makeVault();
    const { sessionId } = vault.open(GUILD_A, ALICE, { project_id: SECRET });
    const crossGuild = caught(() => vault.read(GUILD_B, sessionId));
    const missing = caught(() => vault.read(GUILD_B, 'AAAAAAAAAAAAAAAAAAAAAAAA'));
    expect(crossGuild).toBeInstanceOf(VaultSessionNotFound);
    expect(missing).toBeInstanceOf(VaultSessionNotFound);
    expect((crossGuild as Error).message).toBe((missing as Error).message);
    expect(() => vault.info(GUILD_B, sessionId)).toThrow(VaultSessionNotFound);
    expect(vault.close(GUILD_B, sessionId)).toBe(false);
    expect(vault.list(GUILD_B)).toEqual([]);
    // and the other guild's attempt did not disturb the owner
    expect(vault.read(GUILD_A, sessionId).project_id).toBe(SECRET);
  });

  it('rejects malformed session ids as missing', () => {
    const { vault } = makeVault();
    for (const bad of ['', '../../etc', 'x'.repeat(500), '__proto__', 'constructor']) {
      expect(() => vault.read(GUILD_A, bad)).toThrow(VaultSessionNotFound);
    }
  });

  it('expires a session at its absolute TTL even if it was read in between, and erases it', () => {
    const { vault, clock } = makeVault();
    const { sessionId } = vault.open(GUILD_A, ALICE, { project_id: SECRET });
    clock.advanceMinutes(29);
    expect(vault.read(GUILD_A, sessionId).project_id).toBe(SECRET);
    clock.advanceMinutes(1);
    const error = caught(() => vault.read(GUILD_A, sessionId));
    expect(error).toBeInstanceOf(VaultSessionExpired);
    expect(toMarkdown((error as UserError).text)).toMatch(/\/cloud-init/);
    // purged on that read: the next one finds nothing at all
    expect(() => vault.read(GUILD_A, sessionId)).toThrow(VaultSessionNotFound);
    expect(vault.size).toBe(0);
  });

  it('reports another guild\'s expired session as missing, not expired', () => {
    const { vault, clock } = makeVault();
    const { sessionId } = vault.open(GUILD_A, ALICE, { project_id: SECRET });
    clock.advanceMinutes(31);
    expect(() => vault.read(GUILD_B, sessionId)).toThrow(VaultSessionNotFound);
    expect(() => vault.info(GUILD_A, sessionId)).toThrow(VaultSessionExpired);
  });

  it('cleanupExpired erases only expired sessions across guilds and says how many', () => {
    const { vault, clock } = makeVault();
    vault.open(GUILD_A, ALICE, { a: '1' });
    vault.open(GUILD_B, BOB, { b: '2' });
    clock.advanceMinutes(20);
    const fresh = vault.open(GUILD_A, BOB, { c: '3' });
    clock.advanceMinutes(10);
    expect(vault.cleanupExpired()).toBe(2);
    expect(vault.cleanupExpired()).toBe(0);
    expect(vault.list(GUILD_A).map((s) => s.sessionId)).toEqual([fresh.sessionId]);
    expect(vault.read(GUILD_A, fresh.sessionId).c).toBe('3');
  });

  it('caps live sessions per guild without affecting other guilds, and frees a slot when one closes or expires', () => {
    const { vault, clock } = makeVault({ max: 2 });
    const first = vault.open(GUILD_A, ALICE, { a: '1' });
    vault.open(GUILD_A, BOB, { a: '2' });
    const error = caught(() => vault.open(GUILD_A, ALICE, { a: '3' }));
    expect(error).toBeInstanceOf(VaultLimitReached);
    expect((error as Error).message).toMatch(/2 open vault sessions/);
    expect(() => vault.open(GUILD_B, BOB, { b: '1' })).not.toThrow();
    expect(vault.close(GUILD_A, first.sessionId)).toBe(true);
    expect(vault.close(GUILD_A, first.sessionId)).toBe(false);
    vault.open(GUILD_A, ALICE, { a: '3' });
    expect(() => vault.open(GUILD_A, ALICE, { a: '4' })).toThrow(VaultLimitReached);
    clock.advanceMinutes(30);
    expect(() => vault.open(GUILD_A, ALICE, { a: '5' })).not.toThrow();
  });

  it('lists metadata only, filtered by guild and owner', () => {
    const { vault } = makeVault();
    const a = vault.open(GUILD_A, ALICE, { project_id: SECRET });
    vault.open(GUILD_A, BOB, { project_id: SECRET });
    vault.open(GUILD_B, ALICE, { project_id: SECRET });
    const listed = vault.list(GUILD_A, ALICE);
    expect(listed).toEqual([a]);
    expect(Object.keys(listed[0]!).sort()).toEqual(['createdAt', 'expiresAt', 'guildId', 'ownerId', 'sessionId']);
    expect(vault.list(GUILD_A)).toHaveLength(2);
    expect(JSON.stringify(vault.list(GUILD_A))).not.toContain(SECRET);
  });

  it('leaks neither plaintext nor key through JSON, inspect or string conversion', () => {
    const { vault } = makeVault();
    const info = vault.open(GUILD_A, ALICE, { project_id: SECRET });
    const secrets = vault.read(GUILD_A, info.sessionId);
    const renderings = [
      JSON.stringify(vault),
      inspect(vault, { depth: 10, showHidden: true }),
      String(vault),
      `${vault}`,
      JSON.stringify(secrets),
      JSON.stringify({ nested: secrets }),
      inspect(secrets, { depth: 10 }),
      inspect({ nested: secrets }, { depth: 10 }),
      String(secrets),
      `${secrets}`,
      JSON.stringify(info),
      inspect(info),
    ];
    for (const rendering of renderings) {
      expect(rendering).not.toContain(SECRET);
      expect(rendering).not.toContain(Buffer.from(SECRET).toString('base64'));
    }
    expect(Object.isFrozen(secrets)).toBe(true);
  });

  it('refuses unusable input with a message that never repeats the values', () => {
    const { vault } = makeVault();
    const bads: Array<Record<string, string>> = [{}, { toJSON: SECRET }, { '../x': SECRET }, { ok: 'x'.repeat(70_000) }];
    for (const bad of bads) {
      const error = caught(() => vault.open(GUILD_A, ALICE, bad));
      expect(error).toBeInstanceOf(InvalidVaultSecrets);
      expect((error as Error).message).not.toContain(SECRET);
    }
    expect(() => vault.open(GUILD_A, ALICE, { n: 1 } as unknown as Record<string, string>)).toThrow(InvalidVaultSecrets);
    expect(() => vault.open('not-a-guild', ALICE, { a: 'b' })).toThrow(TypeError);
  });

  it('expires sessions by their own expiry even when the clock stepped back between two opens', () => {
    const { vault, clock } = makeVault();
    const later = vault.open(GUILD_A, ALICE, { a: '1' });
    clock.advanceMinutes(-10); // the system clock was corrected backwards
    const sooner = vault.open(GUILD_A, BOB, { b: '2' });
    expect(vault.list(GUILD_A).map((s) => s.sessionId)).toEqual([sooner.sessionId, later.sessionId]);
    clock.advanceMinutes(30);
    expect(vault.cleanupExpired()).toBe(1);
    expect(() => vault.read(GUILD_A, sooner.sessionId)).toThrow(VaultSessionNotFound);
    expect(vault.read(GUILD_A, later.sessionId).a).toBe('1');
    clock.advanceMinutes(10);
    expect(vault.cleanupExpired()).toBe(1);
    expect(vault.size).toBe(0);
  });

  it('forgets a closed session entirely: it is not purged again at its expiry and frees its guild slot at once', () => {
    const { vault, clock } = makeVault({ max: 1 });
    const first = vault.open(GUILD_A, ALICE, { a: '1' });
    expect(vault.close(GUILD_A, first.sessionId)).toBe(true);
    const second = vault.open(GUILD_A, ALICE, { a: '2' });
    expect(vault.counts()).toEqual({ sessions: 1, guilds: 1 });
    clock.advanceMinutes(30);
    expect(vault.cleanupExpired()).toBe(1);
    expect(vault.counts()).toEqual({ sessions: 0, guilds: 0 });
    expect(() => vault.read(GUILD_A, second.sessionId)).toThrow(VaultSessionNotFound);
  });

  it('purges expired sessions of every guild when any guild opens one, so none outlives its TTL for long', () => {
    const { vault, clock } = makeVault();
    vault.open(GUILD_B, BOB, { b: SECRET });
    clock.advanceMinutes(30);
    vault.open(GUILD_A, ALICE, { a: '1' });
    expect(vault.size).toBe(1);
    expect(vault.list(GUILD_B)).toEqual([]);
  });

  it('purgeAll erases every session', () => {
    const { vault } = makeVault();
    const a = vault.open(GUILD_A, ALICE, { a: '1' });
    vault.open(GUILD_B, BOB, { b: '1' });
    vault.purgeAll();
    expect(vault.size).toBe(0);
    expect(() => vault.read(GUILD_A, a.sessionId)).toThrow(VaultSessionNotFound);
  });
});

describe('vault sealing (AES-256-GCM)', () => {
  const AAD = `binding:${GUILD_A}`;

  it('round-trips and uses a fresh IV for every encryption', () => {
    const key = generateKey();
    const one = sealSecrets(key, { project_id: SECRET }, AAD);
    const two = sealSecrets(key, { project_id: SECRET }, AAD);
    expect(one.iv).toHaveLength(IV_BYTES);
    expect(one.iv.equals(two.iv)).toBe(false);
    expect(one.ciphertext.equals(two.ciphertext)).toBe(false);
    expect(one.ciphertext.toString('utf8')).not.toContain(SECRET);
    expect(openSealed(key, one, AAD)).toEqual({ project_id: SECRET });
  });

  it('refuses a ciphertext with a flipped bit', () => {
    const key = generateKey();
    const sealed = sealSecrets(key, { project_id: SECRET }, AAD);
    const tampered = Buffer.from(sealed.ciphertext);
    tampered[0] = tampered[0]! ^ 0x01;
    expect(() => openSealed(key, { ...sealed, ciphertext: tampered }, AAD)).toThrow(SealedDataRejected);
  });

  it('refuses a modified tag or IV, a wrong key, and another binding', () => {
    const key = generateKey();
    const sealed = sealSecrets(key, { project_id: SECRET }, AAD);
    const badTag = Buffer.from(sealed.tag);
    badTag[15] = badTag[15]! ^ 0x80;
    const badIv = Buffer.from(sealed.iv);
    badIv[0] = badIv[0]! ^ 0x01;
    expect(() => openSealed(key, { ...sealed, tag: badTag }, AAD)).toThrow(SealedDataRejected);
    expect(() => openSealed(key, { ...sealed, tag: sealed.tag.subarray(0, 4) }, AAD)).toThrow(SealedDataRejected);
    expect(() => openSealed(key, { ...sealed, iv: badIv }, AAD)).toThrow(SealedDataRejected);
    expect(() => openSealed(generateKey(), sealed, AAD)).toThrow(SealedDataRejected);
    expect(() => openSealed(key, sealed, `binding:${GUILD_B}`)).toThrow(SealedDataRejected);
  });

  it('never puts plaintext in the rejection', () => {
    const key = generateKey();
    const sealed = sealSecrets(key, { project_id: SECRET }, AAD);
    const error = caught(() => openSealed(generateKey(), sealed, AAD)) as Error;
    expect(error.message).not.toContain(SECRET);
    expect(inspect(error)).not.toContain(SECRET);
  });
});

describe('vault boxes (key, IV, tag and ciphertext in one buffer)', () => {
  const PREFIX = 18;
  const aadOf = (prefix: Buffer) => `binding:${GUILD_A}:${prefix.toString('base64url')}`;

  it('round-trips, binds to the AAD computed from its random prefix, and never holds the plaintext', () => {
    const box = sealBox({ project_id: SECRET }, PREFIX, aadOf);
    const other = sealBox({ project_id: SECRET }, PREFIX, aadOf);
    expect(box.length).toBe(PREFIX + BOX_OVERHEAD + JSON.stringify({ project_id: SECRET }).length);
    expect(boxPrefix(box, PREFIX).equals(boxPrefix(other, PREFIX))).toBe(false);
    expect(box.subarray(PREFIX, PREFIX + 32).equals(other.subarray(PREFIX, PREFIX + 32))).toBe(false);
    expect(box.toString('latin1')).not.toContain(SECRET);
    expect(openBox(box, PREFIX, aadOf(boxPrefix(box, PREFIX)))).toEqual({ project_id: SECRET });
    expect(() => openBox(box, PREFIX, aadOf(boxPrefix(other, PREFIX)))).toThrow(SealedDataRejected);
  });

  it('refuses a box with any byte of key, IV, tag or ciphertext changed, or cut short', () => {
    const box = sealBox({ project_id: SECRET }, PREFIX, aadOf);
    const aad = aadOf(boxPrefix(box, PREFIX));
    for (const at of [PREFIX, PREFIX + 32, PREFIX + 32 + 12, PREFIX + BOX_OVERHEAD, box.length - 1]) {
      const tampered = Buffer.from(box);
      tampered[at] = tampered[at]! ^ 0x01;
      expect(() => openBox(tampered, PREFIX, aad)).toThrow(SealedDataRejected);
    }
    expect(() => openBox(box.subarray(0, PREFIX + BOX_OVERHEAD - 1), PREFIX, aad)).toThrow(SealedDataRejected);
  });

  it('is erased whole by one wipe', () => {
    const box = sealBox({ project_id: SECRET }, PREFIX, aadOf);
    wipe(box);
    expect(box).toEqual(Buffer.alloc(box.length));
  });
});

describe('vault wiping', () => {
  it('overwrites buffers with zeros', () => {
    const key = generateKey();
    const other = Buffer.from('ciphertext');
    wipe(key, other);
    expect(key).toEqual(Buffer.alloc(32));
    expect(other).toEqual(Buffer.alloc('ciphertext'.length));
  });
});
