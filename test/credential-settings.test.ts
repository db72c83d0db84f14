import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllowedBuckets } from '../src/credentials/credential-settings.js';
import { CredentialStore } from '../src/credentials/credential-store.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { MasterKeyring } from '../src/credentials/master-keys.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '222222222222222222';
const ADMIN = '333333333333333333';
const awsSecrets = { access_key_id: 'AKIAIOSFODNN7QWERTYZ', secret_access_key: 'wJalrXUtnFEMI-settings-secret-4242' };

const keyring = (key: string, id: string, previous?: string) =>
  MasterKeyring.fromConfig({ CREDENTIALS_MASTER_KEY: key, CREDENTIALS_MASTER_KEY_ID: id, CREDENTIALS_PREVIOUS_MASTER_KEYS: previous });

describe("a credential's bucket allow-list (non-secret settings sealed with it)", () => {
  let database: ReturnType<typeof makeTestDatabase>;
  let key1: string;
  let store: CredentialStore;

  beforeEach(async () => {
    database = makeTestDatabase();
    key1 = randomBytes(32).toString('base64');
    store = new CredentialStore(sqliteDataAccess(database), keyring(key1, 'k1'), new FakeClock());
    await store.create({ guildId: GUILD, name: 'spaces', provider: 's3', endpoint: 'https://nyc3.digitaloceanspaces.com', secrets: awsSecrets, createdBy: ADMIN });
  });
  afterEach(() => database.cleanup());

  it('survives an update of the secret or the endpoint', async () => {
    await store.updateSettings(GUILD, 'spaces', { allowedBuckets: ['media'] });
    const newSecrets = { ...awsSecrets, secret_access_key: 'wJalrXUtnFEMI-replaced-secret-9999' };
    await store.update(GUILD, 'spaces', { secrets: newSecrets });
    expect((await store.settings(GUILD, 'spaces')).allowedBuckets).toEqual(['media']);
    expect((await store.reveal(GUILD, 'spaces')).secrets).toEqual(newSecrets);
    await store.update(GUILD, 'spaces', { endpoint: 'https://ams3.digitaloceanspaces.com' });
    expect((await store.settings(GUILD, 'spaces')).allowedBuckets).toEqual(['media']);
  });

  it('reads back as set, never reaches the secrets a run gets, and survives a master key rotation', async () => {
    expect((await store.settings(GUILD, 'spaces')).allowedBuckets).toEqual([]);
    await store.updateSettings(GUILD, 'spaces', { allowedBuckets: ['media', 'logs'] });
    expect((await store.settings(GUILD, 'spaces')).allowedBuckets).toEqual(['media', 'logs']);
    expect((await store.reveal(GUILD, 'spaces')).secrets).toEqual(awsSecrets);

    const rotated = new CredentialStore(sqliteDataAccess(database), keyring(randomBytes(32).toString('base64'), 'k2', `k1:${key1}`), new FakeClock());
    expect((await rotated.rotate()).reencrypted).toBe(1);
    expect((await rotated.settings(GUILD, 'spaces')).allowedBuckets).toEqual(['media', 'logs']);
    expect((await rotated.reveal(GUILD, 'spaces')).secrets).toEqual(awsSecrets);

    await rotated.updateSettings(GUILD, 'spaces', { allowedBuckets: [] });
    expect((await rotated.settings(GUILD, 'spaces')).allowedBuckets).toEqual([]);
  });

  it("another server cannot read or change it: the name is simply not found there", async () => {
    await expect(store.settings(OTHER_GUILD, 'spaces')).rejects.toThrow(/no stored credential named 'spaces'/);
    await expect(store.updateSettings(OTHER_GUILD, 'spaces', { allowedBuckets: ['x-bucket'] })).rejects.toThrow(/no stored credential named 'spaces'/);
    expect((await store.settings(GUILD, 'spaces')).allowedBuckets).toEqual([]);
  });

  it('a typed list is split on commas and spaces, deduplicated, validated; none clears it', () => {
    expect(parseAllowedBuckets('media, logs\nmedia')).toEqual(['media', 'logs']);
    expect(parseAllowedBuckets('none')).toEqual([]);
    expect(() => parseAllowedBuckets('media, Bad_Name!')).toThrow(/not a valid bucket name/);
  });
});
