import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialStore } from '../src/credentials/credential-store.js';
import {
  CredentialNameTaken,
  CredentialNotFound,
  CredentialUnreadable,
  InvalidCredentialInput,
  InvalidCredentialSecrets,
  MasterKeyConfigInvalid,
  MasterKeyMissing,
} from '../src/credentials/errors.js';
import { MasterKeyring } from '../src/credentials/master-keys.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '222222222222222222';
const ADMIN = '333333333333333333';
const ACCESS_KEY_ID = 'AKIAIOSFODNN7QWERTYZ';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY-unique-secret-4242';

const newKey = () => randomBytes(32).toString('base64');

function keyring(key: string | undefined, id = 'k1', previous?: string): MasterKeyring {
  return MasterKeyring.fromConfig({
    CREDENTIALS_MASTER_KEY: key,
    CREDENTIALS_MASTER_KEY_ID: id,
    CREDENTIALS_PREVIOUS_MASTER_KEYS: previous,
  });
}

const awsSecrets = { access_key_id: ACCESS_KEY_ID, secret_access_key: SECRET };

describe('stored credentials', () => {
  let database: ReturnType<typeof makeTestDatabase>;
  let clock: FakeClock;
  let key1: string;
  let store: CredentialStore;

  beforeEach(() => {
    database = makeTestDatabase();
    clock = new FakeClock();
    key1 = newKey();
    store = new CredentialStore(database.db, keyring(key1), clock);
  });
  afterEach(() => database.cleanup());

  const createProd = (overrides: Partial<Parameters<CredentialStore['create']>[0]> = {}) =>
    store.create({ guildId: GUILD, name: 'prod', provider: 'aws', region: 'us-east-1', secrets: awsSecrets, createdBy: ADMIN, ...overrides });

  it('a stored credential reads back exactly as entered, for a run', () => {
    createProd({ secrets: { ...awsSecrets, session_token: 'FwoGZXIvYXdzEXAMPLETOKEN' } });
    const { metadata, secrets } = store.reveal(GUILD, 'prod');
    expect(secrets).toEqual({ ...awsSecrets, session_token: 'FwoGZXIvYXdzEXAMPLETOKEN' });
    expect(metadata).toMatchObject({ name: 'prod', provider: 'aws', region: 'us-east-1', guildId: GUILD });
  });

  it('the database file holds no secret bytes, not even the full access key id', () => {
    createProd();
    store.create({
      guildId: GUILD,
      name: 'azure-main',
      provider: 'azure',
      secrets: {
        subscription_id: '0a1b2c3d-0000-4000-8000-000000000001',
        tenant_id: '0a1b2c3d-0000-4000-8000-000000000002',
        client_id: '0a1b2c3d-0000-4000-8000-000000000003',
        client_secret: 'azure-client-secret-value-9876',
      },
      createdBy: ADMIN,
    });
    const bytes = Buffer.concat(
      [database.path, `${database.path}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file)),
    );
    expect(bytes.length).toBeGreaterThan(0);
    for (const secret of [SECRET, ACCESS_KEY_ID, 'azure-client-secret-value-9876']) {
      expect(bytes.includes(Buffer.from(secret, 'utf8'))).toBe(false);
      expect(bytes.includes(Buffer.from(secret, 'utf8').toString('base64'))).toBe(false);
    }
    // The key id's last four characters are the only fragment kept in clear.
    expect(store.list(GUILD).find((c) => c.name === 'prod')?.keyIdHint).toBe('RTYZ');
  });

  it('listing shows metadata only, and records when a credential was last used', () => {
    createProd();
    expect(store.list(GUILD)[0]?.lastUsedAt).toBeNull();
    clock.advanceMinutes(5);
    store.reveal(GUILD, 'prod');
    const [listed] = store.list(GUILD);
    expect(listed).toEqual({
      id: expect.any(Number),
      guildId: GUILD,
      name: 'prod',
      provider: 'aws',
      region: 'us-east-1',
      endpoint: null,
      isDefault: false,
      keyIdHint: 'RTYZ',
      createdBy: ADMIN,
      createdAt: clock.now() - 5 * 60_000,
      lastUsedAt: clock.now(),
    });
    expect(JSON.stringify(store.list(GUILD))).not.toContain(SECRET);
  });

  it('names are case-insensitive and unique among live credentials of a guild', () => {
    createProd({ name: 'Prod' });
    expect(() => createProd({ name: 'PROD' })).toThrow(CredentialNameTaken);
    expect(store.reveal(GUILD, 'pRoD').metadata.name).toBe('prod');
    // Another guild may use the same name.
    expect(createProd({ guildId: OTHER_GUILD }).name).toBe('prod');
  });

  it('rejects bad details and lists every missing secret field without echoing values', () => {
    expect(() => createProd({ name: '../etc' })).toThrow(InvalidCredentialInput);
    expect(() => createProd({ provider: 's3' })).toThrow(/endpoint is required/);
    expect(() => createProd({ provider: 's3', endpoint: 'http://169.254.169.254' })).toThrow(/link-local or cloud metadata/);
    expect(() => createProd({ provider: 's3', endpoint: 'https://user:pw@example.com' })).toThrow(/user name or password/);
    try {
      createProd({ secrets: { access_key_id: 'has spaces in it' } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidCredentialSecrets);
      const message = (error as Error).message;
      expect(message).toContain('access_key_id must not contain spaces');
      expect(message).toContain('secret_access_key is missing');
      expect(message).not.toContain('has spaces in it');
    }
    expect(store.list(GUILD)).toEqual([]);
  });

  it('an S3-compatible credential keeps its endpoint, normalised', () => {
    const created = createProd({ name: 'spaces', provider: 's3', region: 'nyc3', endpoint: 'https://nyc3.digitaloceanspaces.com/' });
    expect(created.endpoint).toBe('https://nyc3.digitaloceanspaces.com');
    expect(store.reveal(GUILD, 'spaces').secrets).toEqual(awsSecrets);
  });

  describe('another guild', () => {
    it('cannot list, read, set as default or remove a credential it does not own', () => {
      createProd();
      expect(store.list(OTHER_GUILD)).toEqual([]);
      expect(() => store.reveal(OTHER_GUILD, 'prod')).toThrow(CredentialNotFound);
      expect(() => store.setDefault(OTHER_GUILD, 'prod')).toThrow(CredentialNotFound);
      expect(() => store.remove(OTHER_GUILD, 'prod')).toThrow(CredentialNotFound);
      const id = store.list(GUILD)[0]?.id ?? -1;
      expect(() => store.revealById(OTHER_GUILD, id)).toThrow(CredentialNotFound);
      expect(store.revealById(GUILD, id).secrets).toEqual(awsSecrets);
    });

    it('a row copied into another guild does not decrypt there', () => {
      createProd();
      database.sqlite.prepare('UPDATE cloud_credentials SET guild_id = ? WHERE guild_id = ?').run(OTHER_GUILD, GUILD);
      expect(() => store.reveal(OTHER_GUILD, 'prod')).toThrow(CredentialUnreadable);
    });

    it('a row renamed or pointed at another endpoint does not decrypt', () => {
      createProd({ name: 'spaces', provider: 's3', endpoint: 'https://nyc3.digitaloceanspaces.com' });
      database.sqlite.prepare("UPDATE cloud_credentials SET endpoint = 'https://attacker.example'").run();
      expect(() => store.reveal(GUILD, 'spaces')).toThrow(CredentialUnreadable);
      database.sqlite.prepare("UPDATE cloud_credentials SET endpoint = 'https://nyc3.digitaloceanspaces.com', name = 'other'").run();
      expect(() => store.reveal(GUILD, 'other')).toThrow(CredentialUnreadable);
    });
  });

  describe('tampering and keys', () => {
    it('a tampered ciphertext, IV or tag is refused, never decrypted into garbage', () => {
      createProd();
      const row = database.sqlite.prepare('SELECT ciphertext, iv, auth_tag FROM cloud_credentials').get() as Record<string, Buffer>;
      for (const column of ['ciphertext', 'iv', 'auth_tag']) {
        const original = row[column] as Buffer;
        const tampered = Buffer.from(original);
        tampered[0] = (tampered[0] ?? 0) ^ 0x01;
        database.sqlite.prepare(`UPDATE cloud_credentials SET ${column} = ?`).run(tampered);
        expect(() => store.reveal(GUILD, 'prod')).toThrow(CredentialUnreadable);
        database.sqlite.prepare(`UPDATE cloud_credentials SET ${column} = ?`).run(original);
      }
      expect(store.reveal(GUILD, 'prod').secrets).toEqual(awsSecrets);
    });

    it('a wrong master key under the same id is refused with a clear error', () => {
      createProd();
      const wrong = new CredentialStore(database.db, keyring(newKey()), clock);
      expect(() => wrong.reveal(GUILD, 'prod')).toThrow(CredentialUnreadable);
      expect(() => wrong.reveal(GUILD, 'prod')).toThrow(/master key 'k1' does not open it/);
    });

    it('a row whose key is no longer configured names the missing key id', () => {
      createProd();
      const withoutK1 = new CredentialStore(database.db, keyring(newKey(), 'k2'), clock);
      expect(() => withoutK1.reveal(GUILD, 'prod')).toThrow(/master key 'k1', which is no longer configured/);
    });

    it('without a master key, stored credentials are refused but metadata still lists', () => {
      createProd();
      const keyless = new CredentialStore(database.db, keyring(undefined), clock);
      expect(() => keyless.reveal(GUILD, 'prod')).toThrow(MasterKeyMissing);
      expect(() => keyless.create({ guildId: GUILD, name: 'x', provider: 'aws', secrets: awsSecrets, createdBy: ADMIN })).toThrow(
        /Stored credentials need CREDENTIALS_MASTER_KEY/,
      );
      expect(() => keyless.rotate()).toThrow(MasterKeyMissing);
      expect(keyless.list(GUILD).map((c) => c.name)).toEqual(['prod']);
    });

    it('malformed previous keys are reported by position and id, never by value', () => {
      const bad = 'not-a-real-key-value';
      expect(() => keyring(newKey(), 'k2', `k1:${bad}`)).toThrow(MasterKeyConfigInvalid);
      expect(() => keyring(newKey(), 'k2', `k1:${bad}`)).not.toThrow(new RegExp(bad));
      expect(() => keyring(newKey(), 'k2', 'nocolon')).toThrow(/entry 1 must look like id:base64key/);
      expect(() => keyring(newKey(), 'k1', `k1:${newKey()}`)).toThrow(/appears more than once/);
    });
  });

  describe('rotation', () => {
    it('the previous key still decrypts before rotation; afterwards only the new key is needed', () => {
      createProd();
      createProd({ guildId: OTHER_GUILD, name: 'theirs' });
      const key2 = newKey();
      const rotating = new CredentialStore(database.db, keyring(key2, 'k2', `k1:${key1}`), clock);
      expect(rotating.reveal(GUILD, 'prod').secrets).toEqual(awsSecrets);
      // New rows are written under the new key at once.
      rotating.create({ guildId: GUILD, name: 'new', provider: 'aws', secrets: awsSecrets, createdBy: ADMIN });

      expect(rotating.rotate()).toEqual({ reencrypted: 2, unreadable: [] });
      expect(rotating.rotate()).toEqual({ reencrypted: 0, unreadable: [] });
      const keyIds = database.sqlite.prepare('SELECT DISTINCT master_key_id AS id FROM cloud_credentials').all();
      expect(keyIds).toEqual([{ id: 'k2' }]);

      const onlyK2 = new CredentialStore(database.db, keyring(key2, 'k2'), clock);
      expect(onlyK2.reveal(GUILD, 'prod').secrets).toEqual(awsSecrets);
      expect(onlyK2.reveal(OTHER_GUILD, 'theirs').secrets).toEqual(awsSecrets);
      expect(() => store.reveal(GUILD, 'prod')).toThrow(/no longer configured/);
    });

    it('a guild admin’s rotation re-encrypts only that guild’s rows', () => {
      createProd();
      createProd({ guildId: OTHER_GUILD, name: 'theirs' });
      const rotating = new CredentialStore(database.db, keyring(newKey(), 'k2', `k1:${key1}`), clock);
      expect(rotating.rotate(GUILD)).toEqual({ reencrypted: 1, unreadable: [] });
      const byGuild = database.sqlite.prepare('SELECT guild_id AS guild, master_key_id AS id FROM cloud_credentials ORDER BY guild_id').all();
      expect(byGuild).toEqual([
        { guild: GUILD, id: 'k2' },
        { guild: OTHER_GUILD, id: 'k1' },
      ]);
    });

    it('rows no configured key can open are reported and left alone, the rest still rotate', () => {
      createProd();
      const lostKey = newKey();
      new CredentialStore(database.db, keyring(lostKey, 'k0'), clock).create({
        guildId: GUILD,
        name: 'orphan',
        provider: 'aws',
        secrets: awsSecrets,
        createdBy: ADMIN,
      });
      const rotating = new CredentialStore(database.db, keyring(newKey(), 'k2', `k1:${key1}`), clock);
      const report = rotating.rotate();
      expect(report.reencrypted).toBe(1);
      expect(report.unreadable).toEqual([{ id: expect.any(Number), guildId: GUILD, name: 'orphan', masterKeyId: 'k0' }]);
    });
  });

  describe('removal', () => {
    it('a removed credential is unusable at once, its secret erased, and its name free again', () => {
      createProd({ makeDefault: true });
      const removed = store.remove(GUILD, 'prod');
      expect(removed.name).toBe('prod');
      expect(store.list(GUILD)).toEqual([]);
      expect(() => store.reveal(GUILD, 'prod')).toThrow(CredentialNotFound);
      expect(store.getDefault(GUILD, 'aws')).toBeUndefined();
      const row = database.sqlite.prepare('SELECT deleted_at, length(ciphertext) AS n FROM cloud_credentials').get();
      expect(row).toEqual({ deleted_at: clock.now(), n: 0 });
      expect(() => store.remove(GUILD, 'prod')).toThrow(CredentialNotFound);
      createProd();
      expect(store.reveal(GUILD, 'prod').secrets).toEqual(awsSecrets);
    });
  });

  describe('defaults', () => {
    it('there is at most one default per provider per guild', () => {
      createProd({ name: 'a', makeDefault: true });
      createProd({ name: 'b' });
      createProd({ name: 'spaces', provider: 's3', endpoint: 'https://nyc3.digitaloceanspaces.com', makeDefault: true });
      createProd({ name: 'theirs', guildId: OTHER_GUILD, makeDefault: true });
      expect(store.getDefault(GUILD, 'aws')?.name).toBe('a');

      store.setDefault(GUILD, 'b');
      expect(store.getDefault(GUILD, 'aws')?.name).toBe('b');
      expect(store.list(GUILD).filter((c) => c.isDefault).map((c) => c.name)).toEqual(['b', 'spaces']);
      expect(store.getDefault(OTHER_GUILD, 'aws')?.name).toBe('theirs');

      createProd({ name: 'c', makeDefault: true });
      expect(store.list(GUILD).filter((c) => c.provider === 'aws' && c.isDefault).map((c) => c.name)).toEqual(['c']);
      expect(store.getDefault(GUILD, 'gcp')).toBeUndefined();
    });
  });
});
