import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { DrizzleQueryError } from 'drizzle-orm';
import { CredentialStore } from '../src/credentials/credential-store.js';
import { CredentialStatementFailed } from '../src/credentials/pg-credential-repository.js';
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
import { describeOnBothDialects, type DialectUnderTest } from './support/dialects.js';

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

/** Writes a binary column of every credential row, in the dialect's literal syntax. */
async function setBytes(u: DialectUnderTest, column: string, value: Buffer): Promise<void> {
  const literal = u.dialect === 'sqlite' ? `X'${value.toString('hex')}'` : `decode('${value.toString('hex')}', 'hex')`;
  await u.rows(`UPDATE cloud_credentials SET ${column} = ${literal}`);
}

describeOnBothDialects('stored credentials', (open) => {
  let u: DialectUnderTest;
  let clock: FakeClock;
  let key1: string;
  let store: CredentialStore;

  beforeEach(async () => {
    u = await open();
    if (u.dialect === 'postgres') await u.rows('TRUNCATE cloud_credentials RESTART IDENTITY CASCADE');
    clock = new FakeClock();
    key1 = newKey();
    store = new CredentialStore(u.data, keyring(key1), clock);
  });

  const createProd = (overrides: Partial<Parameters<CredentialStore['create']>[0]> = {}) =>
    store.create({ guildId: GUILD, name: 'prod', provider: 'aws', region: 'us-east-1', secrets: awsSecrets, createdBy: ADMIN, ...overrides });

  it('a stored credential reads back exactly as entered, for a run', async () => {
    await createProd({ secrets: { ...awsSecrets, session_token: 'FwoGZXIvYXdzEXAMPLETOKEN' } });
    const { metadata, secrets } = await store.reveal(GUILD, 'prod');
    expect(secrets).toEqual({ ...awsSecrets, session_token: 'FwoGZXIvYXdzEXAMPLETOKEN' });
    expect(metadata).toMatchObject({ name: 'prod', provider: 'aws', region: 'us-east-1', guildId: GUILD });
  });

  // The files themselves are scanned by credential-erasure.test.ts (SQLite's file, WAL and shared memory).
  it('the stored rows hold no secret bytes, not even the full access key id', async () => {
    await createProd();
    await store.create({
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
    const stored = await u.rows('SELECT * FROM cloud_credentials');
    const bytes = Buffer.concat(stored.flatMap((row) => Object.values(row).map((value) => (Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8')))));
    expect(bytes.length).toBeGreaterThan(0);
    for (const secret of [SECRET, ACCESS_KEY_ID, 'azure-client-secret-value-9876']) {
      expect(bytes.includes(Buffer.from(secret, 'utf8'))).toBe(false);
      expect(bytes.includes(Buffer.from(secret, 'utf8').toString('base64'))).toBe(false);
    }
    // The key id's last four characters are the only fragment kept in clear.
    expect((await store.list(GUILD)).find((c) => c.name === 'prod')?.keyIdHint).toBe('RTYZ');
  });

  it('listing shows metadata only, and records when a credential was last used', async () => {
    await createProd();
    expect((await store.list(GUILD))[0]?.lastUsedAt).toBeNull();
    clock.advanceMinutes(5);
    await store.reveal(GUILD, 'prod');
    const [listed] = await store.list(GUILD);
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
    expect(JSON.stringify((await store.list(GUILD)))).not.toContain(SECRET);
  });

  it('names are case-insensitive and unique among live credentials of a guild', async () => {
    await createProd({ name: 'Prod' });
    await expect(createProd({ name: 'PROD' })).rejects.toThrow(CredentialNameTaken);
    expect((await store.reveal(GUILD, 'pRoD')).metadata.name).toBe('prod');
    // Another guild may use the same name.
    expect((await createProd({ guildId: OTHER_GUILD })).name).toBe('prod');
  });

  it('rejects bad details and lists every missing secret field without echoing values', async () => {
    await expect(createProd({ name: '../etc' })).rejects.toThrow(InvalidCredentialInput);
    await expect(createProd({ provider: 's3' })).rejects.toThrow(/endpoint is required/);
    await expect(createProd({ provider: 's3', endpoint: 'http://169.254.169.254' })).rejects.toThrow(/link-local or cloud metadata/);
    await expect(createProd({ provider: 's3', endpoint: 'https://user:pw@example.com' })).rejects.toThrow(/user name or password/);
    try {
      await createProd({ secrets: { access_key_id: 'has spaces in it' } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidCredentialSecrets);
      const message = (error as Error).message;
      expect(message).toContain('access_key_id must not contain spaces');
      expect(message).toContain('secret_access_key is missing');
      expect(message).not.toContain('has spaces in it');
    }
    expect((await store.list(GUILD))).toEqual([]);
  });

  it('an S3-compatible credential keeps its endpoint, normalised', async () => {
    const created = await createProd({ name: 'spaces', provider: 's3', region: 'nyc3', endpoint: 'https://nyc3.digitaloceanspaces.com/' });
    expect(created.endpoint).toBe('https://nyc3.digitaloceanspaces.com');
    expect((await store.reveal(GUILD, 'spaces')).secrets).toEqual(awsSecrets);
  });

  describe('another guild', () => {
    it('cannot list, read, set as default or remove a credential it does not own', async () => {
      await createProd();
      expect((await store.list(OTHER_GUILD))).toEqual([]);
      await expect(store.reveal(OTHER_GUILD, 'prod')).rejects.toThrow(CredentialNotFound);
      await expect(store.setDefault(OTHER_GUILD, 'prod')).rejects.toThrow(CredentialNotFound);
      await expect(store.remove(OTHER_GUILD, 'prod')).rejects.toThrow(CredentialNotFound);
      const id = (await store.list(GUILD))[0]?.id ?? -1;
      await expect(store.revealById(OTHER_GUILD, id)).rejects.toThrow(CredentialNotFound);
      expect((await store.revealById(GUILD, id)).secrets).toEqual(awsSecrets);
    });

    it('a row copied into another guild does not decrypt there', async () => {
      await createProd();
      await u.rows(`UPDATE cloud_credentials SET guild_id = '${OTHER_GUILD}' WHERE guild_id = '${GUILD}'`);
      await expect(store.reveal(OTHER_GUILD, 'prod')).rejects.toThrow(CredentialUnreadable);
    });

    it('a row renamed or pointed at another endpoint does not decrypt', async () => {
      await createProd({ name: 'spaces', provider: 's3', endpoint: 'https://nyc3.digitaloceanspaces.com' });
      await u.rows("UPDATE cloud_credentials SET endpoint = 'https://attacker.example'");
      await expect(store.reveal(GUILD, 'spaces')).rejects.toThrow(CredentialUnreadable);
      await u.rows("UPDATE cloud_credentials SET endpoint = 'https://nyc3.digitaloceanspaces.com', name = 'other'");
      await expect(store.reveal(GUILD, 'other')).rejects.toThrow(CredentialUnreadable);
    });
  });

  it('two processes storing one name at once: one stores it, the other is told the name is taken', async (context) => {
    // Two SQLite connections in one thread cannot race: the second's BEGIN IMMEDIATE would block the thread the first
    // needs to commit. Between processes SQLite serialises them, and the name check and insert are one transaction.
    if (u.dialect === 'sqlite') context.skip();
    const other = new CredentialStore(await u.another(), keyring(key1), clock);
    const results = await Promise.allSettled([createProd(), other.create({ guildId: GUILD, name: 'prod', provider: 'aws', secrets: awsSecrets, createdBy: ADMIN })]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((result) => result.status === 'rejected');
    expect(refused?.reason).toBeInstanceOf(CredentialNameTaken);
    expect(await store.list(GUILD)).toHaveLength(1);
  });

  it('a failed PostgreSQL statement is reported without the values drizzle and the server quote', () => {
    const sealed = Buffer.from(SECRET, 'utf8');
    const serverError = Object.assign(new Error('null value in column "iv" violates not-null constraint'), {
      code: '23502',
      detail: `Failing row contains (1, ${GUILD}, prod, aws, \\x${sealed.toString('hex')}).`,
    });
    const failed = new CredentialStatementFailed(new DrizzleQueryError('insert into "cloud_credentials" ...', [GUILD, 'prod', sealed], serverError));
    expect(failed.message).toContain('violates not-null constraint');
    expect(failed.code).toBe('23502');
    expect(JSON.stringify({ ...failed, message: failed.message, stack: failed.stack })).not.toMatch(new RegExp(`${sealed.toString('hex')}|${SECRET}`));
    expect(failed.cause).toBeUndefined();
  });

  describe('tampering and keys', () => {
    it('a tampered ciphertext, IV or tag is refused, never decrypted into garbage', async () => {
      await createProd();
      const [row = {}] = (await u.rows('SELECT ciphertext, iv, auth_tag FROM cloud_credentials')) as Array<Record<string, Buffer>>;
      for (const column of ['ciphertext', 'iv', 'auth_tag']) {
        const original = row[column] as Buffer;
        const tampered = Buffer.from(original);
        tampered[0] = (tampered[0] ?? 0) ^ 0x01;
        await setBytes(u, column, tampered);
        await expect(store.reveal(GUILD, 'prod')).rejects.toThrow(CredentialUnreadable);
        await setBytes(u, column, original);
      }
      expect((await store.reveal(GUILD, 'prod')).secrets).toEqual(awsSecrets);
    });

    it('a wrong master key under the same id is refused with a clear error', async () => {
      await createProd();
      const wrong = new CredentialStore(u.data, keyring(newKey()), clock);
      await expect(wrong.reveal(GUILD, 'prod')).rejects.toThrow(CredentialUnreadable);
      await expect(wrong.reveal(GUILD, 'prod')).rejects.toThrow(/master key 'k1' does not open it/);
    });

    it('a row whose key is no longer configured names the missing key id', async () => {
      await createProd();
      const withoutK1 = new CredentialStore(u.data, keyring(newKey(), 'k2'), clock);
      await expect(withoutK1.reveal(GUILD, 'prod')).rejects.toThrow(/master key 'k1', which is no longer configured/);
    });

    it('without a master key, stored credentials are refused but metadata still lists', async () => {
      await createProd();
      const keyless = new CredentialStore(u.data, keyring(undefined), clock);
      await expect(keyless.reveal(GUILD, 'prod')).rejects.toThrow(MasterKeyMissing);
      await expect(keyless.create({ guildId: GUILD, name: 'x', provider: 'aws', secrets: awsSecrets, createdBy: ADMIN })).rejects.toThrow(
        /Stored credentials need CREDENTIALS_MASTER_KEY/,
      );
      await expect(keyless.rotate()).rejects.toThrow(MasterKeyMissing);
      expect((await keyless.list(GUILD)).map((c) => c.name)).toEqual(['prod']);
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
    it('the previous key still decrypts before rotation; afterwards only the new key is needed', async () => {
      await createProd();
      await createProd({ guildId: OTHER_GUILD, name: 'theirs' });
      const key2 = newKey();
      const rotating = new CredentialStore(u.data, keyring(key2, 'k2', `k1:${key1}`), clock);
      expect((await rotating.reveal(GUILD, 'prod')).secrets).toEqual(awsSecrets);
      // New rows are written under the new key at once.
      await rotating.create({ guildId: GUILD, name: 'new', provider: 'aws', secrets: awsSecrets, createdBy: ADMIN });

      expect((await rotating.rotate())).toEqual({ reencrypted: 2, unreadable: [] });
      expect((await rotating.rotate())).toEqual({ reencrypted: 0, unreadable: [] });
      const keyIds = await u.rows('SELECT DISTINCT master_key_id AS id FROM cloud_credentials');
      expect(keyIds).toEqual([{ id: 'k2' }]);

      const onlyK2 = new CredentialStore(u.data, keyring(key2, 'k2'), clock);
      expect((await onlyK2.reveal(GUILD, 'prod')).secrets).toEqual(awsSecrets);
      expect((await onlyK2.reveal(OTHER_GUILD, 'theirs')).secrets).toEqual(awsSecrets);
      await expect(store.reveal(GUILD, 'prod')).rejects.toThrow(/no longer configured/);
    });

    it('a guild admin’s rotation re-encrypts only that guild’s rows', async () => {
      await createProd();
      await createProd({ guildId: OTHER_GUILD, name: 'theirs' });
      const rotating = new CredentialStore(u.data, keyring(newKey(), 'k2', `k1:${key1}`), clock);
      expect((await rotating.rotate(GUILD))).toEqual({ reencrypted: 1, unreadable: [] });
      const byGuild = await u.rows('SELECT guild_id AS guild, master_key_id AS id FROM cloud_credentials ORDER BY guild_id');
      expect(byGuild).toEqual([
        { guild: GUILD, id: 'k2' },
        { guild: OTHER_GUILD, id: 'k1' },
      ]);
    });

    it('rows no configured key can open are reported and left alone, the rest still rotate', async () => {
      await createProd();
      const lostKey = newKey();
      await new CredentialStore(u.data, keyring(lostKey, 'k0'), clock).create({
        guildId: GUILD,
        name: 'orphan',
        provider: 'aws',
        secrets: awsSecrets,
        createdBy: ADMIN,
      });
      const rotating = new CredentialStore(u.data, keyring(newKey(), 'k2', `k1:${key1}`), clock);
      const report = await rotating.rotate();
      expect(report.reencrypted).toBe(1);
      expect(report.unreadable).toEqual([{ id: expect.any(Number), guildId: GUILD, name: 'orphan', masterKeyId: 'k0' }]);
    });
  });

  describe('removal', () => {
    it('a removed credential is unusable at once, its secret erased, and its name free again', async () => {
      await createProd({ makeDefault: true });
      const removed = await store.remove(GUILD, 'prod');
      expect(removed.name).toBe('prod');
      expect((await store.list(GUILD))).toEqual([]);
      await expect(store.reveal(GUILD, 'prod')).rejects.toThrow(CredentialNotFound);
      expect((await store.getDefault(GUILD, 'aws'))).toBeUndefined();
      const [row] = await u.rows('SELECT deleted_at, length(ciphertext) AS n FROM cloud_credentials');
      // PostgreSQL hands a bigint back as a string, and length() as a number on both.
      expect({ deletedAt: Number(row?.['deleted_at']), n: Number(row?.['n']) }).toEqual({ deletedAt: clock.now(), n: 0 });
      await expect(store.remove(GUILD, 'prod')).rejects.toThrow(CredentialNotFound);
      await createProd();
      expect((await store.reveal(GUILD, 'prod')).secrets).toEqual(awsSecrets);
    });
  });

  describe('defaults', () => {
    it('there is at most one default per provider per guild', async () => {
      await createProd({ name: 'a', makeDefault: true });
      await createProd({ name: 'b' });
      await createProd({ name: 'spaces', provider: 's3', endpoint: 'https://nyc3.digitaloceanspaces.com', makeDefault: true });
      await createProd({ name: 'theirs', guildId: OTHER_GUILD, makeDefault: true });
      expect((await store.getDefault(GUILD, 'aws'))?.name).toBe('a');

      await store.setDefault(GUILD, 'b');
      expect((await store.getDefault(GUILD, 'aws'))?.name).toBe('b');
      expect((await store.list(GUILD)).filter((c) => c.isDefault).map((c) => c.name)).toEqual(['b', 'spaces']);
      expect((await store.getDefault(OTHER_GUILD, 'aws'))?.name).toBe('theirs');

      await createProd({ name: 'c', makeDefault: true });
      expect((await store.list(GUILD)).filter((c) => c.provider === 'aws' && c.isDefault).map((c) => c.name)).toEqual(['c']);
      expect((await store.getDefault(GUILD, 'gcp'))).toBeUndefined();
    });
  });
});
