/**
 * The deploy and destroy use cases on their own (src/deploy/deploy-service.ts, destroy-service.ts), over the real
 * composition root (SQLite with migrations, vault, policies) and the stand-in engine. Setup goes through the commands;
 * the steps under test are called directly, as any front end would.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeployService, type Deployment, type PlannedDeployment } from '../src/deploy/deploy-service.js';
import { DestroyService } from '../src/deploy/destroy-service.js';
import type { ShowProgress } from '../src/deploy/steps.js';
import { WorkspaceBusy } from '../src/engine/errors.js';
import type { Actor } from '../src/interaction/conversation.js';
import { ProjectNotFound } from '../src/projects/errors.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';

const OTHER_GUILD = '222222222222222222';
const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };
const carol: Actor = { id: '300000000000000003', displayName: 'carol', isBot: false, isGuildAdmin: true };
const dave: Actor = { id: '300000000000000004', displayName: 'dave', isBot: false, isGuildAdmin: false };
const bucket = { project: 'web', resourceType: 'bucket' as const, diskSizeGb: 5 };
/** Runs without showing anything: the service's steps do not depend on a front end. */
const quietly: ShowProgress = (run) => run({ onEvent: () => {}, onQueued: () => {} });

describe('DeployService', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  let deploys: DeployService;
  const app = () => harness.core.app;
  const workspace = () => join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'web');
  const control = (knobs: Record<string, unknown>) => writeFileSync(join(workspace(), 'fake-engine.json'), JSON.stringify(knobs));
  const planFileOf = (deployment: PlannedDeployment) => join(workspace(), '.plans', `run-${deployment.plan.runId}.tfplan`);
  const statusOf = async (deployment: Pick<Deployment, 'resource'>) => (await app().resources.get(HARNESS_GUILD, deployment.resource.id)).status;
  const audit = (action: string) => app().audit.recent(HARNESS_GUILD, { action });
  const applyRuns = async () => (await app().runner.recentRuns(HARNESS_GUILD)).filter((r) => r.kind === 'apply');
  const grant = (who: Actor, level: 'deployer' | 'admin', minutes: number) =>
    harness.say(alice, 'cloud-jit-grant', { user: { id: who.id, displayName: who.displayName, isBot: false }, provider: 'gcp', level, duration: minutes });
  const requireApproval = () => harness.say(alice, 'cloud-guild-policy', { action: 'update', require_approval: true });

  async function planned(requester: Actor = alice, request: Partial<typeof bucket> = {}): Promise<PlannedDeployment> {
    const prepared = await deploys.prepare({ guildId: HARNESS_GUILD, requester, channelId: '400000000000000001', ...bucket, ...request });
    if (!prepared.allowed) throw new Error(`refused: ${JSON.stringify(prepared.decision.violations)}`);
    const plan = await deploys.plan(prepared.deployment, quietly);
    if (!plan.ok) throw 'error' in plan ? plan.error : new Error(`plan refused: ${JSON.stringify(plan.refusedByPolicy.violations)}`);
    return plan.deployment;
  }

  beforeEach(async () => {
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    const init = await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, {
      modal: { project_id: 'web-project-123' },
    });
    expect(init.text()).toMatch(/initialised/);
    deploys = DeployService.from(app());
  });
  afterEach(() => harness?.stop());

  it('allowed: plans, lets the requester apply without approval, applies, audits, and the resource is active', async () => {
    const deployment = await planned();
    expect(await statusOf(deployment)).toBe('planned');
    expect(existsSync(planFileOf(deployment))).toBe(true);
    expect(deploys.mayConfirm(deployment, alice)).toBe(true);
    const step = await deploys.decide(deployment, alice);
    expect(step.next).toBe('apply');
    if (step.next === 'refused') throw new Error('refused');
    const applied = await deploys.apply(step.deployment, quietly);
    expect(applied).toMatchObject({ outcome: 'applied', resource: { id: deployment.resource.id, status: 'active' } });
    expect((await audit('deploy.apply'))[0]).toMatchObject({ userId: alice.id, outcome: 'success', details: { resourceId: deployment.resource.id } });
    expect(await app().reservations.reservedFor(HARNESS_GUILD)).toEqual({ monthlyUsd: 0, vms: 0 });
  });

  it('refused by policy: nothing is created, the refusal names the rule and is audited', async () => {
    await harness.say(alice, 'cloud-guild-policy', { action: 'update', max_disk: 10 });
    const prepared = await deploys.prepare({ guildId: HARNESS_GUILD, requester: alice, ...bucket, resourceType: 'vm', instanceType: 'e2-micro', diskSizeGb: 50 });
    expect(prepared.allowed).toBe(false);
    if (prepared.allowed) return;
    expect(prepared.decision.violations.map((v) => v.rule)).toEqual(['disk']);
    expect(await app().resources.listByGuild(HARNESS_GUILD)).toEqual([]);
    expect((await audit('deploy.plan'))[0]).toMatchObject({ outcome: 'denied', details: { rules: ['disk'] } });
  });

  it('a deployment refused by a policy tightened while it waited is discarded at apply, and the refusal is audited', async () => {
    const step = await deploys.decide(await planned(), alice);
    if (step.next === 'refused') throw new Error('refused');
    await harness.say(alice, 'cloud-guild-policy', { action: 'update', max_budget: 0.01 });
    const applied = await deploys.apply(step.deployment, quietly);
    expect(applied.outcome).toBe('refused_by_policy');
    expect(await statusOf(step.deployment)).toBe('destroyed');
    expect(existsSync(planFileOf(step.deployment))).toBe(false);
    expect(await applyRuns()).toEqual([]);
    expect((await audit('deploy.apply'))[0]).toMatchObject({ outcome: 'denied', details: { step: 'apply.start', rules: ['budget'] } });
  });

  it('a member without access is refused before anything is created', async () => {
    await expect(deploys.prepare({ guildId: HARNESS_GUILD, requester: bob, ...bucket })).rejects.toThrow(/Deployer/);
    expect(await app().resources.listByGuild(HARNESS_GUILD)).toEqual([]);
  });

  it('another guild cannot deploy into this guild’s project, even by its name', async () => {
    await expect(deploys.prepare({ guildId: OTHER_GUILD, requester: alice, ...bucket })).rejects.toThrow(ProjectNotFound);
    expect(await app().resources.listByGuild(HARNESS_GUILD)).toEqual([]);
  });

  /** A confirmed deployment that needs approval, its request recorded and posted. */
  async function awaitingApproval(requester: Actor = alice) {
    await requireApproval();
    const step = await deploys.decide(await planned(requester), requester);
    if (step.next !== 'needs_approval') throw new Error(`expected needs_approval, got ${step.next}`);
    return { deployment: step.deployment, approval: await deploys.approvals.request(step.deployment) };
  }
  const approvalOf = (id: number) => app().deployApprovals.records.findInGuild(HARNESS_GUILD, id);

  it('needs approval when the policy says so: recorded, posted; another admin approves and it applies', async () => {
    const { approval } = await awaitingApproval();
    expect(approval).toMatchObject({ status: 'pending', requester: { id: alice.id }, planRunId: expect.any(Number) });
    expect(harness.notifier.postsIn('400000000000000001').at(-1)?.buttons?.map((b) => b.customId)).toEqual([`deployapr:approve:${approval.id}`, `deployapr:reject:${approval.id}`]);
    const result = await deploys.approvals.approve({ guildId: HARNESS_GUILD, approvalId: approval.id, reviewer: carol });
    if (result.outcome !== 'approved') throw new Error(result.outcome);
    expect(await approvalOf(approval.id)).toMatchObject({ status: 'approved', decidedBy: carol.id });
    expect((await audit('deploy.approval'))[0]).toMatchObject({ userId: carol.id, outcome: 'success', details: { answer: 'approve' } });
    expect((await deploys.apply(result.deployment, quietly)).outcome).toBe('applied');
  });

  it('the requester cannot approve their own deployment, even as a server admin: nothing changes', async () => {
    const { approval, deployment } = await awaitingApproval();
    await expect(deploys.approvals.approve({ guildId: HARNESS_GUILD, approvalId: approval.id, reviewer: alice })).rejects.toThrow(/cannot approve your own deployment/);
    await expect(deploys.approvals.reject({ guildId: HARNESS_GUILD, approvalId: approval.id, reviewer: alice })).rejects.toThrow(/cannot approve your own/);
    expect((await approvalOf(approval.id))?.status).toBe('pending');
    expect(await statusOf(deployment)).toBe('planned');
    expect(existsSync(planFileOf(deployment))).toBe(true);
    expect((await audit('deploy.approval')).find((e) => e.outcome === 'denied')).toMatchObject({ userId: alice.id, details: { reason: 'own_request' } });
  });

  it('a member who is not an admin at the moment of the press cannot approve; the refusal is audited', async () => {
    await grant(dave, 'admin', 10);
    const { approval } = await awaitingApproval();
    harness.clock.advanceMinutes(11);
    const press = () => deploys.approvals.approve({ guildId: HARNESS_GUILD, approvalId: approval.id, reviewer: dave });
    await expect(press()).rejects.toThrow(/Only server admins, or members with Admin access/);
    await expect(press()).rejects.toThrow(/JIT grant #\d+ expired/);
    expect((await audit('deploy.approval')).find((e) => e.outcome === 'denied')).toMatchObject({ userId: dave.id, details: { reason: 'missing_access', step: 'approve' } });
    await expect(deploys.approvals.approve({ guildId: HARNESS_GUILD, approvalId: approval.id, reviewer: bob })).rejects.toThrow(/Only server admins/);
    expect((await approvalOf(approval.id))?.status).toBe('pending');
  });

  it('a rejected approval discards the plan and its row; the requester is told', async () => {
    const { approval, deployment } = await awaitingApproval();
    const rejected = await deploys.approvals.reject({ guildId: HARNESS_GUILD, approvalId: approval.id, reviewer: carol });
    expect(rejected).toMatchObject({ status: 'rejected', decidedBy: carol.id });
    expect(await statusOf(deployment)).toBe('destroyed');
    expect(existsSync(planFileOf(deployment))).toBe(false);
    await deploys.approvals.tellRequester(approval.id);
    expect(harness.notifier.dmsTo(alice.id).map((n) => n.title)).toEqual(['Deployment rejected']);
    expect((await audit('deploy.approval')).map((e) => [e.userId, e.outcome, e.details?.answer])).toEqual([[carol.id, 'denied', 'reject']]);
    expect(await applyRuns()).toEqual([]);
  });

  it('access lost by the Apply press: refused, plan discarded, audited', async () => {
    await grant(bob, 'deployer', 10);
    const deployment = await planned(bob);
    expect(deploys.mayConfirm(deployment, dave)).toBe(false);
    harness.clock.advanceMinutes(11);
    const step = await deploys.decide(deployment, bob);
    expect(step).toMatchObject({ next: 'refused', refusal: { code: 'jit.access_lost', held: null } });
    expect(await statusOf(deployment)).toBe('destroyed');
    expect(existsSync(planFileOf(deployment))).toBe(false);
    expect((await audit('deploy.apply'))[0]).toMatchObject({ userId: bob.id, outcome: 'denied', details: { step: 'apply.press', grantEnded: 'expired' } });
  });

  it('access lost between the press and the apply: nothing applied, plan discarded', async () => {
    await grant(bob, 'deployer', 10);
    const step = await deploys.decide(await planned(bob), bob);
    if (step.next === 'refused') throw new Error('refused');
    harness.clock.advanceMinutes(11);
    const applied = await deploys.apply(step.deployment, quietly);
    expect(applied).toMatchObject({ outcome: 'access_lost', refusal: { participant: { userId: bob.id, role: 'requester' } } });
    expect(await statusOf(step.deployment)).toBe('destroyed');
    expect(existsSync(planFileOf(step.deployment))).toBe(false);
    expect(await applyRuns()).toEqual([]);
    expect(await app().reservations.reservedFor(HARNESS_GUILD)).toEqual({ monthlyUsd: 0, vms: 0 });
  });

  it('Cancel (or no answer) discards the plan file and the planned row, and is audited', async () => {
    const deployment = await planned();
    await deploys.cancel(deployment, carol);
    expect(await statusOf(deployment)).toBe('destroyed');
    expect(existsSync(planFileOf(deployment))).toBe(false);
    expect((await audit('deploy.cancel'))[0]).toMatchObject({ userId: carol.id, outcome: 'success', details: { planRunId: deployment.plan.runId } });
    await expect(deploys.cancel(deployment, undefined)).resolves.toBeUndefined();
  });

  it('a failed plan is audited and leaves no planned row', async () => {
    control({ failPlan: { summary: 'Invalid bucket name' } });
    const prepared = await deploys.prepare({ guildId: HARNESS_GUILD, requester: alice, ...bucket });
    if (!prepared.allowed) throw new Error('refused');
    const plan = await deploys.plan(prepared.deployment, quietly);
    expect(plan).toMatchObject({ ok: false, error: { code: 'engine.run_failed' } });
    expect(await statusOf(prepared.deployment)).toBe('destroyed');
    expect((await audit('deploy.plan'))[0]).toMatchObject({ outcome: 'failed' });
  });

  it('Apply refused because the workspace is busy: the plan file and the planned row are discarded', async () => {
    const step = await deploys.decide(await planned(), alice);
    if (step.next === 'refused') throw new Error('refused');
    const blocking = await holdWorkspace();
    const applied = await deploys.apply(step.deployment, quietly);
    await blocking.release();
    expect(applied.outcome).toBe('failed');
    if (applied.outcome !== 'failed') return;
    expect(applied.error).toBeInstanceOf(WorkspaceBusy);
    expect(existsSync(planFileOf(step.deployment))).toBe(false);
    expect(await statusOf(step.deployment)).toBe('destroyed');
    expect(await applyRuns()).toEqual([]);
    expect(await app().reservations.reservedFor(HARNESS_GUILD)).toEqual({ monthlyUsd: 0, vms: 0 });
  });

  it('through /cloud-deploy: a workspace busy at the Apply press leaves no plan file and no planned row', async () => {
    let blocking: Awaited<ReturnType<typeof holdWorkspace>> | undefined;
    const reply = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'bucket', disk_size: 5 }, HARNESS_GUILD, {
      buttons: [{ buttonId: 'apply', by: alice, beforePress: async () => void (blocking = await holdWorkspace()) }],
    });
    await blocking?.release();
    expect(reply.text()).toMatch(/is busy: run #\d+ \(plan\)/);
    const [mine] = await app().resources.listByGuild(HARNESS_GUILD);
    const myPlan = (await app().runner.recentRuns(HARNESS_GUILD)).find((r) => r.kind === 'plan' && r.resourceId === mine!.id);
    expect(mine?.status).toBe('destroyed');
    expect(existsSync(join(workspace(), '.plans', `run-${myPlan!.number}.tfplan`))).toBe(false);
    expect(myPlan?.applicable).toBe(false);
  });

  /** Another deployment's plan holds the workspace (the stand-in sleeps) until `release` cancels it. */
  async function holdWorkspace(): Promise<{ release: () => Promise<void> }> {
    control({ sleepMs: 120_000 });
    const prepared = await deploys.prepare({ guildId: HARNESS_GUILD, requester: carol, ...bucket });
    if (!prepared.allowed) throw new Error('refused');
    const blocker = deploys.plan(prepared.deployment, quietly);
    const run = await vi.waitFor(
      async () => {
        const found = (await app().runner.recentRuns(HARNESS_GUILD)).find((r) => r.resourceId === prepared.deployment.resource.id && r.status === 'running');
        if (!found) throw new Error('the blocking plan is not running yet');
        return found;
      },
      { timeout: 20_000, interval: 25 },
    );
    return {
      release: async () => {
        app().runner.cancel(HARNESS_GUILD, run.number);
        expect(await blocker).toMatchObject({ ok: false });
        control({});
      },
    };
  }
});

describe('DestroyService', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  let destroys: DestroyService;
  const app = () => harness.core.app;

  beforeEach(async () => {
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, { modal: { project_id: 'web-project-123' } });
    const deployed = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'bucket', disk_size: 5 }, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: alice }] });
    expect(deployed.text()).toMatch(/Deployed bucket/);
    destroys = DestroyService.from(app());
  });
  afterEach(() => harness?.stop());

  it('destroys what the requester confirmed and audits it; only the requester may confirm', async () => {
    const prepared = await destroys.prepare({ guildId: HARNESS_GUILD, requester: alice, project: 'web', forget: false });
    if (!prepared.ready) throw new Error('nothing to destroy');
    expect(destroys.mayConfirm(prepared.destruction, carol)).toBe(false);
    expect(await destroys.confirm(prepared.destruction, alice)).toEqual({ confirmed: true });
    const destroyed = await destroys.destroy(prepared.destruction, quietly);
    expect(destroyed.ok).toBe(true);
    expect((await app().resources.listByGuild(HARNESS_GUILD)).map((r) => r.status)).toEqual(['destroyed']);
    expect((await app().audit.recent(HARNESS_GUILD, { action: 'deploy.destroy' }))[0]).toMatchObject({ userId: alice.id, outcome: 'success' });
    expect(await destroys.prepare({ guildId: HARNESS_GUILD, requester: alice, project: 'web', forget: false })).toMatchObject({ ready: false, reason: 'nothing_to_destroy' });
  });

  it('an admin grant that expired before the press destroys nothing; another guild cannot reach the project', async () => {
    await harness.say(alice, 'cloud-jit-grant', { user: { id: dave.id, displayName: 'dave', isBot: false }, provider: 'gcp', level: 'admin', duration: 10 });
    const prepared = await destroys.prepare({ guildId: HARNESS_GUILD, requester: dave, project: 'web', forget: false });
    if (!prepared.ready) throw new Error('nothing to destroy');
    harness.clock.advanceMinutes(11);
    expect(await destroys.confirm(prepared.destruction, dave)).toMatchObject({ confirmed: false, refusal: { code: 'jit.access_lost' } });
    expect((await app().resources.listByGuild(HARNESS_GUILD)).map((r) => r.status)).toEqual(['active']);
    await expect(destroys.prepare({ guildId: OTHER_GUILD, requester: alice, project: 'web', forget: true })).rejects.toThrow(ProjectNotFound);
    await expect(destroys.prepare({ guildId: HARNESS_GUILD, requester: bob, project: 'web', forget: false })).rejects.toThrow(/Admin/);
  });
});
