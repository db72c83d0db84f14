import { afterEach, describe, expect, it } from 'vitest';
import { discoverEngines, selectEngine } from '../src/engine/discovery.js';
import { NoEngineInstalled } from '../src/engine/errors.js';
import { toEngineEnv } from '../src/engine/credential-env.js';
import { FAKE_ENGINE_BIN, enginePath, makeRunnerFixture, type RunnerFixture } from './support/engine-env.js';
import { makeTempDir } from './support/tmp.js';

const GUILD = '111111111111111111';
const USER = '222222222222222222';

describe('finding the engines', () => {
  const temps: Array<() => void> = [];
  afterEach(() => temps.splice(0).forEach((cleanup) => cleanup()));
  const root = () => {
    const t = makeTempDir();
    temps.push(t.cleanup);
    return t.dir;
  };

  it('finds both engines on PATH and reads their versions with version -json', async () => {
    const engines = await discoverEngines({ pathEnv: enginePath(root(), 'both') });
    expect(engines.map((e) => [e.name, e.version])).toEqual([
      ['terraform', '1.9.8'],
      ['tofu', '1.8.5'],
    ]);
    expect(engines[0]?.platform).toBe('linux_amd64');
  });

  it('finds only what is installed, and nothing on an empty PATH', async () => {
    const dir = root();
    expect((await discoverEngines({ pathEnv: enginePath(dir, 'tofu') })).map((e) => e.name)).toEqual(['tofu']);
    expect(await discoverEngines({ pathEnv: enginePath(dir, 'none') })).toEqual([]);
  });

  it('looks in the configured bin folder too', async () => {
    const engines = await discoverEngines({ binDir: FAKE_ENGINE_BIN, pathEnv: enginePath(root(), 'none') });
    expect(engines.map((e) => e.name)).toEqual(['terraform', 'tofu']);
  });

  it('uses the preferred engine when present and falls back, with a notice, when not', () => {
    const terraform = { name: 'terraform' as const, path: '/x/terraform', version: '1.9.8', platform: 'linux_amd64' };
    const tofu = { name: 'tofu' as const, path: '/x/tofu', version: '1.8.5', platform: 'linux_amd64' };
    expect(selectEngine('tofu', [terraform, tofu])).toEqual({ engine: tofu, fellBack: false });
    const fallback = selectEngine('tofu', [terraform]);
    expect(fallback.engine).toBe(terraform);
    expect(fallback.fellBack).toBe(true);
    expect(fallback.notice).toMatch(/OpenTofu is this server's preferred engine but it is not installed.*Terraform 1\.9\.8 was used instead/);
  });

  it('names both engines and how to install them when neither is there', () => {
    expect(() => selectEngine('terraform', [])).toThrow(NoEngineInstalled);
    try {
      selectEngine('terraform', []);
    } catch (error) {
      expect((error as Error).message).toMatch(/Terraform/);
      expect((error as Error).message).toMatch(/OpenTofu/);
      expect((error as Error).message).toMatch(/IAC_BIN_DIR/);
    }
  });
});

describe('a run when the preferred engine is missing', () => {
  let fixture: RunnerFixture | undefined;
  afterEach(async () => {
    await fixture?.cleanup();
    fixture = undefined;
  });

  it('falls back to the other engine, tells the user and logs a warning', async () => {
    fixture = await makeRunnerFixture({ engines: 'terraform' });
    const project = fixture.project(GUILD, 'Fallback');
    const resource = fixture.resource(project);
    const plan = await fixture.runner.plan({
      guildId: GUILD,
      projectSlug: project.slug,
      userId: USER,
      credentialEnv: toEngineEnv('gcp', { project_id: 'p-123456' }),
      enginePreference: 'tofu',
      resourceId: resource.id,
    });
    expect(plan.engine.name).toBe('terraform');
    expect(plan.engine.fallbackNotice).toMatch(/OpenTofu.*not installed.*Terraform/);
    expect(fixture.logEntries.some((e) => e.level === 40 && e.preferred === 'tofu' && e.used === 'terraform')).toBe(true);
    expect(fixture.runner.getRun(GUILD, plan.runId)).toMatchObject({ engine: 'terraform', engineVersion: '1.9.8', status: 'succeeded' });
  });

  it('fails clearly, records the run as failed and leaves the resource planned when no engine is installed', async () => {
    fixture = await makeRunnerFixture({ engines: 'none' });
    const project = fixture.project(GUILD, 'Nothing');
    const resource = fixture.resource(project);
    await expect(
      fixture.runner.plan({
        guildId: GUILD,
        projectSlug: project.slug,
        userId: USER,
        credentialEnv: {},
        enginePreference: 'terraform',
        resourceId: resource.id,
      }),
    ).rejects.toThrow(NoEngineInstalled);
    expect(fixture.resources.get(GUILD, resource.id).status).toBe('planned');
  });
});
