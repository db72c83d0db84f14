import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { startS3Server, type TestS3Server } from './support/s3-server.js';

const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };

describe('/cloud-init with S3 state', () => {
  let s3: TestS3Server;
  let harness: Awaited<ReturnType<typeof startAppHarness>>;

  beforeAll(async () => {
    s3 = await startS3Server({ buckets: ['tf-state'] });
    harness = await startAppHarness();
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
    const project = harness.core.app.projects.get(HARNESS_GUILD, 'Stateful');
    expect(project.backendSettings).toMatchObject({ kind: 's3', bucket: 'tf-state', endpoint: s3.endpoint });
    // The runner writes backend.tf.json at the first plan; the settings it will use name this guild's key.
    expect(JSON.stringify(project.backendSettings)).not.toContain(s3.secretAccessKey);
  });

  it('refuses a missing bucket before anything is saved, and keeps no secret behind', async () => {
    const reply = await init('No Bucket', { state_bucket: 'does-not-exist', state_endpoint: s3.endpoint }, {
      access_key_id: s3.accessKeyId,
      secret_access_key: s3.secretAccessKey,
    });
    expect(reply.text()).toMatch(/does-not-exist/);
    expect(reply.text()).toMatch(/NoSuchBucket/);
    expect(() => harness.core.app.projects.get(HARNESS_GUILD, 'No Bucket')).toThrow();
    expect(harness.core.app.vault.list(HARNESS_GUILD).length).toBe(1);
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

  it('refuses S3 state for a GCP project and points to GCS', async () => {
    const reply = await harness.say(
      admin,
      'cloud-init',
      { provider: 'gcp', project_name: 'Gcp S3', region: 'us-central1', state_backend: 's3', state_bucket: 'tf-state' },
      HARNESS_GUILD,
      { modal: { project_id: 'my-gcp-project-1' } },
    );
    expect(reply.text()).toMatch(/gcs/);
    const workspace = join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'gcp-s3');
    expect(existsSync(workspace) ? readFileSync(join(workspace, 'backend.tf.json'), 'utf8') : '').toBe('');
  });
});
