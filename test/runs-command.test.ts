import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';

const OTHER_GUILD = '222222222222222222';
const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: false };
const bob: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };
const admin: Actor = { id: '300000000000000003', displayName: 'carol', isBot: false, isGuildAdmin: true };

describe('/cloud-runs', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;

  // A fresh bot for each test, so that no test depends on the runs another one left.
  beforeEach(async () => {
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    await harness.say(admin, 'cloud-jit-grant', { user: { id: alice.id, displayName: 'alice', isBot: false }, provider: 'gcp', level: 'deployer', duration: 60 });
    await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'slow', region: 'us-central1' }, HARNESS_GUILD, {
      modal: { project_id: 'slow-project-123' },
    });
    writeFileSync(join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'slow', 'fake-engine.json'), JSON.stringify({ sleepMs: 400 }));
  });
  afterEach(() => harness?.stop());

  // Retried: in the sandbox a cancel's SIGINT that lands in the 1–3 ms between the keeper's start and the engine's
  // exec (src/engine/sandbox-launch.ts) is lost, and the engine then finishes (seen once in a CI run, 2026-12-02).
  // A known race, written down in the README ("Sandbox"); a cancel that never works still fails every try.
  it('lets the member who started an apply cancel it, after refusing someone without admin on the provider', async () => {
    const deploy = harness.say(alice, 'cloud-deploy', { project: 'slow', resource_type: 'vm', instance_type: 'e2-micro', disk_size: 10 }, HARNESS_GUILD, {
      buttons: [{ buttonId: 'apply', by: alice }],
    });
    const running = await vi.waitFor(
      async () => {
        const run = (await harness.core.app.runner.recentRuns(HARNESS_GUILD)).find((r) => r.kind === 'apply' && r.status === 'running');
        if (!run) throw new Error('no running apply yet');
        return run;
      },
      { timeout: 20_000, interval: 50 },
    );

    const list = await harness.say(bob, 'cloud-runs', { subcommand: 'list' });
    expect(list.text()).toContain(`#${running.number}`);
    expect(list.text()).toMatch(/In this server now: 1 running, 0 queued/);
    // Another server sees neither the run nor that the engines are busy.
    const otherList = (await harness.say(bob, 'cloud-runs', { subcommand: 'list' }, OTHER_GUILD)).text();
    expect(otherList).not.toContain(`#${running.number}`);
    expect(otherList).toMatch(/In this server now: 0 running, 0 queued/);
    expect(otherList).not.toMatch(/all servers/);

    const refused = await harness.say(bob, 'cloud-runs', { subcommand: 'cancel', run: running.number });
    expect(refused.text()).toMatch(/admin/);
    const fromOtherGuild = await harness.say(admin, 'cloud-runs', { subcommand: 'cancel', run: running.number }, OTHER_GUILD);
    expect(fromOtherGuild.text()).toMatch(/no run #/);

    const cancel = await harness.say(alice, 'cloud-runs', { subcommand: 'cancel', run: running.number });
    expect(cancel.text()).toMatch(/Cancelling run/);
    const result = await deploy;
    expect(result.text()).toMatch(/cancelled/);
    expect((await harness.core.app.runner.getRun(HARNESS_GUILD, running.number))?.status).toBe('cancelled');
  });

  it('says there is nothing to cancel for a finished run', async () => {
    // A run of its own that has ended: a plan whose Apply the member declines.
    await harness.say(alice, 'cloud-deploy', { project: 'slow', resource_type: 'bucket', disk_size: 5 }, HARNESS_GUILD, {
      buttons: [{ buttonId: 'cancel', by: alice }],
    });
    const [finished] = await harness.core.app.runner.recentRuns(HARNESS_GUILD);
    expect(finished).toMatchObject({ kind: 'plan', status: 'succeeded' });
    const reply = await harness.say(alice, 'cloud-runs', { subcommand: 'cancel', run: finished!.number });
    expect(reply.text()).toMatch(/nothing to cancel/);
    expect(reply.text()).toMatch(/\(it has already succeeded\)|\(it has already failed\)|\(it was already cancelled\)/);
    expect(reply.text()).not.toMatch(/it is (succeeded|failed|cancelled)/);
  });
});
