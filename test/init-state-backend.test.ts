import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { ProjectNotFound } from '../src/projects/errors.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { startS3Server, type TestS3Server } from './support/s3-server.js';

const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };

describe('/cloud-init with S3 state', () => {
  let s3: TestS3Server;
  let harness: Awaited<ReturnType<typeof startAppHarness>>;

  beforeAll(async () => {
    s3 = await startS3Server({ buckets: ['tf-state'] });
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN, CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64') });
  });
  afterAll(async () => {
    await harness?.stop();
    await s3?.stop();
  });

  const init = (name: string, extra: Record<string, string>, secrets: Record<string, string>) =>
    harness.say(
      admin,
      'cloud-init',
      { provider: 'aws', project_name: name, region: 'us-east-1', state_backend: 's3', ...extra },
      HARNESS_GUILD,
      { modal: secrets },
    );

  it('checks the bucket with the entered keys, then writes a backend that keeps state under the guild’s prefix', async () => {
    const reply = await init('Stateful', { state_bucket: 'tf-state', state_endpoint: s3.endpoint }, {
      access_key_id: s3.accessKeyId,
      secret_access_key: s3.secretAccessKey,
    });
    expect(reply.text()).toMatch(/initialised/);
    const project = await harness.core.app.projects.get(HARNESS_GUILD, 'Stateful');
    expect(project.backendSettings).toMatchObject({ kind: 's3', bucket: 'tf-state', endpoint: s3.endpoint });
    // The runner writes backend.tf.json at the first plan; the settings it will use name this guild's key.
    expect(JSON.stringify(project.backendSettings)).not.toContain(s3.secretAccessKey);
  });

  it('refuses a missing bucket before anything is saved, and keeps no secret behind', async () => {
    const sessionsBefore = harness.core.app.vault.list(HARNESS_GUILD).length;
    const reply = await init('No Bucket', { state_bucket: 'does-not-exist', state_endpoint: s3.endpoint }, {
      access_key_id: s3.accessKeyId,
      secret_access_key: s3.secretAccessKey,
    });
    expect(reply.text()).toMatch(/does-not-exist/);
    expect(reply.text()).toMatch(/NoSuchBucket/);
    await expect(harness.core.app.projects.get(HARNESS_GUILD, 'No Bucket')).rejects.toThrow(ProjectNotFound);
    expect(harness.core.app.vault.list(HARNESS_GUILD)).toHaveLength(sessionsBefore); // no vault session left for it
  });

  it('refuses keys the store does not know, naming the provider’s error', async () => {
    const reply = await init('Bad Keys', { state_bucket: 'tf-state', state_endpoint: s3.endpoint }, {
      access_key_id: 'AKIAUNKNOWNKEY123456',
      secret_access_key: 'whatever-secret-value',
    });
    expect(reply.text()).toMatch(/InvalidAccessKeyId/);
    expect(reply.text()).not.toContain('whatever-secret-value');
  });

  it('asks for a bucket when s3 state is chosen without one, before showing the form', async () => {
    const reply = await harness.say(admin, 'cloud-init', { provider: 'aws', project_name: 'Bucketless', region: 'us-east-1', state_backend: 's3' });
    expect(reply.steps.map((s) => s.kind)).not.toContain('modal');
    expect(reply.text()).toMatch(/state_bucket/);
  });

  it('refuses S3 state for a GCP project without a stored credential for the store, before the form', async () => {
    const reply = await harness.say(
      admin,
      'cloud-init',
      { provider: 'gcp', project_name: 'Gcp S3', region: 'us-central1', state_backend: 's3', state_bucket: 'tf-state' },
      HARNESS_GUILD,
      { modal: { project_id: 'my-gcp-project-1' } },
    );
    expect(reply.steps.map((s) => s.kind)).not.toContain('modal');
    expect(reply.text()).toMatch(/state_credential/);
    expect(reply.text()).toMatch(/gcs/);
  });

  it('refuses a separate state credential for an AWS project, whose own keys would collide with it', async () => {
    const reply = await harness.say(admin, 'cloud-init', {
      provider: 'aws',
      project_name: 'Collide',
      region: 'us-east-1',
      state_backend: 's3',
      state_bucket: 'tf-state',
      state_credential: 'anything',
    });
    expect(reply.steps.map((s) => s.kind)).not.toContain('modal');
    expect(reply.text()).toMatch(/own keys/);
  });

  it('refuses a state credential stored by another guild, as if it did not exist', async () => {
    await harness.core.app.credentials.create({
      guildId: '222222222222222222',
      name: 'theirs',
      provider: 's3',
      region: 'us-east-1',
      endpoint: s3.endpoint,
      secrets: { access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey },
      createdBy: admin.id,
    });
    const reply = await harness.say(admin, 'cloud-init', {
      provider: 'gcp',
      project_name: 'Borrowed State',
      region: 'us-central1',
      state_backend: 's3',
      state_bucket: 'tf-state',
      state_credential: 'theirs',
    });
    expect(reply.steps.map((s) => s.kind)).not.toContain('modal');
    expect(reply.text()).toMatch(/no stored credential named 'theirs'/);
  });

  it('keeps a GCP project’s state in an S3-compatible store with a stored credential, and gives the engine both keys', async () => {
    await harness.core.app.credentials.create({
      guildId: HARNESS_GUILD,
      name: 'spaces',
      provider: 's3',
      region: 'us-east-1',
      endpoint: s3.endpoint,
      secrets: { access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey },
      createdBy: admin.id,
    });
    const init = await harness.say(
      admin,
      'cloud-init',
      { provider: 'gcp', project_name: 'Spaces State', region: 'us-central1', state_backend: 's3', state_bucket: 'tf-state', state_credential: 'spaces' },
      HARNESS_GUILD,
      { modal: { project_id: 'spaces-state-proj' } },
    );
    expect(init.text()).toMatch(/initialised/);

    const deploy = await harness.say(admin, 'cloud-deploy', { project: 'Spaces State', resource_type: 'bucket', disk_size: 1 }, HARNESS_GUILD, {
      buttons: [{ buttonId: 'apply', by: admin }],
    });
    expect(deploy.text()).toMatch(/Deployed bucket/);
    const workspace = join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'spaces-state');
    const backend = JSON.parse(readFileSync(join(workspace, 'backend.tf.json'), 'utf8')) as { terraform: { backend: { s3: Record<string, unknown> } } };
    expect(backend.terraform.backend.s3).toMatchObject({
      bucket: 'tf-state',
      key: `terraform-state/${HARNESS_GUILD}/spaces-state/terraform.tfstate`,
      endpoints: { s3: s3.endpoint },
      encrypt: true,
      use_lockfile: true,
    });
    expect(JSON.stringify(backend)).not.toContain(s3.secretAccessKey);
    const invocations = readFileSync(join(workspace, '.fake-engine-invocations.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { argv?: string[]; env?: Record<string, string> })
      .filter((entry) => entry.argv?.[0] === 'apply');
    expect(invocations[0]?.env).toMatchObject({ AWS_ACCESS_KEY_ID: s3.accessKeyId, TF_VAR_project_id: 'spaces-state-proj' });
  });
});
