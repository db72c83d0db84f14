import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toEngineEnv } from '../src/engine/credential-env.js';
import type { RunRequest } from '../src/engine/runner.js';
import type { Project } from '../src/projects/index.js';
import { WorkspaceUnsafe, findUnsafeEntries } from '../src/state/index.js';
import { makeRunnerFixture, type RunnerFixture } from './support/engine-env.js';
import { makeTempDir } from './support/tmp.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '333333333333333333';

function request(project: Project): RunRequest {
  return {
    guildId: project.guildId,
    projectSlug: project.slug,
    userId: '222222222222222222',
    credentialEnv: toEngineEnv('gcp', { project_id: 'guard-test-project' }),
    enginePreference: 'terraform',
  };
}

/** Every file under `dir` (not following links) with its content: to prove nothing there changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[path.slice(dir.length)] = readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return out;
}

let fixture: RunnerFixture;
let victim: Project;
let victimDir: string;

beforeEach(async () => {
  fixture = await makeRunnerFixture();
  // Another guild's project with real state, configuration and an applicable plan.
  victim = await fixture.project(OTHER_GUILD, 'Victim');
  const vm = await fixture.resource(victim);
  const first = await fixture.runner.plan({ ...request(victim), resourceId: vm.id });
  await fixture.runner.apply({ ...request(victim), planRunId: first.runId });
  await fixture.runner.plan({ ...request(victim), resourceId: (await fixture.resource(victim)).id });
  victimDir = fixture.workspace(victim);
  expect(readdirSync(join(victimDir, '.plans'))).toHaveLength(1);
});

afterEach(async () => {
  await fixture.cleanup();
});

describe('a workspace holding a link into another folder is refused before every run', () => {
  async function expectRefused(project: Project, entry: string): Promise<void> {
    const before = snapshot(victimDir);
    // Even with every plan expired, so that pruning would have deleted whatever it could reach.
    fixture.clock.advanceMinutes(3 * 24 * 60);
    const error = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkspaceUnsafe);
    expect((error as WorkspaceUnsafe).message).toContain(`\`${entry}\``);
    expect((error as WorkspaceUnsafe).message).toContain('Nothing was run or changed');
    // The other guild's path is not shown to this member.
    expect((error as WorkspaceUnsafe).message).not.toContain(OTHER_GUILD);
    expect(snapshot(victimDir)).toEqual(before);
    // No engine ran in the refused workspace, and the refusal is on record.
    expect(fixture.invocations(project)).toEqual([]);
    expect((await fixture.runner.recentRuns(GUILD, 1))[0]).toMatchObject({ kind: 'plan', status: 'failed' });
    await expect(fixture.runner.destroy(request(project))).rejects.toThrow(WorkspaceUnsafe);
    await expect(fixture.runner.outputs(request(project))).rejects.toThrow(WorkspaceUnsafe);
    expect(snapshot(victimDir)).toEqual(before);
  }

  it('a .plans link to another guild’s plans: nothing behind it is pruned', async () => {
    const project = await fixture.project(GUILD, 'Attacker');
    symlinkSync(join(victimDir, '.plans'), join(fixture.workspace(project), '.plans'));
    await expectRefused(project, '.plans');
  });

  it('a .home link to another guild’s folder', async () => {
    const project = await fixture.project(GUILD, 'Attacker');
    symlinkSync(victimDir, join(fixture.workspace(project), '.home'));
    await expectRefused(project, '.home');
  });

  it('a terraform.tfstate link to another guild’s state', async () => {
    const project = await fixture.project(GUILD, 'Attacker');
    symlinkSync(join(victimDir, 'terraform.tfstate'), join(fixture.workspace(project), 'terraform.tfstate'));
    await expectRefused(project, 'terraform.tfstate');
  });

  it('a main.tf.json link to another guild’s configuration', async () => {
    const project = await fixture.project(GUILD, 'Attacker');
    symlinkSync(join(victimDir, 'main.tf.json'), join(fixture.workspace(project), 'main.tf.json'));
    await expectRefused(project, 'main.tf.json');
  });

  it('a terraform.tfstate hard link to another guild’s state', async () => {
    const project = await fixture.project(GUILD, 'Attacker');
    linkSync(join(victimDir, 'terraform.tfstate'), join(fixture.workspace(project), 'terraform.tfstate'));
    await expectRefused(project, 'terraform.tfstate');
  });

  it('discarding a plan never deletes through a .plans link', async () => {
    const project = await fixture.project(GUILD, 'Discarder');
    const plan = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    const workspace = fixture.workspace(project);
    // Someone swaps .plans for a link to a folder holding a file of the same name.
    const elsewhere = join(fixture.root, 'elsewhere');
    mkdirSync(elsewhere);
    renameSync(join(workspace, '.plans', `run-${plan.runId}.tfplan`), join(elsewhere, `run-${plan.runId}.tfplan`));
    rmSync(join(workspace, '.plans'), { recursive: true });
    symlinkSync(elsewhere, join(workspace, '.plans'));
    expect((await fixture.runner.getRun(GUILD, plan.runId))?.applicable).toBe(false);
    expect(await fixture.runner.discardPlan(GUILD, plan.runId)).toBe(false);
    expect(existsSync(join(elsewhere, `run-${plan.runId}.tfplan`))).toBe(true);
  });

  it('runs again once the operator has removed the link', async () => {
    const project = await fixture.project(GUILD, 'Recovered');
    const link = join(fixture.workspace(project), '.home');
    symlinkSync(victimDir, link);
    await expect(fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id })).rejects.toThrow(WorkspaceUnsafe);
    rmSync(link);
    await expect(fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id })).resolves.toMatchObject({ summary: { counts: { create: 1 } } });
  });
});

describe('findUnsafeEntries', () => {
  it('accepts provider links into the plugin cache, and nothing else that links', () => {
    const { dir, cleanup } = makeTempDir();
    try {
      const workspace = join(dir, 'ws');
      const cache = join(dir, 'cache');
      const provider = join(cache, 'registry.terraform.io/hashicorp/google/5.0.0/linux_amd64');
      mkdirSync(provider, { recursive: true });
      const links = join(workspace, '.terraform/providers/registry.terraform.io/hashicorp/google/5.0.0');
      mkdirSync(links, { recursive: true });
      symlinkSync(provider, join(links, 'linux_amd64'));
      writeFileSync(join(workspace, 'main.tf.json'), '{}');
      expect(findUnsafeEntries({ workspace, pluginCacheDir: cache })).toEqual([]);

      // A "provider" link out of the cache, a link elsewhere in .terraform, a dangling link at the top.
      symlinkSync(dir, join(links, 'linux_arm64'));
      symlinkSync(join(dir, 'nowhere'), join(workspace, '.terraform', 'terraform.tfstate'));
      symlinkSync(join(dir, 'nowhere'), join(workspace, 'evil.tf.json'));
      expect(findUnsafeEntries({ workspace, pluginCacheDir: cache }).map((u) => [u.entry, u.reason])).toEqual(
        expect.arrayContaining([
          ['.terraform/providers/registry.terraform.io/hashicorp/google/5.0.0/linux_arm64', 'symlink'],
          ['.terraform/terraform.tfstate', 'symlink'],
          ['evil.tf.json', 'symlink'],
        ]),
      );
    } finally {
      cleanup();
    }
  });
});
