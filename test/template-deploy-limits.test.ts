/**
 * `max_instances` counts the compute instances of template deployments like the built-in VMs: what a template's plan
 * made is recorded on its row and counted by every later check (on the options and on the plan), in its own guild
 * only, and two deployments planned side by side cannot both take the last slots. Real core, stand-in engine, an
 * operator catalogue (TEMPLATES_DIR) holding a module with two VMs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeployService, type PlannedDeployment } from '../src/deploy/deploy-service.js';
import type { ShowProgress } from '../src/deploy/steps.js';
import { TemplateDeployments } from '../src/deploy/template-deployment.js';
import type { Actor } from '../src/interaction/conversation.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { makeTempDir } from './support/tmp.js';

const OTHER_GUILD = '222222222222222222';
const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const quietly: ShowProgress = (run) => run({ onEvent: () => {}, onQueued: () => {} });
/** A fresh one each time: a conversation consumes its presses. */
const apply = () => ({ buttons: [{ buttonId: 'apply', by: alice }] });
const vm = { project: 'web', resource_type: 'vm', instance_type: 'e2-micro', disk_size: 10 };

/** Two e2-micro VMs (the plan says 2 compute instances) and a network that serves them. */
const PAIR = {
  variable: { prefix: { type: 'string' }, project_id: { type: 'string' } },
  resource: {
    google_compute_network: { net: { name: '${var.prefix}-net' } },
    google_compute_instance: {
      a: { name: '${var.prefix}-a', machine_type: 'e2-micro', zone: 'us-central1-a', boot_disk: [{ initialize_params: [{ size: 10 }] }] },
      b: { name: '${var.prefix}-b', machine_type: 'e2-micro', zone: 'us-central1-a', boot_disk: [{ initialize_params: [{ size: 10 }] }] },
    },
  },
};

describe('compute instances of template deployments, against max_instances', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  let catalogue: ReturnType<typeof makeTempDir>;
  const app = () => harness.core.app;
  const pair = (prefix: string, guildId = HARNESS_GUILD) =>
    harness.say(alice, 'cloud-deploy', { project: 'web', template: 'pair' }, guildId, { modal: { prefix }, ...apply() });
  const setUp = async (guildId: string) => {
    const init = await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, guildId, { modal: { project_id: 'web-project-123' } });
    expect(init.text()).toMatch(/initialised/);
    expect((await harness.say(alice, 'cloud-template', { subcommand: 'enable', name: 'pair' }, guildId)).text()).toMatch(/enabled/i);
    await harness.say(alice, 'cloud-guild-policy', { action: 'update', max_instances: 3 }, guildId);
  };

  beforeEach(async () => {
    catalogue = makeTempDir('chatops-templates-');
    mkdirSync(join(catalogue.dir, 'pair'));
    writeFileSync(join(catalogue.dir, 'pair', 'main.tf.json'), JSON.stringify(PAIR));
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN, TEMPLATES_DIR: catalogue.dir });
    await setUp(HARNESS_GUILD);
  });
  afterEach(async () => {
    await harness?.stop();
    catalogue?.cleanup();
  });

  it('counts the two VMs a template made in the next template’s plan and in the built-in vm’s check, and not in another guild', async () => {
    expect((await pair('first')).text()).toMatch(/Deployed pair #1 in web/);
    expect(await app().resources.get(HARNESS_GUILD, 1)).toMatchObject({ status: 'active', computeInstances: 2 });

    const second = await pair('second');
    expect(second.text()).toMatch(/Plan refused by policy/);
    expect(second.text()).toMatch(/The plan adds 2 instances, and the guild already runs 2 of its 3 allowed instances; destroy 1 first\./);
    expect(second.text()).not.toMatch(/Deployed/);
    expect((await app().resources.get(HARNESS_GUILD, 2)).status).toBe('destroyed');

    // The one slot left takes a built-in VM; then the template's two and that VM fill the allowance.
    expect((await harness.say(alice, 'cloud-deploy', vm, HARNESS_GUILD, apply())).text()).toMatch(/Deployed vm/);
    const full = await harness.say(alice, 'cloud-deploy', vm, HARNESS_GUILD, apply());
    expect(full.text()).toMatch(/The guild already runs 3 of its 3 allowed instances; destroy one first\./);
    expect((await app().runner.recentRuns(HARNESS_GUILD)).filter((r) => r.kind === 'apply')).toHaveLength(2);

    // Another guild has its own allowance: this guild's three VMs are not its.
    await setUp(OTHER_GUILD);
    expect((await pair('elsewhere', OTHER_GUILD)).text()).toMatch(/Deployed pair #4 in web/);

    // Destroyed, the template's VMs free their slots.
    const destroyed = await harness.say(alice, 'cloud-destroy', { project: 'web', resource: 1 }, HARNESS_GUILD, { buttons: [{ buttonId: 'destroy', by: alice }] });
    expect(destroyed.text()).toMatch(/Destroyed in web/);
    expect((await pair('third')).text()).toMatch(/Deployed pair #5 in web/);
  });

  it('refuses, at Apply, the second of two deployments planned side by side that only fit the allowance one at a time', async () => {
    const deploys = DeployService.from(app());
    const templates = TemplateDeployments.from(app());
    const planned = async (prefix: string): Promise<PlannedDeployment> => {
      const request = await templates.begin({ guildId: HARNESS_GUILD, requester: alice, project: 'web', template: 'pair', askOptional: false });
      const plan = await deploys.plan(await templates.prepare(request, { typed: { prefix } }), quietly);
      if (!plan.ok) throw new Error('refusedByPolicy' in plan ? JSON.stringify(plan.refusedByPolicy.violations) : plan.error.message);
      return plan.deployment;
    };
    // Each plan fits alone (0 + 2 of 3), and says how many instances its row will count for.
    const first = await planned('first');
    const second = await planned('second');
    expect([first.decision.vms, second.decision.vms]).toEqual([2, 2]);
    expect(await app().resources.get(HARNESS_GUILD, second.resource.id)).toMatchObject({ status: 'planned', computeInstances: 2 });

    const applied = await deploys.apply({ ...first, confirmedBy: alice }, quietly);
    expect(applied.outcome).toBe('applied');
    const refused = await deploys.apply({ ...second, confirmedBy: alice }, quietly);
    expect(refused).toMatchObject({ outcome: 'refused_by_policy', decision: { violations: [{ rule: 'instances', running: 2, adding: 2, max: 3 }] } });
    expect((await app().resources.get(HARNESS_GUILD, second.resource.id)).status).toBe('destroyed');
    expect((await app().runner.recentRuns(HARNESS_GUILD)).filter((r) => r.kind === 'apply')).toHaveLength(1);
  });
});
