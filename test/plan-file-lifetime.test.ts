import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toEngineEnv } from '../src/engine/credential-env.js';
import { RunCancelled, RunFailed } from '../src/engine/errors.js';
import type { RunRequest } from '../src/engine/runner.js';
import type { Project } from '../src/projects/index.js';
import { makeRunnerFixture, type RunnerFixture } from './support/engine-env.js';

const GUILD = '111111111111111111';

function request(project: Project, extra: Partial<RunRequest> = {}): RunRequest {
  return {
    guildId: project.guildId,
    projectSlug: project.slug,
    userId: '222222222222222222',
    credentialEnv: toEngineEnv('gcp', { project_id: 'plan-files-project' }),
    enginePreference: 'terraform',
    ...extra,
  };
}

let fixture: RunnerFixture;
beforeEach(async () => {
  fixture = await makeRunnerFixture({ maxConcurrentRuns: 1 });
});
afterEach(async () => {
  await fixture.cleanup();
});

const plans = (project: Project): string[] => {
  const dir = join(fixture.workspace(project), '.plans');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
};

describe('plan files (they hold variable values) live only while they can be applied', () => {
  it('are gone after a successful apply and after a failed one', async () => {
    const project = await fixture.project(GUILD, 'Applied');
    const ok = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    expect(plans(project)).toEqual([`run-${ok.runId}.tfplan`]);
    await fixture.runner.apply({ ...request(project), planRunId: ok.runId });
    expect(plans(project)).toEqual([]);

    const failing = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    fixture.control(project, { failApply: { summary: 'quota exceeded' } });
    await expect(fixture.runner.apply({ ...request(project), planRunId: failing.runId })).rejects.toThrow(RunFailed);
    expect(plans(project)).toEqual([]);
  });

  it('is removed when the plan run fails after the engine wrote it', async () => {
    const project = await fixture.project(GUILD, 'Show Fails');
    fixture.control(project, { failShow: true });
    const error = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailed);
    expect(fixture.invocations(project).map((i) => i.argv?.[0])).toContain('show');
    expect(plans(project)).toEqual([]);
  });

  it('is removed when its apply is cancelled while still waiting in the queue', async () => {
    const project = await fixture.project(GUILD, 'Queued Apply');
    const plan = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    // The only engine slot is taken by another guild's slow run.
    const busy = await fixture.project('333333333333333333', 'Holder');
    fixture.control(busy, { sleepMs: 300 });
    const holder = fixture.runner.plan({ ...request(busy), resourceId: (await fixture.resource(busy)).id });
    const controller = new AbortController();
    const applying = fixture.runner.apply({ ...request(project), planRunId: plan.runId, signal: controller.signal });
    controller.abort();
    await expect(applying).rejects.toThrow(RunCancelled);
    expect(plans(project)).toEqual([]);
    expect((await fixture.runner.getRun(GUILD, plan.runId))?.applicable).toBe(false);
    await holder;
  });

  it('is removed by the Cancel button (discardPlan), once', async () => {
    const project = await fixture.project(GUILD, 'Discarded');
    const plan = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    expect(await fixture.runner.discardPlan(GUILD, plan.runId)).toBe(true);
    expect(plans(project)).toEqual([]);
    expect(await fixture.runner.discardPlan(GUILD, plan.runId)).toBe(false);
  });

  it('at start-up, removes .applying leftovers of a crash and expired plans, keeps plans still applicable, follows no link', async () => {
    const project = await fixture.project(GUILD, 'After Crash');
    const old = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    fixture.clock.advanceMinutes(24 * 60 + 1);
    const fresh = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    // A crash mid-apply leaves the consumed file behind; the next plan pruned the old one, so put one back.
    const dir = join(fixture.workspace(project), '.plans');
    writeFileSync(join(dir, 'run-999.tfplan.applying'), 'consumed');
    writeFileSync(join(dir, `run-${old.runId}.tfplan`), 'expired');
    // A second project whose .plans is a link elsewhere: the sweep must not reach through it.
    const linked = await fixture.project(GUILD, 'Linked');
    const elsewhere = join(fixture.root, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'run-1.tfplan.applying'), 'not ours');
    symlinkSync(elsewhere, join(fixture.workspace(linked), '.plans'));

    await fixture.runner.sweepStalePlanFiles();
    expect(plans(project)).toEqual([`run-${fresh.runId}.tfplan`]);
    expect(readdirSync(elsewhere)).toEqual(['run-1.tfplan.applying']);
  });
});
