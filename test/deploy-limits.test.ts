/**
 * Budget and instance limits count everything that may exist in the cloud: a failed or cancelled apply may have
 * created part of its resource, so repeating one must not get around the limits.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';

const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const deployer: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };
const vm = { project: 'web', resource_type: 'vm', instance_type: 'e2-micro', disk_size: 10 };

describe('limits count resources left by failed and cancelled applies', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  const control = (knobs: Record<string, unknown>) =>
    writeFileSync(join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'web', 'fake-engine.json'), JSON.stringify(knobs));

  beforeEach(async () => {
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    await harness.say(admin, 'cloud-jit-grant', { user: { id: deployer.id, displayName: 'bob', isBot: false }, provider: 'gcp', level: 'deployer', duration: 60 });
    const init = await harness.say(deployer, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, {
      modal: { project_id: 'web-project-123' },
    });
    expect(init.text()).toMatch(/initialised/);
    await harness.say(admin, 'cloud-guild-policy', { action: 'update', max_instances: 1 });
  });
  afterEach(() => harness?.stop());

  it('a deployer who cancels their own apply mid-way cannot start another VM past max_instances', async () => {
    // Long enough that the cancel lands mid-apply on a loaded machine; the stand-in's sleep ends at the SIGINT.
    control({ sleepMs: 5_000 });
    const deploy = harness.say(deployer, 'cloud-deploy', vm, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: deployer }] });
    const running = await vi.waitFor(
      async () => {
        const run = (await harness.core.app.runner.recentRuns(HARNESS_GUILD)).find((r) => r.kind === 'apply' && r.status === 'running');
        if (!run) throw new Error('no running apply yet');
        return run;
      },
      { timeout: 20_000, interval: 25 },
    );
    const cancel = await harness.say(deployer, 'cloud-runs', { subcommand: 'cancel', run: running.number });
    expect(cancel.text()).toMatch(/Cancelling run/);
    expect((await deploy).text()).toMatch(/cancelled/);
    const [left] = await harness.core.app.resources.listByGuild(HARNESS_GUILD);
    expect(left?.status).toBe('failed');

    control({});
    const again = await harness.say(deployer, 'cloud-deploy', vm, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: deployer }] });
    expect(again.text()).toMatch(/already runs 1 of its 1 allowed instances/);
    expect(again.text()).toMatch(/may still exist in the cloud/);
    expect(again.text()).not.toMatch(/Deployed vm/);
    expect((await harness.core.app.runner.recentRuns(HARNESS_GUILD)).filter((r) => r.kind === 'plan')).toHaveLength(1);
  });

  it('a failed apply counts against the budget and instances until it is destroyed, then frees them', async () => {
    control({ failApply: { summary: 'Quota exceeded', detail: 'CPUS quota exceeded in region.' } });
    const failed = await harness.say(deployer, 'cloud-deploy', vm, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: deployer }] });
    expect(failed.text()).toMatch(/Quota exceeded/);
    const [left] = await harness.core.app.resources.listByGuild(HARNESS_GUILD);
    expect(left?.status).toBe('failed');

    control({});
    await harness.say(admin, 'cloud-guild-policy', { action: 'update', max_instances: 5, max_budget: left!.estimatedMonthlyCost + 1 });
    const overBudget = await harness.say(deployer, 'cloud-deploy', vm, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: deployer }] });
    expect(overBudget.text()).toMatch(/over its budget limit/);

    // Destroying what the failed apply left gives the budget back.
    const destroy = await harness.say(admin, 'cloud-destroy', { project: 'web' }, HARNESS_GUILD, { buttons: [{ buttonId: 'destroy', by: admin }] });
    expect(destroy.text()).toMatch(/Destroyed in web/);
    const after = await harness.say(deployer, 'cloud-deploy', vm, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: deployer }] });
    expect(after.text()).toMatch(/Deployed vm/);
  });
});
