import { randomBytes } from 'node:crypto';
import type * as Dns from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { assertEndpointResolvesSafely, endpointSchema, isForbiddenAddress } from '../src/shared/endpoint.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';

/**
 * Names this file's resolver answers itself, standing in for a DNS zone the attacker controls: one that points at
 * the metadata service, and one that points at loopback when checked and at the metadata service afterwards.
 */
const dnsAnswers = vi.hoisted(() => ({ rebindLookups: 0 }));
vi.mock('node:dns', async (importOriginal) => {
  const real = await importOriginal<typeof Dns>();
  type Callback = (error: NodeJS.ErrnoException | null, addresses: Array<{ address: string; family: number }>) => void;
  const lookup = (hostname: string, options: object, callback: Callback) => {
    if (hostname === 'imds.attacker.test') return callback(null, [{ address: '10.0.0.7', family: 4 }, { address: '169.254.169.254', family: 4 }]);
    if (hostname === 'rebind.attacker.test') {
      dnsAnswers.rebindLookups += 1;
      return callback(null, [{ address: dnsAnswers.rebindLookups === 1 ? '127.0.0.1' : '169.254.169.254', family: 4 }]);
    }
    return (real.lookup as unknown as (h: string, o: object, c: Callback) => void)(hostname, options, callback);
  };
  return { ...real, default: { ...real, lookup }, lookup };
});

const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };

/** Every spelling of a refused endpoint a tester tried, and the reason it must give. */
const REFUSED_ENDPOINTS: Array<[string, RegExp]> = [
  ['http://169.254.169.254', /link-local or cloud metadata/],
  ['http://169.254.170.2:80', /link-local or cloud metadata/],
  ['http://[fd00:ec2::254]', /link-local or cloud metadata/],
  ['http://[fe80::1]:9000', /link-local or cloud metadata/],
  ['http://metadata.google.internal', /link-local or cloud metadata/],
  ['http://Metadata.Google.Internal./', /link-local or cloud metadata/],
  ['http://100.100.100.200', /link-local or cloud metadata/],
  ['http://[::ffff:169.254.169.254]', /link-local or cloud metadata/],
  ['http://[::ffff:a9fe:a9fe]', /link-local or cloud metadata/],
  ['http://[64:ff9b::169.254.169.254]', /link-local or cloud metadata/],
  ['http://2852039166', /link-local or cloud metadata/],
  ['http://0251.0376.0251.0376', /link-local or cloud metadata/],
  ['http://0xA9FEA9FE', /link-local or cloud metadata/],
  ['http://0xa9.0xfe.0xa9.0xfe', /link-local or cloud metadata/],
  ['http://169.254.43518', /link-local or cloud metadata/],
  ['http://user:pass@minio.example.com', /user name or password/],
  ['http://@169.254.169.254', /user name or password/],
  ['http://minio.example.com@169.254.169.254', /user name or password/],
  ['http://minio.example.com/latest/meta-data', /no path or query/],
  ['http://minio.example.com/..', /no path or query/],
  ['http://minio.example.com\\@169.254.169.254', /no path or query/],
  ['http://minio.example.com?x=1', /no path or query/],
  ['http://minio.example.com#frag', /no path or query/],
  ['ftp://minio.example.com', /https:\/\//],
  ['file:///etc/passwd', /https:\/\//],
];

describe('the endpoint rule', () => {
  it.each(REFUSED_ENDPOINTS)('refuses %s by its shape', (endpoint, reason) => {
    const result = endpointSchema.safeParse(endpoint);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(reason);
  });

  it('keeps S3 stores on public, private and loopback addresses, normalised to their origin', () => {
    expect(endpointSchema.parse('https://nyc3.digitaloceanspaces.com/')).toBe('https://nyc3.digitaloceanspaces.com');
    expect(endpointSchema.parse('http://10.0.0.7:9000')).toBe('http://10.0.0.7:9000');
    expect(endpointSchema.parse('http://127.0.0.1:9000')).toBe('http://127.0.0.1:9000');
    expect(endpointSchema.parse('http://[::1]:9000')).toBe('http://[::1]:9000');
  });

  it('knows metadata addresses in IPv6 disguises and leaves ordinary addresses alone', () => {
    expect(isForbiddenAddress('::ffff:169.254.169.254')).toBe(true);
    expect(isForbiddenAddress('::169.254.169.254')).toBe(true);
    expect(isForbiddenAddress('2002:a9fe:a9fe::1')).toBe(true);
    expect(isForbiddenAddress('FD00:EC2::254')).toBe(true);
    expect(isForbiddenAddress('fe80::1%eth0')).toBe(true);
    expect(isForbiddenAddress('::ffff:10.0.0.1')).toBe(false);
    expect(isForbiddenAddress('2001:db8::1')).toBe(false);
    expect(isForbiddenAddress('100.100.100.201')).toBe(false);
  });

  it('refuses a name when any address it resolves to is a metadata address', async () => {
    const answers = (list: string[]) => async () => list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    await expect(assertEndpointResolvesSafely('https://s3.example.com', 'endpoint', answers(['203.0.113.9', '169.254.169.254']))).rejects.toThrow(
      /s3\.example\.com resolves to a link-local or cloud metadata address/,
    );
    await expect(assertEndpointResolvesSafely('https://s3.example.com', 'endpoint', answers(['fd00:ec2::254']))).rejects.toThrow(/metadata/);
    await expect(assertEndpointResolvesSafely('https://s3.example.com', 'endpoint', answers(['::ffff:169.254.169.254']))).rejects.toThrow(/metadata/);
    await expect(assertEndpointResolvesSafely('https://s3.example.com', 'endpoint', answers(['100.100.100.200']))).rejects.toThrow(/metadata/);
    await expect(assertEndpointResolvesSafely('https://s3.example.com', 'endpoint', answers([]))).rejects.toThrow(/metadata/);
    await expect(assertEndpointResolvesSafely('https://s3.example.com', 'endpoint', answers(['203.0.113.9', '10.1.2.3']))).resolves.toBeUndefined();
    const unknown = async () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    await expect(assertEndpointResolvesSafely('https://nowhere.example', 'state endpoint', unknown)).rejects.toThrow(
      /state endpoint is refused: its host nowhere\.example could not be resolved/,
    );
  });
});

/** Answers every request the way a hostile or broken "S3" server might: with a secret in the error body. */
function startHostileServer(answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ endpoint: string; server: Server }> {
  const server = createServer(answer);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }));
  });
}

describe('endpoints a member gives', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  const SERVER_SECRET = `leaked-${randomBytes(8).toString('hex')}`;
  let xmlServer: { endpoint: string; server: Server };
  let htmlServer: { endpoint: string; server: Server };
  let requestsSeen = 0;

  beforeAll(async () => {
    harness = await startAppHarness({
      IAC_BIN_DIR: FAKE_ENGINE_BIN,
      CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64'),
      // Every refused spelling is one command; the rate limiter is not what is under test here.
      RATE_LIMIT_MEMBER_PER_MINUTE: '10000',
      RATE_LIMIT_GUILD_PER_MINUTE: '100000',
    });
    xmlServer = await startHostileServer((_request, response) => {
      requestsSeen += 1;
      response.writeHead(403, { 'content-type': 'application/xml' });
      response.end(`<?xml version="1.0"?><Error><Code>Internal-${SERVER_SECRET}</Code><Message>token ${SERVER_SECRET}</Message></Error>`);
    });
    htmlServer = await startHostileServer((_request, response) => {
      requestsSeen += 1;
      response.writeHead(500, { 'content-type': 'text/html' });
      response.end(`<html><body><h1>Debug</h1><pre>AWS_SECRET_ACCESS_KEY=${SERVER_SECRET}</pre></body></html>`);
    });
  });
  afterAll(async () => {
    await harness?.stop();
    xmlServer?.server.close();
    htmlServer?.server.close();
  });

  const initWithEndpoint = (name: string, endpoint: string) =>
    harness.say(
      admin,
      'cloud-init',
      { provider: 'aws', project_name: name, region: 'us-east-1', state_backend: 's3', state_bucket: 'tf-state', state_endpoint: endpoint },
      HARNESS_GUILD,
      { modal: { access_key_id: 'AKIAEXAMPLEKEY123456', secret_access_key: 'example-secret-value' } },
    );

  it.each(REFUSED_ENDPOINTS)('/cloud-init refuses state_endpoint %s before the secret form', async (endpoint, reason) => {
    const reply = await initWithEndpoint(`Refused ${randomBytes(3).toString('hex')}`, endpoint);
    expect(reply.steps.map((step) => step.kind)).not.toContain('modal');
    expect(reply.text()).toMatch(/state_endpoint/);
    expect(reply.text()).toMatch(reason);
  });

  it.each(REFUSED_ENDPOINTS)('/cloud-credentials add refuses endpoint %s before the secret form', async (endpoint, reason) => {
    const reply = await harness.say(admin, 'cloud-credentials', { subcommand: 'add', name: `c${randomBytes(3).toString('hex')}`, provider: 's3', endpoint });
    expect(reply.steps.map((step) => step.kind)).not.toContain('modal');
    expect(reply.text()).toMatch(reason);
  });

  it('refuses a state endpoint whose name resolves to the metadata service, before the secret form', async () => {
    const reply = await initWithEndpoint('Resolves To Imds', 'http://imds.attacker.test:9000');
    expect(reply.steps.map((step) => step.kind)).not.toContain('modal');
    expect(reply.text()).toMatch(/state endpoint is refused: its host imds\.attacker\.test resolves to a link-local or cloud metadata address/);
  });

  it('refuses a credential endpoint whose name resolves to the metadata service, before the secret form', async () => {
    const reply = await harness.say(admin, 'cloud-credentials', { subcommand: 'add', name: 'imds', provider: 's3', endpoint: 'https://imds.attacker.test' });
    expect(reply.steps.map((step) => step.kind)).not.toContain('modal');
    expect(reply.text()).toMatch(/imds\.attacker\.test resolves to a link-local or cloud metadata address/);
    expect((await harness.core.app.credentials.find(HARNESS_GUILD, 'imds'))).toBeUndefined();
  });

  it('refuses the connection when the name resolves to the metadata service after the check (DNS rebinding)', async () => {
    const reply = await initWithEndpoint('Rebinding', 'http://rebind.attacker.test:9');
    // The check saw loopback, so the form was shown; the connection then saw the metadata address and was refused.
    expect(reply.steps.map((step) => step.kind)).toContain('modal');
    expect(dnsAnswers.rebindLookups).toBeGreaterThan(1);
    expect(reply.text()).toMatch(/EndpointUnreachable/);
    await expect(harness.core.app.projects.get(HARNESS_GUILD, 'Rebinding')).rejects.toThrow();
  });

  it('never shows a made-up error code or message from the server’s XML answer', async () => {
    const before = requestsSeen;
    const reply = await initWithEndpoint('Hostile Xml', xmlServer.endpoint);
    expect(requestsSeen).toBeGreaterThan(before);
    expect(reply.text()).not.toContain(SERVER_SECRET);
    expect(reply.text()).toMatch(/not a known S3 error \(HTTP 403\)/);
    expect(reply.text()).toMatch(/UnknownError/);
  });

  it('never shows the HTML page a server answers with', async () => {
    const before = requestsSeen;
    const reply = await initWithEndpoint('Hostile Html', htmlServer.endpoint);
    expect(requestsSeen).toBeGreaterThan(before);
    expect(reply.text()).not.toContain(SERVER_SECRET);
    expect(reply.text()).not.toMatch(/<html|<pre|Debug/);
    expect(reply.text()).toMatch(/state bucket `tf-state` cannot be used/);
  });

  it('never shows the server’s error body when a stored credential is validated against it', async () => {
    const created = await harness.core.app.credentials.create({
      guildId: HARNESS_GUILD,
      name: 'hostile',
      provider: 's3',
      endpoint: xmlServer.endpoint,
      secrets: { access_key_id: 'AKIAEXAMPLEKEY123456', secret_access_key: 'example-secret-value' },
      createdBy: admin.id,
    });
    const reply = await harness.say(admin, 'cloud-credentials', { subcommand: 'validate', name: created.name });
    expect(reply.text()).not.toContain(SERVER_SECRET);
    expect(reply.text()).toMatch(/UnknownError/);
  });
});
