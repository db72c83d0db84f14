import { randomBytes } from 'node:crypto';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProviderSecrets } from '../src/credentials/secrets.js';
import { toEngineEnv } from '../src/engine/credential-env.js';
import { generateConfig } from '../src/engine/config-generator.js';
import { UnsupportedResource } from '../src/engine/errors.js';
import { isOnPseudoFilesystem } from '../src/shared/directories.js';
import type { Actor, ModalSpec } from '../src/interaction/conversation.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { makeTempDir } from './support/tmp.js';
import { withArticle } from '../src/shared/article.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const AZURE = {
  subscription_id: '11111111-2222-3333-4444-555555555555',
  tenant_id: '11111111-2222-3333-4444-666666666666',
  client_id: '11111111-2222-3333-4444-777777777777',
  client_secret: 'azure-client-secret-value',
};
const AWS = { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

describe('secrets that would pass the form and fail at the run', () => {
  it('a NUL or another control character in a secret is refused when the form is read, naming the field', () => {
    for (const bad of ['abc\u0000def', 'abc\u0007def', 'abc\u007fdef']) {
      expect(() => parseProviderSecrets('aws', { ...AWS, secret_access_key: bad })).toThrow(/secret_access_key must not contain control characters/);
      expect(() => parseProviderSecrets('azure', { ...AZURE, client_secret: bad })).toThrow(/client_secret must not contain control characters/);
    }
    // A raw NUL, as pasted (JSON.stringify would escape it).
    const keyFile = '{"type": "service_account", "client_email": "a@b.iam", "private_key": "k\u0000ey"}';
    expect(() => parseProviderSecrets('gcp', { project_id: 'my-project-1', credentials_json: keyFile })).toThrow(/credentials_json must not contain control characters/);
  });

  it('a secret over the run’s limit is refused by the parser with that limit; one at the limit runs', () => {
    expect(() => parseProviderSecrets('aws', { ...AWS, secret_access_key: 'a'.repeat(257) })).toThrow(/secret_access_key is longer than 256 characters/);
    const atLimit = parseProviderSecrets('aws', { ...AWS, secret_access_key: 'a'.repeat(256) });
    expect(toEngineEnv('aws', atLimit)['AWS_SECRET_ACCESS_KEY']).toHaveLength(256);
    const azure = parseProviderSecrets('azure', { ...AZURE, client_secret: 'b'.repeat(512) });
    expect(toEngineEnv('azure', azure)['ARM_CLIENT_SECRET']).toHaveLength(512);
  });
});

describe('the engine configuration’s boot disks', () => {
  const project = (provider: 'gcp' | 'aws' | 'azure', region: string) => ({ id: 1, guildId: HARNESS_GUILD, slug: 'p', provider, region });
  const vm = (diskSizeGb: number | null) => ({ id: 1, name: 'vm', resourceType: 'vm' as const, instanceType: 't3.micro', diskSizeGb });

  it('allows each image’s own minimum (AWS 8 GB) and nothing smaller, and defaults Azure to its 30 GB image', () => {
    expect(JSON.stringify(generateConfig(project('aws', 'us-east-1'), [vm(8)]).document)).toContain('"volume_size":8');
    expect(() => generateConfig(project('aws', 'us-east-1'), [vm(7)])).toThrow(UnsupportedResource);
    expect(() => generateConfig(project('azure', 'eastus'), [vm(29)])).toThrow(/30 to 65536 GB/);
    expect(JSON.stringify(generateConfig(project('azure', 'eastus'), [vm(null)]).document)).toContain('"disk_size_gb":30');
  });
});

describe('the folders the operator names', () => {
  it('are refused under /proc, /sys and /dev, also through a link, and allowed elsewhere', () => {
    const tmp = makeTempDir();
    try {
      symlinkSync('/proc', join(tmp.dir, 'to-proc'));
      expect(isOnPseudoFilesystem('/proc/x/y')).toBe(true);
      expect(isOnPseudoFilesystem('/sys')).toBe(true);
      expect(isOnPseudoFilesystem('/dev/shm/db')).toBe(true);
      expect(isOnPseudoFilesystem(join(tmp.dir, 'to-proc', 'x', 'y'))).toBe(true);
      expect(isOnPseudoFilesystem(join(tmp.dir, 'data', 'db'))).toBe(false);
      expect(isOnPseudoFilesystem('/devices/db')).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('commands refuse bad input before the form or the plan', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;

  beforeAll(async () => {
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN, RATE_LIMIT_MEMBER_PER_MINUTE: '10000', RATE_LIMIT_GUILD_PER_MINUTE: '100000' });
    const projects: Array<[string, string, string, Record<string, string>]> = [
      ['aws', 'Aws Box', 'us-east-1', AWS],
      ['azure', 'Azure Box', 'westeurope', AZURE],
      ['gcp', 'Gcp Box', 'us-central1', { project_id: 'gcp-box-12345' }],
    ];
    for (const [provider, name, region, modal] of projects) {
      const init = await harness.say(alice, 'cloud-init', { provider, project_name: name, region }, HARNESS_GUILD, { modal });
      expect(init.text()).toMatch(/initialised/);
    }
  });
  afterAll(() => harness?.stop());

  const init = (options: Record<string, string>, modal: Record<string, string>) =>
    harness.say(alice, 'cloud-init', { project_name: `P ${randomBytes(3).toString('hex')}`, ...options }, HARNESS_GUILD, { modal });

  it.each([
    ['gcp', 'eu-west-1'],
    ['aws', 'westeurope'],
    ['aws', 'US-EAST-1'],
    ['azure', 'us-east-1'],
  ])('refuses a project for %s in region %s before the secret form', async (provider, region) => {
    const reply = await init({ provider, region }, {});
    expect(reply.steps.map((step) => step.kind)).not.toContain('modal');
    expect(reply.text()).toMatch(new RegExp(`\`region\`: .*is not ${withArticle(provider.toUpperCase())} region name`));
  });

  it('the form offers no more characters than a run accepts', async () => {
    const reply = await init({ provider: 'aws', region: 'us-east-1' }, AWS);
    const form = reply.steps.find((step): step is { kind: 'modal'; spec: ModalSpec } => step.kind === 'modal');
    expect(form?.spec.fields.find((field) => field.id === 'secret_access_key')?.maxLength).toBe(256);
  });

  it('refuses a NUL in a secret when the form is submitted, naming the field, and keeps nothing', async () => {
    const sessions = harness.core.app.vault.list(HARNESS_GUILD).length;
    const reply = await init({ provider: 'aws', region: 'us-east-1' }, { ...AWS, secret_access_key: 'wJalrXUtnFEMI\u0000K7MDENG' });
    expect(reply.text()).toMatch(/secret_access_key must not contain control characters/);
    expect(reply.text()).not.toContain('wJalrXUtnFEMI');
    expect(harness.core.app.vault.list(HARNESS_GUILD)).toHaveLength(sessions);
  });

  it('refuses a 512-character secret when the form is submitted, naming the field and the limit', async () => {
    const reply = await init({ provider: 'aws', region: 'us-east-1' }, { ...AWS, secret_access_key: 'x'.repeat(512) });
    expect(reply.text()).toMatch(/secret_access_key is longer than 256 characters/);
  });

  it.each([
    ['Aws Box', 7, /AWS virtual machine's boot disk must be 8 to 65536 GB/],
    ['Gcp Box', 9, /GCP virtual machine's boot disk must be 10 to 65536 GB/],
    ['Azure Box', 20, /AZURE virtual machine's boot disk must be 30 to 65536 GB/],
    ['Azure Box', 1, /AZURE virtual machine's boot disk must be 30/],
  ])('refuses a %s VM with a %i GB disk before any plan', async (project, diskSize, reason) => {
    const before = (await harness.core.app.resources.listByGuild(HARNESS_GUILD)).length;
    const reply = await harness.say(alice, 'cloud-deploy', { project, resource_type: 'vm', instance_type: 'e2-micro', disk_size: diskSize });
    expect(reply.text()).toMatch(reason);
    expect(reply.text()).not.toMatch(/Planning/);
    expect(await harness.core.app.resources.listByGuild(HARNESS_GUILD)).toHaveLength(before);
  });
});
