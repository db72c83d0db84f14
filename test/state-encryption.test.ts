import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MasterKeyring, type MasterKey } from '../src/credentials/master-keys.js';
import { toEngineEnv } from '../src/engine/credential-env.js';
import { RunFailed } from '../src/engine/errors.js';
import { IacRunner, type RunEvent, type RunRequest } from '../src/engine/runner.js';
import { LocalEngineExecutor } from '../src/engine/executor.js';
import { RunScheduler } from '../src/engine/scheduler.js';
import { WorkspaceLeases } from '../src/engine/workspace-leases.js';
import { runStoreFor } from '../src/engine/run-store.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { ResourceStatusTransitions } from '../src/deploy/resource-transitions.js';
import {
  StateUnreadable,
  derivePassphrase,
  encryptionConfig,
  keyProviderName,
  supportsStateEncryption,
} from '../src/engine/state-encryption.js';
import type { Project } from '../src/projects/index.js';
import { makeRunnerFixture, type RunnerFixture } from './support/engine-env.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '333333333333333333';
const K1: MasterKey = { id: 'k1', key: Buffer.alloc(32, 1) };
const K2: MasterKey = { id: 'k2', key: Buffer.alloc(32, 2) };

function request(project: Project, extra: Partial<RunRequest> = {}): RunRequest {
  return {
    guildId: project.guildId,
    projectSlug: project.slug,
    userId: '222222222222222222',
    credentialEnv: toEngineEnv('gcp', { project_id: 'encryption-test-project' }),
    enginePreference: 'tofu',
    ...extra,
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ? filesUnder(path) : [path];
  });
}

const fixtures: RunnerFixture[] = [];
async function fixtureWith(options: Parameters<typeof makeRunnerFixture>[0]): Promise<RunnerFixture> {
  const fixture = await makeRunnerFixture(options);
  fixtures.push(fixture);
  return fixture;
}
afterEach(async () => {
  for (const fixture of fixtures.splice(0)) await fixture.cleanup();
});

/** The TF_ENCRYPTION each engine invocation of the project received (undefined when it had none). */
function encryptionSeen(fixture: RunnerFixture, project: Project): Array<string | undefined> {
  return fixture.invocations(project).filter((i) => i.argv).map((i) => i.env?.TF_ENCRYPTION);
}

describe('which engines get state encryption', () => {
  it('is OpenTofu 1.7.0 and later only', () => {
    const tofu = (version: string) => supportsStateEncryption({ name: 'tofu', version });
    expect([tofu('1.6.2'), tofu('1.7.0-rc1'), tofu('1.7.0'), tofu('1.7.3'), tofu('1.8.5'), tofu('2.0.0'), tofu('nonsense')]).toEqual([
      false, false, true, true, true, true, false,
    ]);
    expect(supportsStateEncryption({ name: 'terraform', version: '1.11.4' })).toBe(false);
  });
});

describe('the master keys the bot derives passphrases from', () => {
  it('are every configured key, the current one first; none without CREDENTIALS_MASTER_KEY', () => {
    const keyring = MasterKeyring.fromConfig({
      CREDENTIALS_MASTER_KEY: K2.key.toString('base64'),
      CREDENTIALS_MASTER_KEY_ID: 'k2',
      CREDENTIALS_PREVIOUS_MASTER_KEYS: `k1:${K1.key.toString('base64')}`,
    });
    expect(keyring.all()).toEqual([K2, K1]);
    expect(MasterKeyring.fromConfig({ CREDENTIALS_MASTER_KEY: undefined, CREDENTIALS_MASTER_KEY_ID: 'k1', CREDENTIALS_PREVIOUS_MASTER_KEYS: undefined }).all()).toEqual([]);
  });
});

describe('the per-project passphrase', () => {
  it('is stable for a project and differs between projects, guilds and master keys', () => {
    const a = derivePassphrase(K1.key, GUILD, 7);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(derivePassphrase(Buffer.alloc(32, 1), GUILD, 7)).toBe(a);
    expect(new Set([a, derivePassphrase(K1.key, GUILD, 8), derivePassphrase(K1.key, OTHER_GUILD, 7), derivePassphrase(K2.key, GUILD, 7)]).size).toBe(4);
  });

  it('goes into an encryption block with a pbkdf2 key provider and aes_gcm for state and plan, old keys as fallbacks', () => {
    const config = encryptionConfig(
      [
        { name: keyProviderName('k2'), passphrase: 'p'.repeat(64) },
        { name: keyProviderName('k1'), passphrase: 'q'.repeat(64) },
      ],
      false,
    );
    expect(config).toContain(`key_provider "pbkdf2" "chatops_6b32" {\n  passphrase = "${'p'.repeat(64)}"\n}`);
    expect(config).toContain('method "aes_gcm" "chatops_6b31" {\n  keys = key_provider.pbkdf2.chatops_6b31\n}');
    for (const target of ['state', 'plan']) {
      expect(config).toContain(
        `${target} {\n  enforced = true\n  method = method.aes_gcm.chatops_6b32\n  fallback {\n    method = method.aes_gcm.chatops_6b31\n  }\n}`,
      );
    }
    expect(config).not.toContain('unencrypted');
    const migrating = encryptionConfig([{ name: 'chatops_6b31', passphrase: 'q'.repeat(64) }], true);
    expect(migrating).toContain('method "unencrypted" "chatops_migrate" {}');
    expect(migrating).toContain('state {\n  method = method.aes_gcm.chatops_6b31\n  fallback {\n    method = method.unencrypted.chatops_migrate\n  }\n}');
    expect(migrating).not.toContain('enforced');
  });
});

describe('runs with OpenTofu 1.8 and a master key', () => {
  it('pass TF_ENCRYPTION to every engine command, and the passphrase appears nowhere else', async () => {
    const fixture = await fixtureWith({ stateEncryptionKeys: [K1] });
    const project = await fixture.project(GUILD, 'Encrypted');
    // The stand-in's own invocation log records env values by design: it is left out of the search below.
    const invocationLog = join(fixture.workspace(project), '.fake-engine-invocations.jsonl');
    const vm = await fixture.resource(project);
    const events: RunEvent[] = [];
    const plan = await fixture.runner.plan({ ...request(project), resourceId: vm.id, onEvent: (e) => events.push(e) });
    const applied = await fixture.runner.apply({ ...request(project), planRunId: plan.runId, onEvent: (e) => events.push(e) });
    await fixture.runner.outputs(request(project));
    await fixture.runner.destroy({ ...request(project), resourceId: vm.id });
    expect(plan.engine).toMatchObject({ name: 'tofu', version: '1.8.5' });
    expect(plan.warnings).toEqual([]);

    const passphrase = derivePassphrase(K1.key, GUILD, project.id);
    const calls = readFileSync(invocationLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { argv?: string[]; env?: Record<string, string> })
      .filter((call) => call.argv);
    expect(calls.map((c) => c.argv?.[0])).toEqual(['init', 'plan', 'show', 'apply', 'output', 'init', 'destroy']);
    for (const call of calls) {
      expect(call.env?.TF_ENCRYPTION).toContain(`passphrase = "${passphrase}"`);
      expect(call.env?.TF_ENCRYPTION).toContain('key_provider "pbkdf2" "chatops_6b31"');
      expect(JSON.stringify(call.argv)).not.toContain(passphrase);
    }
    // Not in the workspace, the database, run records, events or results.
    for (const file of [...filesUnder(fixture.layout.rootDir).filter((f) => f !== invocationLog), ...filesUnder(fixture.db.dir)]) {
      expect(readFileSync(file).includes(passphrase), file).toBe(false);
    }
    const shown = JSON.stringify([plan, applied, events, (await fixture.runner.recentRuns(GUILD, 10)), (await fixture.audit.recent(GUILD, {})), fixture.logEntries]);
    expect(shown).not.toContain(passphrase);
  });

  it('is the same after a restart and differs for another project and another guild', async () => {
    const first = await fixtureWith({ stateEncryptionKeys: [K1] });
    const project = await first.project(GUILD, 'Stable');
    await first.runner.plan({ ...request(project), resourceId: (await first.resource(project)).id });
    const sibling = await first.project(GUILD, 'Sibling');
    await first.runner.plan({ ...request(sibling), resourceId: (await first.resource(sibling)).id });
    const foreign = await first.project(OTHER_GUILD, 'Stable');
    await first.runner.plan({ ...request(foreign), resourceId: (await first.resource(foreign)).id });
    // A second runner over the same database and folders, as after a restart (the vault is empty by then).
    const logger = pino({ level: 'silent' });
    const again = new IacRunner({
      runs: runStoreFor(sqliteDataAccess(first.db), first.clock),
      scheduler: new RunScheduler(1),
      leases: new WorkspaceLeases(sqliteDataAccess(first.db), first.clock, 'after-restart'),
      projects: first.projects,
      resources: first.resources,
      transitions: new ResourceStatusTransitions(first.resources, logger),
      executor: new LocalEngineExecutor(),
      layout: first.layout,
      clock: first.clock,
      logger,
      runTimeoutMs: 20_000,
      pluginCacheDir: join(first.root, 'plugin-cache'),
      pathEnv: first.pathEnv,
      stateEncryptionKeys: [{ id: 'k1', key: Buffer.alloc(32, 1) }],
      audit: first.audit,
    });
    await again.plan({ ...request(project), resourceId: (await first.resource(project)).id });
    await again.shutdown();

    const seen = encryptionSeen(first, project);
    expect(seen.length).toBeGreaterThanOrEqual(6);
    expect(new Set(seen).size).toBe(1);
    const [mine] = seen;
    expect(encryptionSeen(first, sibling)[0]).not.toBe(mine);
    expect(encryptionSeen(first, foreign)[0]).not.toBe(mine);
  });

  it('rotates: the current key writes, the previous key is a fallback for reading', async () => {
    const fixture = await fixtureWith({ stateEncryptionKeys: [K2, K1] });
    const project = await fixture.project(GUILD, 'Rotated');
    await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    const config = encryptionSeen(fixture, project)[0] ?? '';
    expect(config).toContain(`passphrase = "${derivePassphrase(K2.key, GUILD, project.id)}"`);
    expect(config).toContain(`passphrase = "${derivePassphrase(K1.key, GUILD, project.id)}"`);
    expect(config).toContain('state {\n  enforced = true\n  method = method.aes_gcm.chatops_6b32\n  fallback {\n    method = method.aes_gcm.chatops_6b31\n  }\n}');
  });

  it('reads a plain local state once (to rewrite it encrypted); never for a project that has none', async () => {
    const fixture = await fixtureWith({ stateEncryptionKeys: [K1] });
    const fresh = await fixture.project(GUILD, 'Fresh');
    await fixture.runner.plan({ ...request(fresh), resourceId: (await fixture.resource(fresh)).id });
    expect(encryptionSeen(fixture, fresh)[0]).not.toContain('unencrypted');
    const migrating = await fixture.project(GUILD, 'Migrating');
    writeFileSync(join(fixture.workspace(migrating), 'terraform.tfstate'), JSON.stringify({ version: 4, serial: 1, lineage: 'x', resources: [], outputs: {} }));
    await fixture.runner.plan({ ...request(migrating), resourceId: (await fixture.resource(migrating)).id });
    expect(encryptionSeen(fixture, migrating)[0]).toContain('fallback {\n    method = method.unencrypted.chatops_migrate');
  });

  it('redacts the passphrase if the engine ever prints it', async () => {
    const fixture = await fixtureWith({ stateEncryptionKeys: [K1] });
    const project = await fixture.project(GUILD, 'Echo');
    const passphrase = derivePassphrase(K1.key, GUILD, project.id);
    fixture.control(project, { failPlan: { summary: 'Invalid encryption configuration', detail: `passphrase = "${passphrase}"` } });
    const error = (await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id }).catch((e: unknown) => e)) as RunFailed;
    expect(error).toBeInstanceOf(RunFailed);
    expect(error.detail).toBe('passphrase = "[redacted]"');
    expect(JSON.stringify(await fixture.runner.recentRuns(GUILD, 1))).not.toContain(passphrase);
  });
});

describe('runs that cannot encrypt say so to the member', () => {
  it('Terraform with local state: no TF_ENCRYPTION, and a warning that state is unencrypted on the bot host', async () => {
    const fixture = await fixtureWith({ stateEncryptionKeys: [K1] });
    const project = await fixture.project(GUILD, 'Terraform');
    const plan = await fixture.runner.plan({ ...request(project, { enginePreference: 'terraform' }), resourceId: (await fixture.resource(project)).id });
    expect(encryptionSeen(fixture, project).every((value) => value === undefined)).toBe(true);
    expect(plan.warnings.map((w) => w.summary)).toEqual(['State is stored unencrypted on the bot host.']);
  });

  it('OpenTofu older than 1.7: no TF_ENCRYPTION, and the same warning', async () => {
    const fixture = await fixtureWith({ stateEncryptionKeys: [K1], engineVersions: { tofu: '1.6.2' } });
    const project = await fixture.project(GUILD, 'Old Tofu');
    const plan = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    expect(plan.engine).toMatchObject({ name: 'tofu', version: '1.6.2' });
    expect(encryptionSeen(fixture, project).every((value) => value === undefined)).toBe(true);
    expect(plan.warnings.map((w) => w.summary)).toEqual(['State is stored unencrypted on the bot host.']);
  });

  it('no master key configured: OpenTofu runs unencrypted, with a warning naming CREDENTIALS_MASTER_KEY', async () => {
    const fixture = await fixtureWith({});
    const project = await fixture.project(GUILD, 'No Key');
    const plan = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    expect(encryptionSeen(fixture, project).every((value) => value === undefined)).toBe(true);
    expect(plan.warnings).toEqual([{ summary: 'State and plan files are not encrypted.', detail: expect.stringContaining('CREDENTIALS_MASTER_KEY') }]);
  });
});

describe('encrypted local state that this run could not read is refused before any engine runs', () => {
  const encryptedState = (keyId: string) =>
    JSON.stringify({ meta: { [`key_provider.pbkdf2.${keyProviderName(keyId)}`]: 'c2FsdA==' }, encrypted_data: 'AAAA', encryption_version: 'v0' });

  it('with Terraform, without a master key, and with a master key that is no longer configured', async () => {
    const cases: Array<{ keys: MasterKey[]; preference: 'terraform' | 'tofu'; message: RegExp }> = [
      { keys: [K1], preference: 'terraform', message: /Terraform 1\.9\.8 cannot read it.*Install OpenTofu 1\.7/ },
      { keys: [], preference: 'tofu', message: /no master key is configured now.*restore CREDENTIALS_MASTER_KEY/ },
      { keys: [K2], preference: 'tofu', message: /no longer configured.*CREDENTIALS_PREVIOUS_MASTER_KEYS/ },
    ];
    for (const { keys, preference, message } of cases) {
      const fixture = await fixtureWith({ stateEncryptionKeys: keys });
      const project = await fixture.project(GUILD, 'Locked');
      writeFileSync(join(fixture.workspace(project), 'terraform.tfstate'), encryptedState('k1'));
      const error = await fixture.runner.plan({ ...request(project, { enginePreference: preference }), resourceId: (await fixture.resource(project)).id }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateUnreadable);
      expect((error as Error).message).toMatch(message);
      expect(fixture.invocations(project)).toEqual([]);
    }
  });
});
