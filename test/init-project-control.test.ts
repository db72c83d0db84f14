/**
 * A deployer cannot take over another member's project: renewing it (which wipes the owner's vault session) and
 * using a stored credential of another cloud than the project's need the owner, or admin.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { startS3Server, type TestS3Server } from './support/s3-server.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };
const dave: Actor = { id: '300000000000000004', displayName: 'dave', isBot: false, isGuildAdmin: false };
const erin: Actor = { id: '300000000000000005', displayName: 'erin', isBot: false, isGuildAdmin: false };
const web = { provider: 'gcp', project_name: 'web', region: 'us-central1' };

let s3: TestS3Server;
let harness: Awaited<ReturnType<typeof startAppHarness>>;
const grant = (who: Actor, provider: 'gcp' | 'aws', level: 'deployer' | 'admin') =>
  harness.say(alice, 'cloud-jit-grant', { user: { id: who.id, displayName: who.displayName, isBot: false }, provider, level, duration: 60 });
const project = () => harness.core.app.projects.get(HARNESS_GUILD, 'web');
const sessions = () => harness.core.app.vault.list(HARNESS_GUILD).map((s) => s.sessionId);

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['tf-state'] });
});
afterAll(() => s3?.stop());
beforeEach(async () => {
  harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN, CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64') });
  await grant(bob, 'gcp', 'deployer');
  await grant(dave, 'gcp', 'deployer');
});
afterEach(() => harness?.stop());

describe('/cloud-init on another member’s project', () => {
  beforeEach(async () => {
    const init = await harness.say(bob, 'cloud-init', web, HARNESS_GUILD, { modal: { project_id: 'bob-project-111' } });
    expect(init.text()).toMatch(/initialised/);
  });

  it('lets the owner renew their own project', async () => {
    const before = (await project()).vaultSessionId;
    const renew = await harness.say(bob, 'cloud-init', web, HARNESS_GUILD, { modal: { project_id: 'bob-project-222' } });
    expect(renew.text()).toMatch(/initialised/);
    expect((await project()).vaultSessionId).not.toBe(before);
    expect(sessions()).toEqual([(await project()).vaultSessionId]);
  });

  it('refuses another deployer before the secret form, and the owner’s session stays', async () => {
    const before = (await project()).vaultSessionId;
    const takeover = await harness.say(dave, 'cloud-init', web, HARNESS_GUILD, { modal: { project_id: 'dave-project-999' } });
    expect(takeover.steps.map((s) => s.kind)).not.toContain('modal');
    expect(takeover.text()).toContain(`belongs to <@${bob.id}>`);
    expect(takeover.text()).toMatch(/provider: gcp, level: admin/);
    expect((await project()).vaultSessionId).toBe(before);
    expect(sessions()).toEqual([before]);
    expect(harness.core.app.vault.info(HARNESS_GUILD, before!).ownerId).toBe(bob.id);
    const [denied] = await harness.core.app.audit.recent(HARNESS_GUILD, { action: 'vault.renew' });
    expect(denied).toMatchObject({ userId: dave.id, outcome: 'denied', details: { reason: 'not_owner', owner: bob.id } });

    // With a stored GCP credential instead of the form: refused just the same.
    await harness.core.app.credentials.create({ guildId: HARNESS_GUILD, name: 'gcp-main', provider: 'gcp', secrets: { project_id: 'guild-project-1' }, createdBy: alice.id });
    const viaStored = await harness.say(dave, 'cloud-init', { ...web, credential: 'gcp-main' });
    expect(viaStored.text()).toContain(`belongs to <@${bob.id}>`);
    expect((await project()).vaultSessionId).toBe(before);
  });

  it('lets a server admin, or a JIT admin on the provider, renew it', async () => {
    const byAdmin = await harness.say(alice, 'cloud-init', web, HARNESS_GUILD, { modal: { project_id: 'admin-project-333' } });
    expect(byAdmin.text()).toMatch(/initialised/);
    expect(sessions()).toEqual([(await project()).vaultSessionId]);

    await grant(erin, 'gcp', 'admin');
    const byJitAdmin = await harness.say(erin, 'cloud-init', web, HARNESS_GUILD, { modal: { project_id: 'erin-project-444' } });
    expect(byJitAdmin.text()).toMatch(/initialised/);
    expect(harness.core.app.vault.info(HARNESS_GUILD, (await project()).vaultSessionId!).ownerId).toBe(erin.id);
  });
});

describe('/cloud-init with a stored credential of another provider as state_credential', () => {
  const spacesState = { provider: 'gcp', region: 'us-central1', state_backend: 's3', state_bucket: 'tf-state', state_credential: 'spaces' };
  beforeEach(async () => {
    await harness.core.app.credentials.create({
      guildId: HARNESS_GUILD,
      name: 'spaces',
      provider: 's3',
      region: 'us-east-1',
      endpoint: s3.endpoint,
      secrets: { access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey },
      createdBy: alice.id,
    });
  });

  it('refuses a GCP-only deployer before the form, naming the grant that would allow it', async () => {
    const reply = await harness.say(bob, 'cloud-init', { ...spacesState, project_name: 'borrowed' }, HARNESS_GUILD, { modal: { project_id: 'bob-project-555' } });
    expect(reply.steps.map((s) => s.kind)).not.toContain('modal');
    expect(reply.text()).toMatch(/'spaces' is an s3 credential, not a gcp one/);
    expect(reply.text()).toMatch(/provider: aws, level: admin/);
    expect(await harness.core.app.projects.list(HARNESS_GUILD)).toEqual([]);
    expect((await harness.core.app.audit.recent(HARNESS_GUILD, { action: 'project.init' }))[0]).toMatchObject({
      userId: bob.id,
      outcome: 'denied',
      details: { reason: 'other_provider_credential', credentialName: 'spaces' },
    });
  });

  it('allows a server admin, and a deployer with a JIT Admin grant on AWS', async () => {
    const byAdmin = await harness.say(alice, 'cloud-init', { ...spacesState, project_name: 'admin-state' }, HARNESS_GUILD, {
      modal: { project_id: 'admin-project-666' },
    });
    expect(byAdmin.text()).toMatch(/initialised/);

    await grant(bob, 'aws', 'admin');
    const byJitAdmin = await harness.say(bob, 'cloud-init', { ...spacesState, project_name: 'bob-state' }, HARNESS_GUILD, {
      modal: { project_id: 'bob-project-777' },
    });
    expect(byJitAdmin.text()).toMatch(/initialised/);
    expect((await harness.core.app.projects.get(HARNESS_GUILD, 'bob-state')).backendSettings).toMatchObject({ kind: 's3', credentialName: 'spaces' });
  });
});
