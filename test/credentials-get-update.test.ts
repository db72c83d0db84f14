import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { validateCredential } from '../src/credentials/validate.js';
import { startAppHarness } from './support/app-harness.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '222222222222222222';
const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const member: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };

const OLD_SECRET = `old-${randomBytes(16).toString('hex')}`;
const NEW_SECRET = `new-${randomBytes(16).toString('hex')}`;

/** Whether any of the database's files hold these bytes (a 16-byte window of them). */
function databaseHolds(path: string, needle: Buffer): boolean {
  const windows = Array.from({ length: Math.max(1, needle.length - 15) }, (_, start) => needle.subarray(start, start + 16));
  return [path, `${path}-wal`].some((file) => existsSync(file) && windows.some((w) => readFileSync(file).includes(w)));
}

describe('/cloud-credentials get and update', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup() {
    const harness = await startAppHarness({ CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64') });
    cleanups.push(() => harness.stop());
    const added = await harness.say(admin, 'cloud-credentials', { subcommand: 'add', name: 'prod', provider: 'aws', region: 'eu-west-1' }, GUILD, {
      modal: { access_key_id: 'AKIAIOSFODNN7OLDKEY1', secret_access_key: OLD_SECRET },
    });
    expect(added.text()).toMatch(/stored \(encrypted\)/);
    return harness;
  }

  it('get shows one credential’s metadata and the projects using it, never its secret', async () => {
    const { say } = await setup();
    const reply = await say(admin, 'cloud-credentials', { subcommand: 'get', name: 'Prod' });
    const shown = reply.text();
    expect(shown).toContain('eu-west-1');
    expect(shown).toContain('…KEY1');
    expect(shown).toMatch(/Projects using it[\s\S]*none/);
    expect(shown).not.toContain(OLD_SECRET);
    expect(shown).not.toContain('AKIAIOSFODNN7OLDKEY1');
  });

  it('get and update refuse another server’s credential as not found, and a member who is not an admin', async () => {
    const { say, core } = await setup();
    expect((await say(admin, 'cloud-credentials', { subcommand: 'get', name: 'prod' }, OTHER_GUILD)).text()).toMatch(/no stored credential named 'prod'/);
    const fromOther = await say(admin, 'cloud-credentials', { subcommand: 'update', name: 'prod' }, OTHER_GUILD, {
      modal: { access_key_id: 'AKIAIOSFODNN7NEWKEY2', secret_access_key: NEW_SECRET },
    });
    expect(fromOther.text()).toMatch(/no stored credential named 'prod'/);
    expect(fromOther.steps.some((step) => step.kind === 'modal')).toBe(false);
    const denied = await say(member, 'cloud-credentials', { subcommand: 'get', name: 'prod' });
    expect(denied.text()).toMatch(/Manage Server/);
    expect((await core.app.credentials.reveal(GUILD, 'prod')).secrets['secret_access_key']).toBe(OLD_SECRET);
  });

  it('update replaces the secret in a private form, keeps the id projects refer to, and erases the old ciphertext', async () => {
    const { say, core, dir } = await setup();
    const before = (await core.app.credentials.find(GUILD, 'prod'))!;
    const path = join(dir, 'db.sqlite');
    const oldCiphertext = Buffer.from(
      (core.database.sqlite!.sqlite.prepare('SELECT ciphertext FROM cloud_credentials WHERE id = ?').get(before.id) as { ciphertext: Buffer }).ciphertext,
    );
    expect(databaseHolds(path, oldCiphertext)).toBe(true);

    const reply = await say(admin, 'cloud-credentials', { subcommand: 'update', name: 'prod' }, GUILD, {
      modal: { access_key_id: 'AKIAIOSFODNN7NEWKEY2', secret_access_key: NEW_SECRET },
    });
    expect(reply.text()).toMatch(/prod updated/);
    expect(reply.text()).not.toContain(NEW_SECRET);
    const after = (await core.app.credentials.find(GUILD, 'prod'))!;
    expect(after).toMatchObject({ id: before.id, keyIdHint: 'KEY2', region: 'eu-west-1' });
    expect((await core.app.credentials.reveal(GUILD, 'prod')).secrets['secret_access_key']).toBe(NEW_SECRET);
    expect(databaseHolds(path, oldCiphertext)).toBe(false);
    expect((await core.app.audit.recent(GUILD)).map((e) => [e.action, e.outcome])).toContainEqual(['credentials.update', 'success']);
  });

  it('update with new_secret:false changes only the region, without asking for a secret', async () => {
    const { say, core } = await setup();
    const reply = await say(admin, 'cloud-credentials', { subcommand: 'update', name: 'prod', region: 'us-east-2', new_secret: false });
    expect(reply.steps.some((step) => step.kind === 'modal')).toBe(false);
    expect((await core.app.credentials.find(GUILD, 'prod'))?.region).toBe('us-east-2');
    expect((await core.app.credentials.reveal(GUILD, 'prod')).secrets['secret_access_key']).toBe(OLD_SECRET);
  });

  it('update refuses a bad region before the form is shown, and nothing to change at all', async () => {
    const { say, core } = await setup();
    const bad = await say(admin, 'cloud-credentials', { subcommand: 'update', name: 'prod', region: 'Not A Region!' }, GUILD, {
      modal: { access_key_id: 'AKIAIOSFODNN7NEWKEY2', secret_access_key: NEW_SECRET },
    });
    expect(bad.text()).toMatch(/region must be a region name/);
    expect(bad.steps.some((step) => step.kind === 'modal')).toBe(false);
    const nothing = await say(admin, 'cloud-credentials', { subcommand: 'update', name: 'prod', new_secret: false });
    expect(nothing.text()).toMatch(/Nothing to update/);
    expect((await core.app.credentials.find(GUILD, 'prod'))?.region).toBe('eu-west-1');
  });

  it('a credential removed while its update form was open stays removed', async () => {
    const { core } = await setup();
    await core.app.credentials.remove(GUILD, 'prod');
    await expect(core.app.credentials.update(GUILD, 'prod', { secrets: { access_key_id: 'AKIAIOSFODNN7NEWKEY2', secret_access_key: NEW_SECRET } })).rejects.toThrow(
      /no stored credential named 'prod'/,
    );
    expect((await core.app.credentials.list(GUILD))).toEqual([]);
  });
});

describe('validating Google Cloud and Azure credentials offline', () => {
  const gcpKey = (privateKey: string, projectId = 'my-project-123') =>
    JSON.stringify({ type: 'service_account', project_id: projectId, client_email: `deployer@${projectId}.iam.gserviceaccount.com`, private_key: privateKey });
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const target = (provider: 'gcp' | 'azure') => ({ provider, region: null, endpoint: null });
  const azure = { subscription_id: '11111111-1111-1111-1111-111111111111', tenant_id: '22222222-2222-2222-2222-222222222222', client_id: '33333333-3333-3333-3333-333333333333', client_secret: 's3cr3t' };

  it('answers "format checked; cannot be validated offline" as a neutral note, not a refusal', async () => {
    const gcp = await validateCredential(target('gcp'), { project_id: 'my-project-123', credentials_json: gcpKey(pem) });
    expect(gcp).toMatchObject({ ok: true, offline: true });
    expect(JSON.stringify(gcp)).toMatch(/Format checked; a Google Cloud credential cannot be validated offline/);
    expect(JSON.stringify(gcp)).not.toContain('PRIVATE KEY');
    const az = await validateCredential(target('azure'), azure);
    expect(az).toMatchObject({ ok: true, offline: true });
    expect(JSON.stringify(az)).toMatch(/Format checked; an Azure credential cannot be validated offline/);
  });

  it('refuses what can be known to be broken: an unreadable private key, Azure ids pasted into the wrong fields', async () => {
    const cut = pem.slice(0, 200);
    expect(await validateCredential(target('gcp'), { project_id: 'my-project-123', credentials_json: gcpKey(cut) })).toMatchObject({ ok: false, code: 'PrivateKeyInvalid' });
    expect(await validateCredential(target('azure'), { ...azure, tenant_id: azure.subscription_id })).toMatchObject({ ok: false, code: 'AzureIdsMixedUp' });
  });

  it('notes a key file of another project without refusing it', async () => {
    const result = await validateCredential(target('gcp'), { project_id: 'my-project-123', credentials_json: gcpKey(pem, 'other-project-9') });
    expect(result).toMatchObject({ ok: true, offline: true });
    expect(JSON.stringify(result)).toMatch(/belongs to project.*other-project-9/);
  });

  it('shows the note in the reply as "format checked", not as refused', async () => {
    const harness = await startAppHarness({ CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64') });
    try {
      await harness.say(admin, 'cloud-credentials', { subcommand: 'add', name: 'az', provider: 'azure' }, GUILD, { modal: azure });
      const reply = await harness.say(admin, 'cloud-credentials', { subcommand: 'validate', name: 'az' });
      expect(reply.text()).toMatch(/az: format checked/);
      expect(reply.text()).not.toMatch(/refused|❌/);
    } finally {
      await harness.stop();
    }
  });
});
