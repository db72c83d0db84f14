import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialStore } from '../src/credentials/credential-store.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { MasterKeyring } from '../src/credentials/master-keys.js';
import { forgetProject } from '../src/deploy/forget-project.js';
import { startAppHarness } from './support/app-harness.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD = '111111111111111111';
const ADMIN = '333333333333333333';

const newKey = () => randomBytes(32).toString('base64');
const keyring = (key: string, id = 'k1', previous?: string) =>
  MasterKeyring.fromConfig({ CREDENTIALS_MASTER_KEY: key, CREDENTIALS_MASTER_KEY_ID: id, CREDENTIALS_PREVIOUS_MASTER_KEYS: previous });

/** Every 16-byte window of `bytes`: a remnant of a freed cell is a fragment, not the whole value. */
function fragments(bytes: Buffer): Buffer[] {
  return Array.from({ length: Math.max(1, bytes.length - 15) }, (_, start) => bytes.subarray(start, start + 16));
}

/**
 * Which of the database's files (main, -wal, -shm) hold any 16-byte fragment of `needle`, read as raw bytes while
 * the bot has the database open.
 */
function filesHolding(path: string, needle: Buffer): string[] {
  return [path, `${path}-wal`, `${path}-shm`].filter((file) => {
    if (!existsSync(file)) return false;
    const content = readFileSync(file);
    return fragments(needle).some((fragment) => content.includes(fragment));
  });
}

describe('erasing a stored credential from the database files', () => {
  let database: ReturnType<typeof makeTestDatabase>;
  let key1: string;
  let store: CredentialStore;
  // Unique per run, long enough never to occur by chance.
  const secret = `erase-me-${randomBytes(16).toString('hex')}`;

  beforeEach(async () => {
    database = makeTestDatabase();
    key1 = newKey();
    store = new CredentialStore(sqliteDataAccess(database), keyring(key1), new FakeClock());
    // Neighbours on the same page, as in a real guild: the erased row's bytes must not survive their rewrites.
    for (const name of ['alpha', 'beta']) {
      await store.create({ guildId: GUILD, name, provider: 'aws', secrets: { access_key_id: 'AKIAIOSFODNN7NEIGHBR', secret_access_key: `n-${name}` }, createdBy: ADMIN });
    }
  });
  afterEach(() => database.cleanup());

  const ciphertextOf = (name: string): Buffer => {
    const row = database.sqlite.prepare('SELECT ciphertext FROM cloud_credentials WHERE name = ? AND deleted_at IS NULL').get(name) as { ciphertext: Buffer };
    return Buffer.from(row.ciphertext);
  };

  it('after removal, neither the old ciphertext nor the secret is anywhere in the file, the WAL or the shared memory file', async () => {
    await store.create({ guildId: GUILD, name: 'prod', provider: 'aws', secrets: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: secret }, createdBy: ADMIN });
    const ciphertext = ciphertextOf('prod');
    expect(ciphertext.length).toBeGreaterThan(16);
    // The bytes are really there before: the scan can see them.
    expect(filesHolding(database.path, ciphertext).length).toBeGreaterThan(0);

    await store.remove(GUILD, 'prod');

    expect(filesHolding(database.path, ciphertext)).toEqual([]);
    expect(filesHolding(database.path, Buffer.from(secret))).toEqual([]);
    expect((await store.reveal(GUILD, 'alpha')).secrets['secret_access_key']).toBe('n-alpha');
  });

  it('after rotation, the ciphertext under the previous key is gone from every file', async () => {
    await store.create({ guildId: GUILD, name: 'prod', provider: 'aws', secrets: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: secret }, createdBy: ADMIN });
    const oldCiphertext = ciphertextOf('prod');

    const rotating = new CredentialStore(sqliteDataAccess(database), keyring(newKey(), 'k2', `k1:${key1}`), new FakeClock());
    expect((await rotating.rotate()).reencrypted).toBe(3);

    expect(ciphertextOf('prod').equals(oldCiphertext)).toBe(false);
    expect(filesHolding(database.path, oldCiphertext)).toEqual([]);
    expect((await rotating.reveal(GUILD, 'prod')).secrets['secret_access_key']).toBe(secret);
  });
});

describe('forgetting a project', () => {
  it('leaves no page of what it wiped in the WAL', async () => {
    const harness = await startAppHarness();
    try {
      const { app } = harness.core;
      const project = await app.projects.create({ guildId: GUILD, name: 'Scratch', provider: 'aws', region: 'us-east-1', createdBy: ADMIN });
      const wal = join(harness.dir, 'db.sqlite-wal');
      expect(statSync(wal).size).toBeGreaterThan(0);
      await forgetProject(app, project, ADMIN);
      expect(statSync(wal).size).toBe(0);
    } finally {
      await harness.stop();
    }
  });
});
