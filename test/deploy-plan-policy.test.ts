/**
 * The guild's policy held against the plan in the deploy pipeline (DeployService and /cloud-deploy, the real core,
 * the stand-in engine). A module of the guild's own is stood in for by an extra `*.tf.json` in the project's folder,
 * which the engine plans with the bot's configuration: resources no policy option describes, seen only in the plan.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toMarkdown } from '../src/discord/markdown.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeployService, type PlannedDeployment } from '../src/deploy/deploy-service.js';
import type { ShowProgress } from '../src/deploy/steps.js';
import type { Actor } from '../src/interaction/conversation.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { ConsoleDriver } from './support/console-driver.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };
const carol: Actor = { id: '300000000000000003', displayName: 'carol', isBot: false, isGuildAdmin: true };
const quietly: ShowProgress = (run) => run({ onEvent: () => {}, onQueued: () => {} });
const vmWithoutDisk = { project: 'web', resource_type: 'vm', instance_type: 'e2-micro' };
const apply = { buttons: [{ buttonId: 'apply', by: alice }] };
/** A Cloud SQL instance: a type the price catalogue does not know. */
const SQL = { google_sql_database_instance: { db: { name: 'db', database_version: 'POSTGRES_16', settings: [{ tier: 'db-f1-micro' }] } } };

describe('the policy on the plan, in the deploy pipeline', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  let deploys: DeployService;
  const app = () => harness.core.app;
  const workspace = (project = 'web') => join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, project);
  /** The guild's own module, planned alongside the bot's configuration. */
  const module = (resources: Record<string, unknown>, project = 'web') => writeFileSync(join(workspace(project), 'module.tf.json'), JSON.stringify({ resource: resources }));
  const policy = (options: Record<string, unknown>) => harness.say(alice, 'cloud-guild-policy', { action: 'update', ...options });
  const runs = async (kind: string) => (await app().runner.recentRuns(HARNESS_GUILD)).filter((r) => r.kind === kind);
  const offeredApply = (reply: Awaited<ReturnType<typeof harness.say>>) => reply.steps.some((s) => s.kind === 'buttons' && JSON.stringify(s.message).includes('Apply'));
  const init = (project: string) =>
    harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: project, region: 'us-central1' }, HARNESS_GUILD, { modal: { project_id: `${project}-project-123` } });

  async function planned(request: { project?: string; resourceType: 'vm' | 'bucket'; instanceType?: string; diskSizeGb?: number }): Promise<PlannedDeployment> {
    const prepared = await deploys.prepare({ guildId: HARNESS_GUILD, requester: alice, project: 'web', ...request });
    if (!prepared.allowed) throw new Error(`refused from the options: ${JSON.stringify(prepared.decision.violations)}`);
    const plan = await deploys.plan(prepared.deployment, quietly);
    if (!plan.ok) throw new Error('refusedByPolicy' in plan ? `refused from the plan: ${JSON.stringify(plan.refusedByPolicy.violations)}` : plan.error.message);
    return plan.deployment;
  }

  beforeEach(async () => {
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    expect((await init('web')).text()).toMatch(/initialised/);
    deploys = DeployService.from(app());
  });
  afterEach(() => harness?.stop());

  it('a VM deployed without disk_size: its default 20 GB disk is refused from the plan when over max_disk, and otherwise estimated', async () => {
    await policy({ max_disk: 15 });
    const refused = await harness.say(alice, 'cloud-deploy', vmWithoutDisk, HARNESS_GUILD, apply);
    // The options named no disk, so only the plan could see it: one plan ran, and no Apply was offered.
    expect(await runs('plan')).toHaveLength(1);
    expect(offeredApply(refused)).toBe(false);
    expect(refused.text()).toMatch(/Plan refused by policy/);
    expect(refused.text()).toMatch(/The boot disk of `google_compute_instance\.vm_1` \(20 GB\) exceeds the guild limit \(15 GB\)/);
    expect(refused.text()).toMatch(/No `disk_size` was given, so the VM gets the default boot disk of 20 GB/);
    expect(refused.text()).toMatch(/The plan was discarded; nothing was applied/);
    expect((await app().resources.listByGuild(HARNESS_GUILD)).map((r) => r.status)).toEqual(['destroyed']);
    expect(readdirSync(join(workspace(), '.plans')).filter((f) => f.endsWith('.tfplan'))).toEqual([]);
    expect((await app().audit.recent(HARNESS_GUILD, { action: 'deploy.plan' }))[0]).toMatchObject({ outcome: 'denied', details: { step: 'plan', rules: ['disk'] } });
    expect(await runs('apply')).toEqual([]);

    await policy({ max_disk: 500 });
    const deployed = await harness.say(alice, 'cloud-deploy', vmWithoutDisk, HARNESS_GUILD, apply);
    expect(deployed.text()).toMatch(/Deployed vm/);
    // e2-micro ($6.11) and the 20 GB disk the options never named ($2.00).
    expect(deployed.text()).toMatch(/\$8\.11\/month/);
    expect((await app().resources.listByGuild(HARNESS_GUILD, ['active'])).map((r) => r.estimatedMonthlyCost)).toEqual([8.11]);
  });

  it('an AWS disk below the provider’s minimum is refused before any plan starts', async () => {
    const reply = await harness.say(alice, 'cloud-init', { provider: 'aws', project_name: 'ec2', region: 'us-east-1' }, HARNESS_GUILD, {
      modal: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: 'not-a-real-secret-value' },
    });
    expect(reply.text()).toMatch(/initialised/);
    const refused = await harness.say(alice, 'cloud-deploy', { project: 'ec2', resource_type: 'vm', instance_type: 't3.micro', disk_size: 4 }, HARNESS_GUILD, apply);
    expect(refused.text()).toMatch(/an AWS virtual machine's boot disk must be 8 to 65536 GB \(its image needs 8 GB\), not 4 GB/);
    expect(await app().runner.recentRuns(HARNESS_GUILD)).toEqual([]);
    expect(await app().resources.listByGuild(HARNESS_GUILD)).toEqual([]);
    expect(existsSync(join(workspace('ec2'), '.fake-engine-invocations.jsonl'))).toBe(false);
  });

  it('a resource type the guild does not allow, seen only in the plan, is refused with every address of it', async () => {
    await policy({ allowed_resource_types: 'bucket' });
    module(SQL);
    const refused = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'bucket', disk_size: 5 }, HARNESS_GUILD, apply);
    expect(offeredApply(refused)).toBe(false);
    expect(refused.text()).toMatch(/Resource type `google_sql_database_instance` is not allowed in this guild \(`google_sql_database_instance\.db`\); allowed: bucket\./);
    expect(await runs('apply')).toEqual([]);

    // Listed by its Terraform type, it passes (and, unpriced, waits for an admin).
    await policy({ allowed_resource_types: 'bucket, google_sql_database_instance' });
    expect((await planned({ resourceType: 'bucket', diskSizeGb: 5 })).decision).toMatchObject({ allowed: true, approvalReasons: ['unpriced'] });
  });

  it('instance types and the instance count are checked on every VM of the plan, and every broken rule is listed', async () => {
    await policy({ allowed_instance_types: 'e2-micro', max_instances: 1 });
    module({ google_compute_instance: { worker: { name: 'worker', machine_type: 'n1-standard-8', zone: 'us-central1-a', boot_disk: [{ initialize_params: [{ size: 10 }] }] } } });
    const refused = await harness.say(alice, 'cloud-deploy', { ...vmWithoutDisk, disk_size: 10 }, HARNESS_GUILD, apply);
    expect(offeredApply(refused)).toBe(false);
    expect(refused.text()).toMatch(/The plan adds 2 instances, and the guild already runs 0 of its 1 allowed instances; destroy 1 first\./);
    expect(refused.text()).toMatch(/Instance type \W+n1-standard-8\W+ of `google_compute_instance\.worker` is not allowed in this guild; allowed: e2-micro\./);
    expect(refused.text()).not.toMatch(/google_compute_instance\.vm_\d+` is not allowed/);
    expect((await app().audit.recent(HARNESS_GUILD, { action: 'deploy.plan' }))[0]).toMatchObject({ outcome: 'denied', details: { rules: ['instances', 'instance_type'] } });
  });

  it('the budget is held to the plan’s estimate, not the options’', async () => {
    await policy({ max_budget: 100 });
    module({ google_compute_instance: { big: { name: 'big', machine_type: 'n1-standard-32', zone: 'us-central1-a', boot_disk: [{ initialize_params: [{ size: 10 }] }] } } });
    // The options ask for a bucket ($1.10): the plan also makes a $1,110.60 VM.
    const refused = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'bucket', disk_size: 5 }, HARNESS_GUILD, apply);
    expect(refused.text()).toMatch(/Estimated monthly cost \(\$1,111\.70\) would bring the guild to \$1,111\.70, over its budget limit \(\$100\.00\)\./);
    expect(offeredApply(refused)).toBe(false);
  });

  it('resources not estimated need an admin’s approval by default: the plan says so, the approval request says why', async () => {
    module(SQL);
    const reply = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'bucket', disk_size: 5 }, HARNESS_GUILD, {
      buttons: [{ buttonId: 'apply', by: alice }],
    });
    expect(reply.text()).toMatch(/Not estimated[\s\S]*`google_sql_database_instance\.db` \(no price for this resource type\)/);
    expect(reply.text()).toMatch(/This server’s policy requires an admin’s approval for them/);
    const card = toMarkdown(harness.notifier.postsIn('400000000000000001').at(-1)?.description ?? '');
    expect(card).toMatch(/1 of its resources could not be estimated, and this server’s policy requires an admin’s approval for that/);
    expect(card).not.toMatch(/This server’s policy requires an admin’s approval\./);
    expect((await harness.press(carol, harness.durableButton('Approve'))).text()).toMatch(/Deployed bucket/);
    expect((await app().audit.recent(HARNESS_GUILD, { action: 'deploy.approval' }))[0]).toMatchObject({ userId: carol.id, outcome: 'success' });
  });

  it('resources not estimated: refused, or allowed without approval, as the policy says', async () => {
    module(SQL);
    await policy({ unpriced_resources: 'refuse' });
    const refused = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'bucket', disk_size: 5 }, HARNESS_GUILD, apply);
    expect(refused.text()).toMatch(/This guild’s policy refuses resources that cannot be estimated: `google_sql_database_instance\.db` \(no price for this resource type\)\./);
    expect(offeredApply(refused)).toBe(false);

    await policy({ unpriced_resources: 'allow' });
    const deployment = await planned({ resourceType: 'bucket', diskSizeGb: 5 });
    expect(deployment.decision).toMatchObject({ requiresApproval: false, notEstimated: [{ address: 'google_sql_database_instance.db', reason: 'unknown_type' }] });
    const step = await deploys.decide(deployment, alice);
    expect(step.next).toBe('apply');
    if (step.next === 'refused') return;
    expect((await deploys.apply(step.deployment, quietly)).outcome).toBe('applied');
  });

  it('the re-check at apply uses the plan’s figures', async () => {
    const deployment = await planned({ resourceType: 'vm', instanceType: 'e2-micro' });
    expect(deployment.decision.estimate.monthlyUsd).toBe(8.11);
    expect((await app().resources.get(HARNESS_GUILD, deployment.resource.id)).estimatedMonthlyCost).toBe(8.11);
    const step = await deploys.decide(deployment, alice);
    if (step.next === 'refused') throw new Error('refused');
    // Enough for the options' $6.11, not for the plan's $8.11.
    await policy({ max_budget: 7 });
    const applied = await deploys.apply(step.deployment, quietly);
    expect(applied).toMatchObject({ outcome: 'refused_by_policy', decision: { violations: [{ rule: 'budget', estimateUsd: 8.11, maxUsd: 7 }] } });
    expect((await app().resources.get(HARNESS_GUILD, deployment.resource.id)).status).toBe('destroyed');
    expect(await runs('apply')).toEqual([]);
  });

  it('the budget reservation holds the plan’s estimate while the apply runs', async () => {
    expect((await init('other')).text()).toMatch(/initialised/);
    await policy({ max_budget: 8.61 });
    const vm = await planned({ resourceType: 'vm', instanceType: 'e2-micro' });
    const bucket = await planned({ project: 'other', resourceType: 'bucket' });
    const [vmStep, bucketStep] = [await deploys.decide(vm, alice), await deploys.decide(bucket, alice)];
    if (vmStep.next === 'refused' || bucketStep.next === 'refused') throw new Error('refused');

    // The progress is shown once the hold is taken, to run the engine: the VM's apply waits there, held, not yet applying.
    let held = () => {};
    let proceed = () => {};
    const isHeld = new Promise<void>((resolve) => (held = resolve));
    const mayProceed = new Promise<void>((resolve) => (proceed = resolve));
    const applying = deploys.apply(vmStep.deployment, async (run) => {
      held();
      await mayProceed;
      return quietly(run);
    });
    await isHeld;
    expect(await app().reservations.reservedFor(HARNESS_GUILD)).toEqual({ monthlyUsd: 8.11, vms: 1 });
    // $8.11 held plus the bucket's $1 is over $8.61 (with the options' $6.11 held, it would have fitted).
    expect(await deploys.apply(bucketStep.deployment, quietly)).toMatchObject({ outcome: 'refused_by_policy', decision: { violations: [{ rule: 'budget', projectedUsd: 9.11 }] } });
    proceed();
    expect((await applying).outcome).toBe('applied');
    expect(await app().reservations.reservedFor(HARNESS_GUILD)).toEqual({ monthlyUsd: 0, vms: 0 });
  });
});

describe('/cloud-guild-policy: what to do with resources not estimated', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  beforeEach(async () => {
    harness = await startAppHarness();
  });
  afterEach(() => harness?.stop());

  it('an admin sets it (and Terraform types among the allowed ones); everyone sees it; a JIT admin cannot waive the approval', async () => {
    expect((await harness.say(bob, 'cloud-guild-policy', { action: 'view' })).text()).toMatch(/Resources not estimated[\s\S]*need an admin’s approval/);
    const set = await harness.say(alice, 'cloud-guild-policy', { action: 'update', unpriced_resources: 'refuse', allowed_resource_types: 'vm, google_sql_database_instance' });
    expect(set.text()).toMatch(/Guild policies updated/);
    expect(set.text()).toMatch(/need an admin’s approval → \*\*refused\*\*/);
    expect(await harness.core.app.policies.get(HARNESS_GUILD)).toMatchObject({ unpricedResources: 'refuse', allowedResourceTypes: ['vm', 'google_sql_database_instance'] });

    await harness.core.app.jit.grant({ guildId: HARNESS_GUILD, granteeId: bob.id, granteeIsBot: false, grantedBy: alice.id, provider: 'all', level: 'admin', durationMinutes: 60 });
    const waive = await harness.say(bob, 'cloud-guild-policy', { action: 'update', unpriced_resources: 'allow' });
    expect(waive.text()).toMatch(/`unpriced_resources` can be changed only by a member with the Manage Server permission/);
    expect((await harness.core.app.policies.get(HARNESS_GUILD)).unpricedResources).toBe('refuse');
  });
});

describe('the console: the same setting, typed', () => {
  let shell: ConsoleDriver | undefined;
  afterEach(async () => {
    await shell?.close();
    shell = undefined;
  });

  it('sets and shows unpriced_resources, and refuses a value outside its choices before anything runs', async () => {
    shell = new ConsoleDriver({ argv: ['--user', 'root', '--admin'] });
    await shell.waitFor('You are @root');
    const refused = await shell.run('/cloud-guild-policy action:update unpriced_resources:sometimes', 'Usage:');
    expect(refused).toContain('`unpriced_resources`: `sometimes` is not one of the choices: allow, require_approval, refuse');
    const updated = await shell.run('/cloud-guild-policy action:update unpriced_resources:allow allowed_resource_types:"bucket, aws_db_instance"', '└─');
    expect(updated).toMatch(/Resources not estimated[\s\S]*need an admin’s approval → [*]*allowed \(not counted in the estimate\)/);
    const viewed = await shell.run('/cloud-guild-policy action:view', '└─');
    expect(viewed).toContain('bucket, aws_db_instance');
    expect(viewed).toContain('allowed (not counted in the estimate)');
    await shell.quit();
  });
});
