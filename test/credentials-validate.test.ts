import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCredential } from '../src/credentials/validate.js';
import { startS3Server, type TestS3Server } from './support/s3-server.js';

describe('validating a credential against a real S3-compatible server', () => {
  let server: TestS3Server;
  beforeAll(async () => {
    server = await startS3Server({ buckets: ['state-bucket'] });
  });
  afterAll(async () => {
    await server.stop();
  });

  const target = () => ({ provider: 's3' as const, region: 'us-east-1', endpoint: server.endpoint });
  const good = () => ({ access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey });

  it('a working key pair passes a signed ListBuckets', async () => {
    expect(await validateCredential(target(), good())).toEqual({ ok: true });
  });

  it('a key scoped to one bucket can be checked with HeadBucket on that bucket', async () => {
    expect(await validateCredential(target(), good(), { bucket: 'state-bucket' })).toEqual({ ok: true });
    const missing = await validateCredential(target(), good(), { bucket: 'no-such-bucket' });
    expect(missing).toMatchObject({ ok: false, code: 'NoSuchBucket' });
  });

  it("an unknown access key id fails with the provider's InvalidAccessKeyId", async () => {
    // s3rver does not verify SigV4 signatures, so a wrong secret cannot be shown failing here; a wrong key id can.
    const result = await validateCredential(target(), { access_key_id: 'AKIANOTKNOWNTOS3RVER', secret_access_key: 'whatever' });
    expect(result).toEqual({
      ok: false,
      code: 'InvalidAccessKeyId',
      message: expect.stringContaining('does not know this access key id'),
    });
    expect(JSON.stringify(result)).not.toContain('whatever');
  });

  it('an endpoint nobody listens on is reported as unreachable', async () => {
    const gone = await startS3Server();
    const endpoint = gone.endpoint;
    await gone.stop();
    const result = await validateCredential({ provider: 's3', region: null, endpoint }, good());
    expect(result).toMatchObject({ ok: false, code: 'EndpointUnreachable' });
  });

  it('incomplete secrets are reported without a network call', async () => {
    const result = await validateCredential(target(), { access_key_id: server.accessKeyId });
    expect(result).toMatchObject({ ok: false, code: 'credentials.invalid_secrets' });
  });

  it('gcp and azure secrets that are incomplete are refused without a network call', async () => {
    for (const provider of ['gcp', 'azure'] as const) {
      const result = await validateCredential({ provider, region: null, endpoint: null }, {});
      expect(result).toMatchObject({ ok: false, code: 'credentials.invalid_secrets' });
    }
  });
});
