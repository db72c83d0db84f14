import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { startAppHarness } from './support/app-harness.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '222222222222222222';
const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };

describe('tiers: what an operator’s plan lets a server set', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup() {
    const harness = await startAppHarness({ CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64') });
    cleanups.push(() => harness.stop());
    return harness;
  }

  it('changes nothing for a server nobody assigned a tier: no ceilings, stored credentials allowed', async () => {
    const { say, core } = await setup();
    expect((await core.app.tiers.get(GUILD)).tier).toBe('standard');
    expect((await say(admin, 'cloud-guild-policy', { action: 'update', max_budget: 900_000, max_instances: 900 })).text()).toMatch(/updated/);
    const added = await say(admin, 'cloud-credentials', { subcommand: 'add', name: 'prod', provider: 'aws' }, GUILD, {
      modal: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: 'x' },
    });
    expect(added.text()).toMatch(/stored \(encrypted\)/);
  });

  it('refuses a budget or instance count over the tier’s ceiling, naming the plan it is on and the one it needs', async () => {
    const { say, core } = await setup();
    await core.app.tiers.set(GUILD, 'free', 'ops');
    const team = await say(admin, 'cloud-guild-policy', { action: 'update', max_budget: 500 });
    expect(team.text()).toMatch(/over this plan's ceiling of \$100\.00; nothing was changed\. This server is on the free plan; it needs the team plan/);
    const enterprise = await say(admin, 'cloud-guild-policy', { action: 'update', max_budget: 50, max_instances: 100 });
    expect(enterprise.text()).toMatch(/100 instances is over this plan's ceiling of 2.*it needs the enterprise plan/);
    expect((await say(admin, 'cloud-guild-policy', { action: 'update', max_budget: 80 })).text()).toMatch(/updated/);
    expect((await core.app.policies.get(GUILD)).maxBudgetMonthly).toBe(80);
    // Another server is not on this plan.
    expect((await say(admin, 'cloud-guild-policy', { action: 'update', max_budget: 500 }, OTHER_GUILD)).text()).toMatch(/updated/);
  });

  it('holds a server put on a smaller plan to its ceiling at once, whatever its policy had set', async () => {
    const { say, core } = await setup();
    await say(admin, 'cloud-guild-policy', { action: 'update', max_budget: 3000 });
    await core.app.tiers.set(GUILD, 'free', null);
    expect(await core.app.policies.get(GUILD)).toMatchObject({ maxBudgetMonthly: 100, maxInstances: 2 });
    const decision = await core.app.policies.validate(GUILD, { provider: 'gcp', resourceType: 'vm', instanceType: 'n1-standard-4', diskSizeGb: 20 });
    expect(decision.allowed).toBe(false);
    await core.app.tiers.set(GUILD, 'standard', null);
    expect((await core.app.policies.get(GUILD)).maxBudgetMonthly).toBe(3000);
  });

  it('keeps the server’s own limits when it changes another setting while its plan lowers them', async () => {
    const { say, core } = await setup();
    await say(admin, 'cloud-guild-policy', { action: 'update', max_budget: 3000, max_instances: 40 });
    await core.app.tiers.set(GUILD, 'free', null);
    expect((await say(admin, 'cloud-guild-policy', { action: 'update', max_disk: 100 })).text()).toMatch(/updated/);
    expect(await core.app.policies.get(GUILD)).toMatchObject({ maxBudgetMonthly: 100, maxInstances: 2, maxDiskSizeGb: 100 });
    // Back on a larger plan, what the server itself set is in force again: the free plan's ceilings were not saved.
    await core.app.tiers.set(GUILD, 'standard', null);
    expect(await core.app.policies.get(GUILD)).toMatchObject({ maxBudgetMonthly: 3000, maxInstances: 40, maxDiskSizeGb: 100 });
  });

  it('refuses storing a credential on a plan without stored credentials, before the form', async () => {
    const { say, core } = await setup();
    await core.app.tiers.set(GUILD, 'free', null);
    const reply = await say(admin, 'cloud-credentials', { subcommand: 'add', name: 'prod', provider: 'aws' }, GUILD, {
      modal: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: 'x' },
    });
    expect(reply.text()).toMatch(/Storing credentials is not part of this plan.*free plan; it needs the team plan/);
    expect(reply.steps.some((step) => step.kind === 'modal')).toBe(false);
    expect((await core.app.credentials.list(GUILD))).toEqual([]);
  });

  it('refuses a deployment past the plan’s runs at once, naming the plan it needs', async () => {
    const { say, core } = await setup();
    await core.app.tiers.set(GUILD, 'free', null);
    // One run of this server already holds an engine slot.
    core.app.runner.loadOf = async (guildId: string) => (guildId === GUILD ? { running: 1, queued: 0 } : { running: 0, queued: 0 });
    const reply = await say(admin, 'cloud-deploy', { project: 'web', resource_type: 'vm' });
    expect(reply.text()).toMatch(/already has 1 engine run\(s\) going.*free plan; it needs the team plan/);
    await core.app.tiers.requireRunSlot(GUILD, 0);
    await core.app.tiers.requireRunSlot(OTHER_GUILD, 40);
  });

  it('is assigned by the operator’s CLI into the database the bot reads', async () => {
    const { core, dir } = await setup();
    const env = { ...process.env, DATABASE_PATH: join(dir, 'db.sqlite') };
    const set = await execa('npx', ['tsx', 'src/tiers/tiers-cli.ts', 'set', GUILD, 'team', '--by', 'ticket-42'], { env, reject: false });
    expect(set.exitCode).toBe(0);
    expect(set.stdout).toMatch(/111111111111111111 {2}team/);
    expect(await core.app.tiers.get(GUILD)).toMatchObject({ tier: 'team', assignedBy: 'ticket-42' });
    const bad = await execa('npx', ['tsx', 'src/tiers/tiers-cli.ts', 'set', GUILD, 'gold'], { env, reject: false });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/the tier must be one of free, team, enterprise, standard/);
    expect((await core.app.tiers.get(GUILD)).tier).toBe('team');
  }, 60_000);
});
