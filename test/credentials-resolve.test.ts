import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialStore } from '../src/credentials/credential-store.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import {
  CredentialProviderMismatch,
  InvalidCredentialSecrets,
  NoCredentialAvailable,
  ServiceCredentialsConfigInvalid,
  ServiceCredentialsNotAllowed,
  ServiceCredentialsUnavailable,
} from '../src/credentials/errors.js';
import { MasterKeyring } from '../src/credentials/master-keys.js';
import { resolveRunCredentials, type ResolveRunCredentialsInput } from '../src/credentials/resolve.js';
import { parseServiceGuildAllowList, serviceDefaultsFromEnv } from '../src/credentials/service-defaults.js';
import { EphemeralVault, VaultSessionExpired, VaultSessionNotFound } from '../src/vault/index.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '222222222222222222';
const MEMBER = '333333333333333333';

const stored = { access_key_id: 'AKIASTOREDSTORED0001', secret_access_key: 'stored-secret' };
const ephemeral = { access_key_id: 'AKIAEPHEMERALEPHEM02', secret_access_key: 'ephemeral-secret' };
const service = { AWS_ACCESS_KEY_ID: 'AKIASERVICESERVICE03', AWS_SECRET_ACCESS_KEY: 'service-secret', AWS_REGION: 'eu-west-1' };

describe('choosing the credential for a run', () => {
  let database: ReturnType<typeof makeTestDatabase>;
  let clock: FakeClock;
  let store: CredentialStore;
  let vault: EphemeralVault;

  beforeEach(() => {
    database = makeTestDatabase();
    clock = new FakeClock();
    const keyring = MasterKeyring.fromConfig({
      CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64'),
      CREDENTIALS_MASTER_KEY_ID: 'k1',
      CREDENTIALS_PREVIOUS_MASTER_KEYS: undefined,
    });
    store = new CredentialStore(sqliteDataAccess(database), keyring, clock);
    vault = new EphemeralVault({ ttlMs: 30 * 60_000, maxSessionsPerGuild: 5, clock });
  });
  afterEach(() => database.cleanup());

  const base = (overrides: Partial<ResolveRunCredentialsInput> = {}): ResolveRunCredentialsInput => ({
    guildId: GUILD,
    provider: 'aws',
    vault,
    store,
    serviceDefaults: serviceDefaultsFromEnv(service),
    serviceAllowedGuilds: parseServiceGuildAllowList(OTHER_GUILD),
    ...overrides,
  });
  const storeProd = (makeDefault: boolean) =>
    store.create({ guildId: GUILD, name: 'prod', provider: 'aws', region: 'us-west-2', secrets: stored, createdBy: MEMBER, makeDefault });

  describe('without a choice', () => {
    it("uses the project's open vault session first, even when the guild has a default stored credential", async () => {
      await storeProd(true);
      const session = vault.open(GUILD, MEMBER, ephemeral);
      const resolved = await resolveRunCredentials(base({ vaultSessionId: session.sessionId }));
      expect(resolved).toMatchObject({ source: 'ephemeral', secrets: ephemeral, label: "aws credentials from this project's vault session (kept in memory only)" });
    });

    it("uses the guild's default stored credential when the project has no open session, and says it is the default", async () => {
      await storeProd(true);
      const session = vault.open(GUILD, MEMBER, ephemeral);
      clock.advanceMinutes(31);
      for (const vaultSessionId of [null, session.sessionId]) {
        expect((await resolveRunCredentials(base({ vaultSessionId })))).toEqual({
          source: 'stored',
          secrets: stored,
          label: "this server's default stored credential 'prod' (aws, key …0001)",
          region: 'us-west-2',
          endpoint: null,
        });
      }
    });

    it("falls back to the project's open vault session", async () => {
      await storeProd(false);
      const session = vault.open(GUILD, MEMBER, { ...ephemeral, region: 'eu-central-1' });
      const resolved = await resolveRunCredentials(base({ vaultSessionId: session.sessionId }));
      expect(resolved).toMatchObject({ source: 'ephemeral', secrets: ephemeral, region: 'eu-central-1' });
    });

    it('never falls back to service credentials, even for an allowed guild', async () => {
      await expect(resolveRunCredentials(base({ guildId: OTHER_GUILD }))).rejects.toThrow(NoCredentialAvailable);
    });

    it('explains the three options, naming stored credentials that are not the default', async () => {
      await storeProd(false);
      try {
        await resolveRunCredentials(base());
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(NoCredentialAvailable);
        const message = (error as Error).message;
        expect(message).toContain('(prod)');
        expect(message).toMatch(/\(1\).*\(2\).*\(3\)/s);
      }
    });

    it('an expired vault session counts as no session', async () => {
      const session = vault.open(GUILD, MEMBER, ephemeral);
      clock.advanceMinutes(31);
      await expect(resolveRunCredentials(base({ vaultSessionId: session.sessionId }))).rejects.toThrow(NoCredentialAvailable);
    });

    it('an open session missing a field says which, rather than "no credential"', async () => {
      const session = vault.open(GUILD, MEMBER, { access_key_id: 'AKIAONLYTHEKEYID0004' });
      await expect(resolveRunCredentials(base({ vaultSessionId: session.sessionId }))).rejects.toThrow(/secret_access_key is missing/);
    });
  });

  describe('with a choice', () => {
    it('a named stored credential is used even when another is the default', async () => {
      await storeProd(true);
      await store.create({ guildId: GUILD, name: 'staging', provider: 'aws', secrets: ephemeral, createdBy: MEMBER });
      expect((await resolveRunCredentials(base({ choice: { source: 'stored', name: 'staging' } }))).secrets).toEqual(ephemeral);
    });

    it('a stored credential of another provider is refused', async () => {
      await storeProd(true);
      await expect(resolveRunCredentials(base({ provider: 's3', choice: { source: 'stored', name: 'prod' } }))).rejects.toThrow(
        CredentialProviderMismatch,
      );
    });

    it("a vault session of another guild, or an expired one, is refused with the vault's error", async () => {
      const theirs = vault.open(OTHER_GUILD, MEMBER, ephemeral);
      await expect(resolveRunCredentials(base({ choice: { source: 'ephemeral', sessionId: theirs.sessionId } }))).rejects.toThrow(
        VaultSessionNotFound,
      );
      const mine = vault.open(GUILD, MEMBER, ephemeral);
      clock.advanceMinutes(31);
      await expect(resolveRunCredentials(base({ choice: { source: 'ephemeral', sessionId: mine.sessionId } }))).rejects.toThrow(
        VaultSessionExpired,
      );
    });

    it('the vault session secrets are checked against the provider', async () => {
      const session = vault.open(GUILD, MEMBER, { project_id: 'my-project-123' });
      await expect(
        resolveRunCredentials(base({ choice: { source: 'ephemeral', sessionId: session.sessionId } })),
      ).rejects.toThrow(InvalidCredentialSecrets);
      expect(
        (await resolveRunCredentials(base({ provider: 'gcp', choice: { source: 'ephemeral', sessionId: session.sessionId } }))).secrets,
      ).toEqual({ project_id: 'my-project-123' });
    });
  });

  describe('service credentials', () => {
    it('are refused for a guild not on the allow-list', async () => {
      await expect(resolveRunCredentials(base({ choice: { source: 'service' } }))).rejects.toThrow(ServiceCredentialsNotAllowed);
    });

    it('are refused for everyone when the allow-list is empty (the default)', async () => {
      await expect(
        resolveRunCredentials(base({ guildId: OTHER_GUILD, serviceAllowedGuilds: parseServiceGuildAllowList(undefined), choice: { source: 'service' } })),
      ).rejects.toThrow(ServiceCredentialsNotAllowed);
    });

    it('are used by an allowed guild that asks for them', async () => {
      const resolved = await resolveRunCredentials(base({ guildId: OTHER_GUILD, choice: { source: 'service' } }));
      expect(resolved).toEqual({
        source: 'service',
        secrets: { access_key_id: 'AKIASERVICESERVICE03', secret_access_key: 'service-secret' },
        label: "the service's own aws credentials",
        region: 'eu-west-1',
        endpoint: null,
      });
    });

    it('an allowed guild asking for a provider the service lacks is told so', async () => {
      await expect(resolveRunCredentials(base({ guildId: OTHER_GUILD, provider: 'gcp', choice: { source: 'service' } }))).rejects.toThrow(
        ServiceCredentialsUnavailable,
      );
    });

    it('with S3_ENDPOINT the service key pair is an S3-compatible one', () => {
      expect(serviceDefaultsFromEnv({ ...service, S3_ENDPOINT: 'https://fra1.digitaloceanspaces.com' })).toEqual({
        s3: {
          provider: 's3',
          secrets: { access_key_id: 'AKIASERVICESERVICE03', secret_access_key: 'service-secret' },
          region: 'eu-west-1',
          endpoint: 'https://fra1.digitaloceanspaces.com',
        },
      });
      expect(serviceDefaultsFromEnv({})).toEqual({});
    });

    it('bad operator settings fail loudly without echoing values', () => {
      expect(() => serviceDefaultsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIAONLYKEY' })).toThrow(ServiceCredentialsConfigInvalid);
      expect(() => parseServiceGuildAllowList(`${GUILD}, not-a-guild`)).toThrow(/1 entry is not/);
      expect(() => parseServiceGuildAllowList(`${GUILD}, not-a-guild`)).not.toThrow(/not-a-guild/);
      expect([...parseServiceGuildAllowList(` ${GUILD} ,${OTHER_GUILD},`)]).toEqual([GUILD, OTHER_GUILD]);
    });
  });
});
