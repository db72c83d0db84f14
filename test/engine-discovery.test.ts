import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverEngines, EngineProbeCache, selectEngine } from '../src/engine/discovery.js';
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

describe('remembering what each engine binary said', () => {
  const temps: Array<() => void> = [];
  afterEach(() => temps.splice(0).forEach((cleanup) => cleanup()));

  /** A folder with a `terraform` that reports `version` and counts every time it is run. */
  function engineFolder() {
    const t = makeTempDir();
    temps.push(t.cleanup);
    const bin = join(t.dir, 'bin');
    mkdirSync(bin);
    const probes = join(t.dir, 'probes.log');
    const install = (version: string, dir = bin) => {
      const script = `#!/bin/sh\necho run >> '${probes}'\nFAKE_TERRAFORM_VERSION='${version}' exec '${join(FAKE_ENGINE_BIN, 'terraform')}' "$@"\n`;
      // As package managers do: write the new binary beside the old one, then rename it over.
      const staged = join(dir, '.terraform.new');
      writeFileSync(staged, script, { mode: 0o755 });
      renameSync(staged, join(dir, 'terraform'));
    };
    const probed = () => (existsSync(probes) ? readFileSync(probes, 'utf8').split('\n').filter(Boolean).length : 0);
    const pathEnv = [bin, enginePath(t.dir, 'none')].join(delimiter);
    return { dir: t.dir, bin, install, probed, pathEnv };
  }

  it('does not run an unchanged binary again', async () => {
    const { install, probed, pathEnv } = engineFolder();
    install('1.9.8');
    const cache = new EngineProbeCache();
    expect((await cache.discover({ pathEnv })).map((e) => e.version)).toEqual(['1.9.8']);
    expect((await cache.discover({ pathEnv })).map((e) => e.version)).toEqual(['1.9.8']);
    expect(probed()).toBe(1);
  });

  it('asks a replaced binary again, and one rewritten in place with the same size', async () => {
    const { bin, install, probed, pathEnv } = engineFolder();
    install('1.9.8');
    const cache = new EngineProbeCache();
    await cache.discover({ pathEnv });
    install('1.9.9');
    expect((await cache.discover({ pathEnv })).map((e) => e.version)).toEqual(['1.9.9']);
    expect(probed()).toBe(2);

    const path = join(bin, 'terraform');
    const before = statSync(path);
    writeFileSync(path, readFileSync(path, 'utf8').replace('1.9.9', '1.9.7'));
    chmodSync(path, 0o755);
    utimesSync(path, before.atime, new Date(before.mtimeMs + 5_000));
    expect(statSync(path).size).toBe(before.size);
    expect((await cache.discover({ pathEnv })).map((e) => e.version)).toEqual(['1.9.7']);
    expect(probed()).toBe(3);
  });

  it('follows a binary that disappears, or one that appears earlier on the PATH', async () => {
    const { dir, bin, install, probed, pathEnv } = engineFolder();
    install('1.9.8');
    const cache = new EngineProbeCache();
    await cache.discover({ pathEnv });
    const earlier = join(dir, 'earlier');
    mkdirSync(earlier);
    install('1.10.0', earlier);
    expect((await cache.discover({ pathEnv: [earlier, pathEnv].join(delimiter) })).map((e) => e.path)).toEqual([join(earlier, 'terraform')]);
    rmSync(join(bin, 'terraform'));
    expect(await cache.discover({ pathEnv })).toEqual([]);
    expect(probed()).toBe(2);
  });

  it('tries a binary that failed its probe again on the next run', async () => {
    const { bin, probed, pathEnv } = engineFolder();
    const path = join(bin, 'terraform');
    writeFileSync(path, `#!/bin/sh\necho run >> '${join(bin, '..', 'probes.log')}'\nexit 3\n`, { mode: 0o755 });
    const cache = new EngineProbeCache();
    expect(await cache.discover({ pathEnv })).toEqual([]);
    expect(await cache.discover({ pathEnv })).toEqual([]);
    expect(probed()).toBe(2);
  });

  it('asks every binary again when told to forget', async () => {
    const { install, probed, pathEnv } = engineFolder();
    install('1.9.8');
    const cache = new EngineProbeCache();
    await cache.discover({ pathEnv });
    cache.clear();
    await cache.discover({ pathEnv });
    expect(probed()).toBe(2);
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
    const project = await fixture.project(GUILD, 'Fallback');
    const resource = await fixture.resource(project);
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
    expect(await fixture.runner.getRun(GUILD, plan.runId)).toMatchObject({ engine: 'terraform', engineVersion: '1.9.8', status: 'succeeded' });
  });

  it('fails clearly, records the run as failed and leaves the resource planned when no engine is installed', async () => {
    fixture = await makeRunnerFixture({ engines: 'none' });
    const project = await fixture.project(GUILD, 'Nothing');
    const resource = await fixture.resource(project);
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
    expect((await fixture.resources.get(GUILD, resource.id)).status).toBe('planned');
  });
});
