import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { startAppHarness } from './support/app-harness.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '222222222222222222';
const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };

describe('/cloud-guild-policy: who may view and who may change', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup() {
    const harness = await startAppHarness();
    cleanups.push(() => harness.stop());
    const grant = (provider: 'all' | 'aws', guildId = GUILD, minutes = 60) =>
      harness.core.app.jit.grant({ guildId, granteeId: bob.id, granteeIsBot: false, grantedBy: admin.id, provider, level: 'admin', durationMinutes: minutes });
    return { ...harness, grant };
  }

  it('lets every member view the policy: the definition is not hidden behind Manage Server', async () => {
    const { say, dispatcher } = await setup();
    const reply = await say(bob, 'cloud-guild-policy', { action: 'view' });
    expect(reply.text()).toMatch(/Guild policies[\s\S]*Monthly budget/);
    expect(dispatcher.get('cloud-guild-policy')?.definition.default_member_permissions ?? null).toBeNull();
  });

  it('refuses an update by a member without admin access, naming what it needs, and audits it', async () => {
    const { say, core } = await setup();
    const reply = await say(bob, 'cloud-guild-policy', { action: 'update', max_budget: 5 });
    expect(reply.text()).toMatch(/needs the Manage Server permission, or Admin JIT access on all providers/);
    expect((await core.app.policies.get(GUILD)).maxBudgetMonthly).toBe(1000);
    expect((await core.app.audit.recent(GUILD)).map((e) => [e.action, e.outcome])).toContainEqual(['policy.update', 'denied']);
  });

  it('refuses a JIT admin on one provider only: the policy binds every provider', async () => {
    const { say, core, grant } = await setup();
    await grant('aws');
    expect((await say(bob, 'cloud-guild-policy', { action: 'update', max_budget: 5 })).text()).toMatch(/on all providers/);
    expect((await core.app.policies.get(GUILD)).maxBudgetMonthly).toBe(1000);
  });

  it('lets a JIT admin on all providers change the guardrails, but not approvals, JIT length or the notice channel', async () => {
    const { say, core, grant } = await setup();
    await grant('all');
    const ok = await say(bob, 'cloud-guild-policy', { action: 'update', max_budget: 5, engine: 'tofu' });
    expect(ok.text()).toMatch(/Guild policies updated/);
    expect((await core.app.policies.get(GUILD))).toMatchObject({ maxBudgetMonthly: 5, enginePreference: 'tofu' });

    const mixed = await say(bob, 'cloud-guild-policy', { action: 'update', max_budget: 50, require_approval: false, max_jit_minutes: 10_000 });
    expect(mixed.text()).toMatch(/`require_approval`, `max_jit_minutes` can be changed only by a member with the Manage Server permission/);
    expect((await core.app.policies.get(GUILD))).toMatchObject({ maxBudgetMonthly: 5, maxJitMinutes: 480 });

    const byAdmin = await say(admin, 'cloud-guild-policy', { action: 'update', require_approval: true });
    expect(byAdmin.text()).toMatch(/Guild policies updated/);
    expect((await core.app.policies.get(GUILD)).requireApproval).toBe(true);
  });

  it('checks the grant at the moment of the update: an expired JIT admin is refused', async () => {
    const { say, core, grant, clock } = await setup();
    await grant('all', GUILD, 1);
    clock.advance(61_000);
    expect((await say(bob, 'cloud-guild-policy', { action: 'update', max_budget: 5 })).text()).toMatch(/needs the Manage Server permission/);
    expect((await core.app.policies.get(GUILD)).maxBudgetMonthly).toBe(1000);
  });

  it('a JIT admin of one server cannot change another server’s policy', async () => {
    const { say, core, grant } = await setup();
    await grant('all', GUILD);
    expect((await say(bob, 'cloud-guild-policy', { action: 'update', max_budget: 5 }, OTHER_GUILD)).text()).toMatch(/needs the Manage Server/);
    expect((await core.app.policies.get(OTHER_GUILD)).maxBudgetMonthly).toBe(1000);
  });
});
