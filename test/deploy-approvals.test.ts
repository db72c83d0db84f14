/**
 * Deployment approvals are durable: the request is recorded and posted with `deployapr:` buttons, and a press is
 * judged on what is true at that moment, whether the bot restarted meanwhile or not. Two "processes" over one SQLite
 * file stand for the bot before and after a restart; the stand-in engine plans and applies.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import type { Notice } from '../src/notify/notifier.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { APP_CHANNEL, APP_GUILD, appFixture } from './support/jit-request-app.js';
import { STAND_IN_SANDBOX_ENV } from './support/sandbox-env.js';

const TEMPLATES = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/templates');
const OTHER_GUILD = '222222222222222222';
const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const carol: Actor = { id: '300000000000000003', displayName: 'carol', isBot: false, isGuildAdmin: true };
const dave: Actor = { id: '300000000000000004', displayName: 'dave', isBot: false, isGuildAdmin: false };
const erin: Actor = { id: '300000000000000005', displayName: 'erin', isBot: false, isGuildAdmin: true };
const bucket = { project: 'web', resource_type: 'bucket', disk_size: 5 };
const web = { provider: 'gcp', project_name: 'web', region: 'us-central1' };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Booted = Awaited<ReturnType<ReturnType<typeof appFixture>['boot']>>;

/** A bot whose guild needs an admin's approval for every deployment, with project `web`. */
async function setup(options: { credential?: 'stored' | 'session'; env?: Record<string, string> } = {}) {
  const fixture = appFixture(cleanups, { IAC_BIN_DIR: FAKE_ENGINE_BIN, CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64'), ...STAND_IN_SANDBOX_ENV, ...options.env });
  const first = await fixture.boot();
  if (options.credential !== 'session') {
    await first.app.credentials.create({ guildId: APP_GUILD, name: 'gcp-main', provider: 'gcp', secrets: { project_id: 'stored-proj' }, createdBy: alice.id });
    expect((await first.say(alice, 'cloud-init', { ...web, credential: 'gcp-main' })).text()).toMatch(/initialised/);
  } else {
    const init = await first.say(alice, 'cloud-init', web, APP_GUILD, APP_CHANNEL, { modal: { project_id: 'typed-proj' } });
    expect(init.text()).toMatch(/initialised/);
  }
  expect((await first.say(alice, 'cloud-guild-policy', { action: 'update', require_approval: true })).text()).toMatch(/Approval required/);
  return { ...fixture, first };
}

/** Alice deploys a bucket and confirms it; returns the response and the approval card's buttons. */
async function requestDeployment(bot: Booted, notifier: { postsIn(channel: string): Notice[] }) {
  const reply = await bot.say(alice, 'cloud-deploy', bucket, APP_GUILD, APP_CHANNEL, { buttons: [{ buttonId: 'apply', by: alice }] });
  const card = notifier.postsIn(APP_CHANNEL).findLast((n) => n.buttons?.some((b) => b.customId.startsWith('deployapr:approve:')));
  if (!card) throw new Error(`no approval card posted: ${reply.text()}`);
  const [approve, reject] = card.buttons!.map((b) => b.customId);
  return { reply, card, approve: approve!, reject: reject! };
}

const resourceStatuses = async (bot: Booted) => (await bot.app.resources.listByGuild(APP_GUILD)).map((r) => r.status);
const applyRuns = async (bot: Booted) => (await bot.app.runner.recentRuns(APP_GUILD)).filter((r) => r.kind === 'apply');
const planFile = (dir: string, runId: number) => join(dir, 'deployments', `guild_${APP_GUILD}`, 'web', '.plans', `run-${runId}.tfplan`);
const approvalRow = (bot: Booted, id = 1) => bot.app.deployApprovals.records.findInGuild(APP_GUILD, id);

describe('a deployment that needs approval', () => {
  it('is recorded and posted; the command says it waits, across restarts', async () => {
    const { first, notifier } = await setup();
    const { reply, card, approve } = await requestDeployment(first, notifier);
    expect(reply.text()).toMatch(/Waiting for an admin’s approval/);
    expect(reply.text()).toMatch(/across restarts of the bot/);
    expect(approve).toBe('deployapr:approve:1');
    expect(JSON.stringify(card)).toMatch(/This server’s policy requires an admin’s approval/);
    expect(await approvalRow(first)).toMatchObject({ status: 'pending', requester: { id: alice.id }, credentialLabel: expect.stringMatching(/gcp-main/) });
    expect(await resourceStatuses(first)).toEqual(['planned']);
    expect((await first.app.audit.recent(APP_GUILD, { action: 'deploy.approval.request' }))[0]).toMatchObject({ userId: alice.id, outcome: 'success' });
  });

  it('survives a restart: Approve pressed on the old card after a new start applies it, in the channel, and tells the requester', async () => {
    const { first, boot, notifier } = await setup();
    const { approve } = await requestDeployment(first, notifier);
    await first.stop();

    const after = await boot();
    const press = await after.press(carol, approve);
    expect(press.text()).toMatch(/Approved by <@300000000000000003>/);
    expect(press.text()).toMatch(/Deployed bucket/);
    expect(press.steps.every((s) => s.kind === 'update')).toBe(true);
    expect(await resourceStatuses(after)).toEqual(['active']);
    expect(await applyRuns(after)).toHaveLength(1);
    expect(await approvalRow(after)).toMatchObject({ status: 'approved', decidedBy: carol.id });
    expect(notifier.dmsTo(alice.id).map((n) => n.title)).toEqual(['Deployment approved']);
    expect((await after.app.audit.recent(APP_GUILD, { action: 'deploy.approval' }))[0]).toMatchObject({ userId: carol.id, outcome: 'success', details: { answer: 'approve' } });
    expect((await after.app.audit.recent(APP_GUILD, { action: 'deploy.apply' }))[0]).toMatchObject({ outcome: 'success' });
  });

  it('after a restart, a plan whose vault session is gone is not applied: the press says what to do, and works once the session is back', async () => {
    const { first, boot, notifier } = await setup({ credential: 'session' });
    const { approve } = await requestDeployment(first, notifier);
    await first.stop();

    const after = await boot();
    const refused = await after.press(carol, approve);
    expect(refused.text()).toMatch(/Deployment approval #1 cannot be applied now/);
    expect(refused.text()).toMatch(/opens its vault session again with `\/cloud-init`/);
    expect(refused.text()).toMatch(/press Approve again/);
    expect((await approvalRow(after))?.status).toBe('pending');
    expect(await applyRuns(after)).toEqual([]);

    const renewed = await after.say(alice, 'cloud-init', web, APP_GUILD, APP_CHANNEL, { modal: { project_id: 'typed-proj' } });
    expect(renewed.text()).toMatch(/initialised|renewed/i);
    expect((await after.press(carol, approve)).text()).toMatch(/Deployed bucket/);
    expect(await resourceStatuses(after)).toEqual(['active']);
  });

  it('after a restart, a server default credential never stands in for the plan’s ended vault session', async () => {
    const { first, boot, notifier } = await setup({ credential: 'session' });
    await first.app.credentials.create({ guildId: APP_GUILD, name: 'shared', provider: 'gcp', secrets: { project_id: 'another-account' }, createdBy: alice.id, makeDefault: true });
    const { approve } = await requestDeployment(first, notifier);
    await first.stop();

    const after = await boot();
    const refused = await after.press(carol, approve);
    expect(refused.text()).toMatch(/it was planned with gcp credentials from this project's vault session/);
    expect(refused.text()).toMatch(/it would run with this server's default stored credential/);
    expect((await approvalRow(after))?.status).toBe('pending');
    expect(await applyRuns(after)).toEqual([]);
    expect((await after.app.audit.recent(APP_GUILD, { action: 'deploy.approval' }))[0]).toMatchObject({ outcome: 'failed', details: { reason: 'credential_changed' } });
  });

  it('Reject closes it: the plan and its row go, the card says who, the requester is told', async () => {
    const { first, notifier, dir } = await setup();
    const { reject } = await requestDeployment(first, notifier);
    const planRunId = (await approvalRow(first))!.planRunId;
    expect(existsSync(planFile(dir, planRunId))).toBe(true);
    const press = await first.press(carol, reject);
    expect(press.text()).toMatch(/Rejected by <@300000000000000003>/);
    const last = press.steps.at(-1);
    expect(last?.kind === 'update' ? last.message.notices?.[0]?.buttons : 'not an update').toBeUndefined();
    expect(await resourceStatuses(first)).toEqual(['destroyed']);
    expect(existsSync(planFile(dir, planRunId))).toBe(false);
    expect(notifier.dmsTo(alice.id).map((n) => n.title)).toEqual(['Deployment rejected']);
    expect(await applyRuns(first)).toEqual([]);
  });

  it('the requester cannot approve (or reject) their own, even as a server admin; a member who is not an admin cannot either', async () => {
    const { first, notifier } = await setup();
    const { approve, reject } = await requestDeployment(first, notifier);
    expect((await first.press(alice, approve)).text()).toMatch(/You cannot approve your own deployment: another admin must/);
    expect((await first.press(alice, reject)).text()).toMatch(/You cannot approve your own deployment/);
    const member = await first.press(dave, approve);
    expect(member.text()).toMatch(/Only server admins, or members with Admin access to this project’s provider, can approve/);
    expect(member.text()).toMatch(/needs Admin access to GCP for this step/);
    expect((await approvalRow(first))?.status).toBe('pending');
    expect(await resourceStatuses(first)).toEqual(['planned']);
    expect(await applyRuns(first)).toEqual([]);
    const denied = (await first.app.audit.recent(APP_GUILD, { action: 'deploy.approval' })).filter((e) => e.outcome === 'denied');
    expect(denied.map((e) => [e.userId, e.details?.reason])).toEqual([
      [dave.id, 'missing_access'],
      [alice.id, 'own_request'],
      [alice.id, 'own_request'],
    ]);
  });

  it('another guild’s press on this approval id is answered exactly like a missing id, and changes nothing', async () => {
    const { first, notifier } = await setup();
    const { approve } = await requestDeployment(first, notifier);
    const foreign = await first.press({ ...carol, id: '300000000000000009' }, approve, { guildId: OTHER_GUILD });
    const missing = await first.press({ ...carol, id: '300000000000000009' }, 'deployapr:approve:77', { guildId: OTHER_GUILD });
    expect(foreign.text()).toMatch(/There is no deployment approval #1 in this server/);
    expect(foreign.text().replace('#1', '#N')).toBe(missing.text().replace('#77', '#N'));
    expect((await approvalRow(first))?.status).toBe('pending');
    const inDm = await first.press(carol, approve, { guildId: null });
    expect(inDm.text()).toMatch(/There is no deployment approval #1/);
  });

  it('expires: the janitor closes it, deletes its plan file, tells the requester once; a later press says it expired', async () => {
    const { first, notifier, clock, dir } = await setup({ env: { DEPLOY_APPROVAL_TTL_MINUTES: '60' } });
    const { approve } = await requestDeployment(first, notifier);
    const { planRunId, expiresAt, requestedAt } = (await approvalRow(first))!;
    expect(expiresAt - requestedAt).toBe(60 * 60_000);
    clock.advanceMinutes(61);
    await first.tick();
    await first.tick();
    expect((await approvalRow(first))?.status).toBe('expired');
    expect(existsSync(planFile(dir, planRunId))).toBe(false);
    expect(await resourceStatuses(first)).toEqual(['destroyed']);
    expect(notifier.dmsTo(alice.id).map((n) => n.title)).toEqual(['Deployment approval expired']);
    const late = await first.press(carol, approve);
    expect(late.text()).toMatch(/Deployment approval #1 expired/);
    expect(late.steps[0]).toMatchObject({ kind: 'update', message: { notices: [{ title: expect.stringMatching(/⌛/) }] } });
    expect(await applyRuns(first)).toEqual([]);
  });

  it('a press past the expiry, before the janitor ran, is refused as expired too', async () => {
    const { first, notifier, clock } = await setup({ env: { DEPLOY_APPROVAL_TTL_MINUTES: '60' } });
    const { approve } = await requestDeployment(first, notifier);
    clock.advanceMinutes(60);
    expect((await first.press(carol, approve)).text()).toMatch(/expired/);
    expect(await applyRuns(first)).toEqual([]);
  });

  it('a policy tightened between the request and the press: refused at the press, plan discarded, requester told', async () => {
    const { first, notifier, dir } = await setup();
    const { approve } = await requestDeployment(first, notifier);
    const { planRunId } = (await approvalRow(first))!;
    await first.say(alice, 'cloud-guild-policy', { action: 'update', allowed_resource_types: 'vm' });
    const press = await first.press(carol, approve);
    expect(press.text()).toMatch(/no longer meets this server’s policy/);
    expect(press.text()).toMatch(/bucket/);
    expect(await approvalRow(first)).toMatchObject({ status: 'refused', closeReason: 'policy' });
    expect(await resourceStatuses(first)).toEqual(['destroyed']);
    expect(existsSync(planFile(dir, planRunId))).toBe(false);
    expect(await applyRuns(first)).toEqual([]);
    expect(notifier.dmsTo(alice.id).map((n) => n.title)).toEqual(['Deployment not applied']);
    expect((await first.app.audit.recent(APP_GUILD, { action: 'deploy.approval' }))[0]).toMatchObject({ userId: carol.id, outcome: 'denied', details: { reason: 'policy' } });
  });

  it('a plan file gone since the request (expired, swept): the press closes it and says the plan cannot be applied', async () => {
    const { first, notifier, dir } = await setup();
    const { approve } = await requestDeployment(first, notifier);
    rmSync(planFile(dir, (await approvalRow(first))!.planRunId));
    const press = await first.press(carol, approve);
    expect(press.text()).toMatch(/can no longer be applied/);
    expect(await approvalRow(first)).toMatchObject({ status: 'expired', closeReason: 'plan_gone' });
    expect(await applyRuns(first)).toEqual([]);
  });

  it('a plan file changed since it was shown is not the one approved: refused at the press, nothing applied', async () => {
    const { first, notifier, dir } = await setup();
    const { approve } = await requestDeployment(first, notifier);
    const { planRunId } = (await approvalRow(first))!;
    writeFileSync(planFile(dir, planRunId), 'another plan');
    const press = await first.press(carol, approve);
    expect(press.text()).toMatch(/Plan #\d+ changed since it was shown, so it is not the one asked to approve/);
    expect(await approvalRow(first)).toMatchObject({ status: 'refused', closeReason: 'plan_gone' });
    expect(existsSync(planFile(dir, planRunId))).toBe(false);
    expect(await applyRuns(first)).toEqual([]);
  });

  it('two reviewers pressing at once (or one pressing twice): applied once, the other told it was already approved', async () => {
    const { first, notifier } = await setup();
    const { approve } = await requestDeployment(first, notifier);
    const [one, two, again] = await Promise.all([first.press(carol, approve), first.press(erin, approve), first.press(carol, approve)]);
    const texts = [one, two, again].map((p) => p.text());
    expect(texts.filter((t) => /Deployed bucket/.test(t))).toHaveLength(1);
    expect(texts.filter((t) => /already approved by <@300000000000000003>/.test(t))).toHaveLength(2);
    expect(await applyRuns(first)).toHaveLength(1);
    expect(await resourceStatuses(first)).toEqual(['active']);
    expect(notifier.dmsTo(alice.id).map((n) => n.title)).toEqual(['Deployment approved']);
  });

  it('a decision notice that could not be sent at the press goes out with the janitor, once', async () => {
    const { first, notifier } = await setup();
    const { reject } = await requestDeployment(first, notifier);
    notifier.failNext(1);
    expect((await first.press(carol, reject)).text()).toMatch(/Rejected by/);
    expect(notifier.dmsTo(alice.id)).toEqual([]);
    await first.tick();
    await first.tick();
    expect(notifier.dmsTo(alice.id).map((n) => n.title)).toEqual(['Deployment rejected']);
  });

  it('a template deployment, its plan in the deployment’s own folder, is approved after a restart and applied there', async () => {
    const { first, boot, notifier, dir } = await setup({ env: { TEMPLATES_DIR: TEMPLATES } });
    expect((await first.say(alice, 'cloud-template', { subcommand: 'enable', name: 'hello' })).text()).toMatch(/enabled/i);
    const reply = await first.say(alice, 'cloud-deploy', { project: 'web', template: 'hello' }, APP_GUILD, APP_CHANNEL, {
      modal: { greeting: 'hi' },
      buttons: [{ buttonId: 'apply', by: alice }],
    });
    expect(reply.text()).toMatch(/Waiting for an admin’s approval/);
    const { planRunId, resourceId } = (await approvalRow(first))!;
    const folder = (await first.app.resources.get(APP_GUILD, resourceId)).workspace!;
    const plan = join(dir, 'deployments', `guild_${APP_GUILD}`, 'web', folder, '.plans', `run-${planRunId}.tfplan`);
    expect(existsSync(plan)).toBe(true);
    await first.stop();

    const after = await boot();
    const approve = notifier.postsIn(APP_CHANNEL).findLast((n) => n.buttons)!.buttons![0]!.customId;
    expect((await after.press(carol, approve)).text()).toMatch(/Approved by/);
    expect((await after.app.resources.get(APP_GUILD, resourceId)).status).toBe('active');
    expect(existsSync(plan)).toBe(false);
  });
});
