import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendBlock } from '../src/state/backend.js';
import {
  StatePrefixRefused,
  assertGuildOwnsKey,
  checkStateBucket,
  stateKey,
  statePrefix,
} from '../src/storage/remote-state.js';
import { InvalidBucketName, createS3Client } from '../src/storage/s3-client.js';
import { startS3Server, type TestS3Server } from './support/s3-server.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '222222222222222222';

describe('state keys', () => {
  it('every project state lives under its own guild prefix', () => {
    expect(stateKey(GUILD, 'web-app')).toBe(`terraform-state/${GUILD}/web-app/terraform.tfstate`);
    expect(statePrefix(GUILD, 'web-app')).toBe(`terraform-state/${GUILD}/web-app/`);
  });

  it('a slug or guild id that could escape the prefix is refused', () => {
    for (const slug of ['../other', 'a/b', '', '.', 'UPPER', `x${'y'.repeat(64)}`]) {
      expect(() => stateKey(GUILD, slug)).toThrow(StatePrefixRefused);
    }
    for (const guild of ['', '123', `${GUILD}/..`, '*']) {
      expect(() => stateKey(guild, 'web-app')).toThrow(StatePrefixRefused);
    }
  });

  it("another guild's prefix, the bucket root or a dot-dot path is refused", () => {
    expect(() => assertGuildOwnsKey(GUILD, stateKey(GUILD, 'web-app'))).not.toThrow();
    expect(() => assertGuildOwnsKey(GUILD, stateKey(OTHER_GUILD, 'web-app'))).toThrow(StatePrefixRefused);
    expect(() => assertGuildOwnsKey(GUILD, `terraform-state/${GUILD}/../${OTHER_GUILD}/web-app/terraform.tfstate`)).toThrow(
      StatePrefixRefused,
    );
    expect(() => assertGuildOwnsKey(GUILD, 'terraform.tfstate')).toThrow(StatePrefixRefused);
    // A guild id that merely starts with another's digits is not that guild's prefix.
    expect(() => assertGuildOwnsKey(GUILD, `terraform-state/${GUILD}1/x`)).toThrow(StatePrefixRefused);
  });

  it('names the same state key as the backend file the runner writes, so the check probes where state will live', () => {
    const block = backendBlock('s3', GUILD, 'web-app', { kind: 's3', bucket: 'tf-state', region: 'eu-west-1' });
    expect(block.s3?.key).toBe(stateKey(GUILD, 'web-app'));
    expect(block.s3).toMatchObject({ encrypt: true, use_lockfile: true });
  });
});

describe('checking a state bucket on a real S3-compatible server', () => {
  let server: TestS3Server;
  let client: S3Client;
  beforeAll(async () => {
    server = await startS3Server({ buckets: ['tf-state'] });
    client = createS3Client({ secrets: { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey }, endpoint: server.endpoint });
  });
  afterAll(async () => {
    client.destroy();
    await server.stop();
  });

  const keysIn = async (bucket: string) =>
    ((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((object) => object.Key);

  it('a bucket the credential can write to passes, and the probe object is cleaned up', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'tf-state', Key: stateKey(OTHER_GUILD, 'web-app'), Body: '{}' }));
    const result = await checkStateBucket({ client, bucket: 'tf-state', guildId: GUILD, projectSlug: 'web-app' });
    expect(result).toEqual({ ok: true, key: stateKey(GUILD, 'web-app') });
    // Nothing left behind, and the other guild's state untouched.
    expect(await keysIn('tf-state')).toEqual([stateKey(OTHER_GUILD, 'web-app')]);
  });

  it('a missing bucket is named, with what to do', async () => {
    const result = await checkStateBucket({ client, bucket: 'no-such-bucket', guildId: GUILD, projectSlug: 'web-app', endpoint: server.endpoint });
    expect(result).toMatchObject({ ok: false, step: 'bucket', code: 'NoSuchBucket' });
    expect(result.ok === false && result.message).toContain(`'no-such-bucket' does not exist at ${server.endpoint}`);
  });

  it("an unknown key is reported with the provider's code", async () => {
    const stranger = createS3Client({ secrets: { access_key_id: 'AKIANOTKNOWNTOS3RVER', secret_access_key: 'x' }, endpoint: server.endpoint });
    try {
      const result = await checkStateBucket({ client: stranger, bucket: 'tf-state', guildId: GUILD, projectSlug: 'web-app' });
      expect(result).toMatchObject({ ok: false, step: 'bucket', code: 'InvalidAccessKeyId' });
    } finally {
      stranger.destroy();
    }
  });

  it('a malformed bucket name or slug is refused before any request', async () => {
    await expect(checkStateBucket({ client, bucket: '../etc', guildId: GUILD, projectSlug: 'web-app' })).rejects.toThrow(InvalidBucketName);
    await expect(checkStateBucket({ client, bucket: 'tf-state', guildId: GUILD, projectSlug: '../x' })).rejects.toThrow(StatePrefixRefused);
  });
});
