import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { shownInDiscord } from './support/shown.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };

describe('/cloud-deploy, through the dispatcher with the stand-in engine', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  const workspace = (slug: string) => join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, slug);

  // A fresh bot for each test: they change resources and the budget, which the others must not see.
  beforeEach(async () => {
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    const init = await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, {
      modal: { project_id: 'web-project-123' },
    });
    expect(init.text()).toMatch(/initialised/);
  });
  afterEach(() => harness?.stop());

  it('shows a failed plan in place of the progress message and keeps no planned resource', async () => {
    writeFileSync(join(workspace('web'), 'fake-engine.json'), JSON.stringify({ failPlan: { summary: 'Invalid machine type', detail: 'e2-micro is not offered in this zone.' } }));
    const reply = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'vm', instance_type: 'e2-micro', disk_size: 10 });
    writeFileSync(join(workspace('web'), 'fake-engine.json'), '{}');
    const last = reply.steps.at(-1);
    expect(last?.kind).toBe('edit');
    expect(shownInDiscord(last)).toMatch(/Plan for web failed/);
    expect(shownInDiscord(last)).toMatch(/Invalid machine type/);
    const resources = await harness.core.app.resources.listByGuild(HARNESS_GUILD);
    expect(resources.map((r) => r.status)).toEqual(['destroyed']);
    expect((await harness.core.app.audit.recent(HARNESS_GUILD, { action: 'deploy.plan' }))[0]?.outcome).toBe('failed');
  });

  it('discards the plan when the requester cancels, and nothing is applied', async () => {
    const reply = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'bucket', disk_size: 5 }, HARNESS_GUILD, {
      buttons: [{ buttonId: 'cancel', by: alice }],
    });
    expect(reply.text()).toMatch(/Plan for web/);
    expect((await harness.core.app.resources.listByGuild(HARNESS_GUILD)).filter((r) => r.status === 'active')).toEqual([]);
  });

  it('does not let another member apply the requester’s plan', async () => {
    const reply = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'bucket', disk_size: 5 }, HARNESS_GUILD, {
      buttons: [{ buttonId: 'apply', by: bob }],
    });
    expect(reply.text()).not.toMatch(/Deployed/);
    expect((await harness.core.app.resources.listByGuild(HARNESS_GUILD)).filter((r) => r.status === 'active')).toEqual([]);
  });

  it('applies when the requester confirms, then counts the resource against the budget', async () => {
    const reply = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'vm', instance_type: 'e2-micro', disk_size: 10 }, HARNESS_GUILD, {
      buttons: [{ buttonId: 'apply', by: alice }],
    });
    expect(reply.text()).toMatch(/Deployed vm/);
    const active = (await harness.core.app.resources.listByGuild(HARNESS_GUILD)).filter((r) => r.status === 'active');
    expect(active).toHaveLength(1);
    const outputs = await harness.say(bob, 'cloud-outputs', { project: 'web' });
    expect(outputs.text()).toMatch(/deployer|viewer/);
    const otherGuild = await harness.say(alice, 'cloud-outputs', { project: 'web' }, '222222222222222222');
    expect(otherGuild.text()).toMatch(/no project|not find|No project/i);
    const seen = await harness.say(alice, 'cloud-outputs', { project: 'web' });
    expect(seen.text()).toMatch(/Outputs of web/);
    expect(seen.text()).toMatch(/vm_\d+_ip/);
    await harness.say(alice, 'cloud-guild-policy', { action: 'update', max_budget: active[0]!.estimatedMonthlyCost + 1 });
    const over = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'vm', instance_type: 'e2-micro', disk_size: 10 });
    expect(over.text()).toMatch(/over its budget limit/);
  });
});

describe('/cloud-init again on an existing project', () => {
  it('renews its vault session after expiry and wipes the one it replaces', async () => {
    const harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN, VAULT_TTL_MINUTES: '30' });
    try {
      const first = { project_id: 'renew-project-111' };
      await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'renew', region: 'us-central1' }, HARNESS_GUILD, { modal: first });
      const before = (await harness.core.app.projects.get(HARNESS_GUILD, 'renew')).vaultSessionId;
      harness.clock.advanceMinutes(31);
      const expired = await harness.say(alice, 'cloud-deploy', { project: 'renew', resource_type: 'bucket', disk_size: 1 });
      expect(expired.text()).toMatch(/No gcp credential is available/);
      await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'renew', region: 'us-central1' }, HARNESS_GUILD, {
        modal: { project_id: 'renew-project-222' },
      });
      const after = (await harness.core.app.projects.get(HARNESS_GUILD, 'renew')).vaultSessionId;
      expect(after).not.toBe(before);
      expect(harness.core.app.vault.list(HARNESS_GUILD).map((s) => s.sessionId)).toEqual([after]);
      const deploy = await harness.say(alice, 'cloud-deploy', { project: 'renew', resource_type: 'bucket', disk_size: 1 }, HARNESS_GUILD, {
        buttons: [{ buttonId: 'apply', by: alice }],
      });
      expect(deploy.text()).toMatch(/Deployed bucket/);

      // Renewing while the session still lives replaces it: one project, one live session.
      await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'renew', region: 'us-central1' }, HARNESS_GUILD, {
        modal: { project_id: 'renew-project-333' },
      });
      const latest = (await harness.core.app.projects.get(HARNESS_GUILD, 'renew')).vaultSessionId;
      expect(harness.core.app.vault.list(HARNESS_GUILD).map((s) => s.sessionId)).toEqual([latest]);
    } finally {
      await harness.stop();
    }
  });

  it('refuses the same name for another provider', async () => {
    const harness = await startAppHarness();
    try {
      await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'shared', region: 'us-central1' }, HARNESS_GUILD, {
        modal: { project_id: 'shared-project-1' },
      });
      const reply = await harness.say(alice, 'cloud-init', { provider: 'aws', project_name: 'shared', region: 'us-east-1' });
      expect(reply.text()).toMatch(/already exists here for gcp/);
      expect(reply.steps.map((s) => s.kind)).not.toContain('modal');
    } finally {
      await harness.stop();
    }
  });
});

describe('two deployments racing for the last of the budget', () => {
  it('lets exactly one through: the second is checked against the first one’s reserved share', async () => {
    const harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    try {
      for (const name of ['left', 'right']) {
        await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: name, region: 'us-central1' }, HARNESS_GUILD, {
          modal: { project_id: `${name}-project-123` },
        });
        writeFileSync(join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, name, 'fake-engine.json'), JSON.stringify({ sleepMs: 150 }));
      }
      const oneVm = harness.core.app.pricing.estimate({ provider: 'gcp', resourceType: 'vm', instanceType: 'e2-micro', diskSizeGb: 10 }).monthlyUsd;
      await harness.say(alice, 'cloud-guild-policy', { action: 'update', max_budget: Math.ceil(oneVm * 1.5) });
      const deploy = (project: string) =>
        harness.say(alice, 'cloud-deploy', { project, resource_type: 'vm', instance_type: 'e2-micro', disk_size: 10 }, HARNESS_GUILD, {
          buttons: [{ buttonId: 'apply', by: alice }],
        });
      const replies = await Promise.all([deploy('left'), deploy('right')]);
      const outcomes = replies.map((r) => (/Deployed vm/.test(r.text()) ? 'deployed' : /over its budget limit/.test(r.text()) ? 'refused' : 'other')).sort();
      expect(outcomes).toEqual(['deployed', 'refused']);
      expect((await harness.core.app.resources.listByGuild(HARNESS_GUILD)).filter((r) => r.status === 'active')).toHaveLength(1);
      expect(await harness.core.app.reservations.reservedFor(HARNESS_GUILD)).toEqual({ monthlyUsd: 0, vms: 0 });
    } finally {
      await harness.stop();
    }
  });
});

describe('/cloud-destroy forget:true', () => {
  it('destroys everything, then frees the name, folder and vault session; the name can be used again', async () => {
    const harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    const folder = join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'scratch');
    try {
      await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'scratch', region: 'us-central1' }, HARNESS_GUILD, {
        modal: { project_id: 'scratch-project-1' },
      });
      await harness.say(alice, 'cloud-deploy', { project: 'scratch', resource_type: 'bucket', disk_size: 1 }, HARNESS_GUILD, {
        buttons: [{ buttonId: 'apply', by: alice }],
      });
      expect(existsSync(folder)).toBe(true);

      // A member without admin on the provider cannot destroy or forget it, and another guild cannot see it at all.
      const denied = await harness.say(bob, 'cloud-destroy', { project: 'scratch', forget: true });
      expect(denied.text()).toMatch(/admin/);
      const elsewhere = await harness.say(alice, 'cloud-destroy', { project: 'scratch', forget: true }, '222222222222222222');
      expect(elsewhere.text()).toMatch(/no project|not find|No project/i);
      expect(await harness.core.app.projects.list(HARNESS_GUILD)).toHaveLength(1);

      const partial = await harness.say(alice, 'cloud-destroy', { project: 'scratch', resource: 1, forget: true });
      expect(partial.text()).toMatch(/forget.*whole project/);

      const reply = await harness.say(alice, 'cloud-destroy', { project: 'scratch', forget: true }, HARNESS_GUILD, {
        buttons: [{ buttonId: 'destroy', by: alice }],
      });
      expect(reply.text()).toMatch(/Destroyed in scratch/);
      expect(reply.text()).toMatch(/forgotten/);
      expect(await harness.core.app.projects.list(HARNESS_GUILD)).toEqual([]);
      expect(harness.core.app.vault.list(HARNESS_GUILD)).toEqual([]);
      expect(existsSync(folder)).toBe(false);

      const again = await harness.say(alice, 'cloud-init', { provider: 'aws', project_name: 'scratch', region: 'us-east-1' }, HARNESS_GUILD, {
        modal: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: 'not-a-real-secret-value' },
      });
      expect(again.text()).toMatch(/initialised/);
      expect((await harness.core.app.audit.recent(HARNESS_GUILD, { action: 'project.forget' }))).toHaveLength(1);
    } finally {
      await harness.stop();
    }
  });
});
