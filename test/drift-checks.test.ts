/**
 * Drift checks end to end over the real composition root (SQLite with migrations, runner, sandbox stand-in, janitor)
 * with the stand-in engine and the fake clock: /cloud-drift through the dispatcher, the janitor's job, the report
 * posted to the notification channel and the presses of its durable buttons.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeployService } from '../src/deploy/deploy-service.js';
import type { ShowProgress } from '../src/deploy/steps.js';
import type { Actor } from '../src/interaction/conversation.js';
import type { Notice } from '../src/notify/notifier.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { RecordingPress } from './support/recording-press.js';
import { plain } from '../src/shared/text.js';

const OTHER_GUILD = '222222222222222222';
const CHANNEL = '400000000000000777';
const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };
const quietly: ShowProgress = (run) => run({ onEvent: () => {}, onQueued: () => {} });
const SECRET = 'hunter2-never-shown';
/** A notice as words, without any front end's markup. */
const shownText = (notice: Notice) => [notice.title, notice.description ?? '', ...(notice.fields ?? []).flatMap((f) => [f.name, f.value])].map(plain).join('\n');

describe('drift checks', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  let address: string;
  const app = () => harness.core.app;
  const workspace = () => join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'web');
  const control = (knobs: Record<string, unknown>) => writeFileSync(join(workspace(), 'fake-engine.json'), JSON.stringify(knobs));
  const drifted = () => control({ drift: { [address]: { attributes: { storage_class: 'COLDLINE', labels: { env: 'prod' }, api_token: SECRET }, sensitive: ['api_token'] } } });
  const posted = () => harness.notifier.sent.filter((s) => 'channel' in s.to).map((s) => ({ channel: (s.to as { channel: string }).channel, notice: s.notice }));
  const runsOf = async (kind: string) => (await app().runner.recentRuns(HARNESS_GUILD, 50)).filter((r) => r.kind === kind);
  const invocations = () =>
    readFileSync(join(workspace(), '.fake-engine-invocations.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { argv?: string[] })
      .filter((entry) => entry.argv);
  const checkRow = async () => (await app().drift.deps.checks.list(HARNESS_GUILD))[0]!;
  /** One janitor tick, then the drift checks it started. */
  const tick = async (minutes = 5) => {
    harness.clock.advanceMinutes(minutes);
    await harness.core.janitor.tick();
    await harness.core.driftChecks.idle();
  };
  const press = async (who: Actor, customId: string, guildId: string | null = HARNESS_GUILD) => {
    const recorded = new RecordingPress(who, customId, guildId);
    await harness.dispatcher.handleComponent(recorded);
    return recorded;
  };
  const enable = (options: Record<string, string | number> = {}, who: Actor = alice, guildId = HARNESS_GUILD) =>
    harness.say(who, 'cloud-drift', { subcommand: 'enable', project: 'web', schedule: '*/5 * * * *', ...options }, guildId);

  beforeEach(async () => {
    // Sessions last the whole test: the scheduled checks use the project's vault session.
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN, VAULT_TTL_MINUTES: '1440' });
    const init = await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, { modal: { project_id: 'web-project-123' } });
    expect(init.text()).toMatch(/initialised/);
    await harness.say(alice, 'cloud-guild-policy', { action: 'update', notification_channel: CHANNEL });
    const deploys = DeployService.from(app());
    const prepared = await deploys.prepare({ guildId: HARNESS_GUILD, requester: alice, project: 'web', resourceType: 'bucket', diskSizeGb: 5 });
    if (!prepared.allowed) throw new Error('refused');
    const planned = await deploys.plan(prepared.deployment, quietly);
    if (!planned.ok) throw new Error('plan failed');
    const step = await deploys.decide(planned.deployment, alice);
    if (step.next !== 'apply') throw new Error(step.next);
    const applied = await deploys.apply(step.deployment, quietly);
    if (applied.outcome !== 'applied') throw new Error(applied.outcome);
    address = applied.resource.addresses[0]!;
    harness.notifier.sent.length = 0;
  });
  afterEach(() => harness?.stop());

  it('enables a schedule (validated, stored per guild) and lists it', async () => {
    const bad = await enable({ schedule: 'every tuesday' });
    expect(bad.text()).toMatch(/not a cron expression/);
    expect(await app().drift.deps.checks.list(HARNESS_GUILD)).toEqual([]);
    const hourly = await enable({ schedule: 'hourly' });
    expect(hourly.text()).toMatch(/checked hourly/);
    expect(await app().drift.deps.checks.list(HARNESS_GUILD)).toMatchObject([{ schedule: '0 * * * *' }]);
    const daily = await harness.say(alice, 'cloud-drift', { subcommand: 'enable', project: 'web' });
    expect(daily.text()).toMatch(/daily/);
    expect(await app().drift.deps.checks.list(HARNESS_GUILD)).toMatchObject([{ schedule: '0 6 * * *', nextCheckAt: Date.UTC(2026, 0, 2, 6, 0) }]);
    expect((await harness.say(alice, 'cloud-drift', { subcommand: 'list' })).text()).toMatch(/web.*daily.*not checked yet/s);
    expect((await app().audit.recent(HARNESS_GUILD, { action: 'drift.enable' }))).toHaveLength(2);
  });

  it('no drift: nothing is posted, one log line, and the next check is scheduled', async () => {
    await enable();
    await tick();
    expect(posted()).toEqual([]);
    expect(harness.logs().match(/drift check: no drift/g)).toHaveLength(1);
    expect((await checkRow())).toMatchObject({ lastStatus: 'clean', nextCheckAt: harness.clock.now() + 5 * 60_000 });
    expect(await runsOf('drift')).toMatchObject([{ status: 'succeeded' }]);
    const argv = invocations().map((i) => i.argv!.join(' '));
    expect(argv).toContain(`plan -input=false -no-color -json -refresh-only -detailed-exitcode -out=.plans/run-${(await runsOf('drift'))[0]!.number}.tfplan`);
  });

  it('drift found: the report names resources and attributes, masks the sensitive one, and carries both buttons', async () => {
    await enable();
    drifted();
    await tick();
    const reports = posted();
    expect(reports).toHaveLength(1);
    expect(reports[0]!.channel).toBe(CHANNEL);
    const shown = shownText(reports[0]!.notice);
    expect(shown).toContain(address);
    expect(shown).toMatch(/storage_class.*"COLDLINE"/);
    expect(shown).toMatch(/labels\.env.*"prod"/);
    expect(shown).toMatch(/api_token.*sensitive, not shown/);
    expect(shown).not.toContain(SECRET);
    const checkId = (await checkRow()).id;
    expect(reports[0]!.notice.buttons?.map((b) => b.customId)).toEqual([`drift:reconcile:${checkId}`, `drift:accept:${checkId}`]);
    // Nothing the bot keeps holds the secret: the check's row, its run, the audit log.
    const stored = JSON.stringify([await app().drift.deps.checks.list(HARNESS_GUILD), (await app().runner.recentRuns(HARNESS_GUILD, 50)), (await app().audit.recent(HARNESS_GUILD, { limit: 50 }))]);
    expect(stored).not.toContain(SECRET);
    // The same drift at the next check is not posted again.
    await tick();
    expect(posted()).toHaveLength(1);
    expect((await checkRow())).toMatchObject({ lastStatus: 'drifted' });
  });

  it('a check that cannot run is reported once over several ticks, and again when the reason changes', async () => {
    await enable();
    control({ failPlan: { summary: 'Error: googleapi: 403 Forbidden' } });
    for (let i = 0; i < 3; i++) await tick();
    expect(await runsOf('drift')).toHaveLength(3);
    expect(posted()).toHaveLength(1);
    expect(shownText(posted()[0]!.notice)).toMatch(/could not run[\s\S]*403 Forbidden[\s\S]*said once/);
    // The vault session closes: no credential is a new reason, reported once too.
    const project = await app().projects.get(HARNESS_GUILD, 'web');
    app().vault.close(HARNESS_GUILD, project.vaultSessionId!);
    for (let i = 0; i < 3; i++) await tick();
    expect(posted()).toHaveLength(2);
    expect(shownText(posted()[1]!.notice)).toMatch(/stored credential/);
    expect(await runsOf('drift')).toHaveLength(3);
    expect((await checkRow())).toMatchObject({ lastStatus: 'failed' });
  });

  it('a check is skipped while a deployment’s run holds the workspace, and runs at the next tick', async () => {
    await enable();
    control({ sleepMs: 400 });
    const deploys = DeployService.from(app());
    const prepared = await deploys.prepare({ guildId: HARNESS_GUILD, requester: alice, project: 'web', resourceType: 'bucket', diskSizeGb: 5 });
    if (!prepared.allowed) throw new Error('refused');
    const plansBefore = (await runsOf('plan')).length;
    const planning = deploys.plan(prepared.deployment, quietly);
    // Its run's row is written with the workspace's lease, a few microtasks after the call.
    await vi.waitFor(async () => expect(await runsOf('plan')).toHaveLength(plansBefore + 1), { interval: 5 });
    const due = (await checkRow()).nextCheckAt;
    await tick();
    expect(await runsOf('drift')).toEqual([]);
    expect((await checkRow())).toMatchObject({ lastStatus: 'never', nextCheckAt: due });
    expect(harness.logs()).toMatch(/drift check skipped: the workspace is busy/);
    await planning;
    control({});
    await tick(0);
    expect(await runsOf('drift')).toMatchObject([{ status: 'succeeded' }]);
    expect((await checkRow())).toMatchObject({ lastStatus: 'clean' });
  });

  it('a report stands through a later check that could not run: its buttons still act', async () => {
    await enable();
    drifted();
    await tick();
    control({ failPlan: { summary: 'Error: googleapi: 503 Service Unavailable' } });
    await tick();
    expect((await checkRow())).toMatchObject({ lastStatus: 'failed' });
    expect(posted()).toHaveLength(2);
    drifted();
    const accepted = await press(alice, `drift:accept:${(await checkRow()).id}`);
    expect(accepted.text()).toMatch(/accepted the drift/);
  });

  it('Accept refreshes the state (apply -refresh-only), is audited, and the next check finds no drift', async () => {
    await enable();
    drifted();
    await tick();
    const checkId = (await checkRow()).id;
    const accepted = await press(alice, `drift:accept:${checkId}`);
    expect(accepted.text()).toMatch(/accepted the drift/);
    expect(invocations().some((i) => i.argv!.join(' ') === 'apply -input=false -no-color -json -refresh-only -auto-approve')).toBe(true);
    expect(await runsOf('refresh')).toMatchObject([{ status: 'succeeded', startedBy: alice.id }]);
    expect((await app().audit.recent(HARNESS_GUILD, { action: 'drift.accept' }))).toMatchObject([{ userId: alice.id, outcome: 'success' }]);
    // The report no longer stands: a second press says so.
    const again = await press(alice, `drift:accept:${checkId}`);
    expect(again.text()).toMatch(/no longer stands/);
    await tick();
    expect((await checkRow())).toMatchObject({ lastStatus: 'clean' });
    expect(posted()).toHaveLength(1);
  });

  it('Plan to reconcile plans with the policy check and offers Apply, which puts the cloud back', async () => {
    await enable();
    drifted();
    await tick();
    const checkId = (await checkRow()).id;
    const planned = await press(alice, `drift:reconcile:${checkId}`);
    const last = planned.steps.at(-1);
    if (last?.kind !== 'update') throw new Error('no update');
    const card = last.message.notices![0] as Notice;
    expect(shownText(card)).toMatch(/1 to update/);
    expect(card.buttons?.map((b) => b.customId)).toEqual([`drift:apply:${checkId}`, `drift:accept:${checkId}`]);
    const planRunId = (await checkRow()).reconcilePlanRunId!;
    expect((await runsOf('plan')).find((r) => r.number === planRunId)).toMatchObject({ status: 'succeeded', applicable: true });
    const applied = await press(alice, `drift:apply:${checkId}`);
    expect(applied.text()).toMatch(/reconciled/);
    expect((await runsOf('apply'))[0]).toMatchObject({ status: 'succeeded', startedBy: alice.id });
    expect(await app().audit.recent(HARNESS_GUILD, { action: 'drift.reconcile.apply' })).toMatchObject([{ outcome: 'success', details: { planRunId } }]);
    expect((await checkRow())).toMatchObject({ lastStatus: 'clean', reconcilePlanRunId: null });
  });

  it('a reconcile plan the policy refuses is discarded, and the report keeps its buttons', async () => {
    await enable();
    drifted();
    await tick();
    await harness.say(alice, 'cloud-guild-policy', { action: 'update', allowed_resource_types: 'vm' });
    const checkId = (await checkRow()).id;
    const refused = await press(alice, `drift:reconcile:${checkId}`);
    expect(refused.text()).toMatch(/refused by the guild's policy/);
    expect((await checkRow())).toMatchObject({ lastStatus: 'drifted', reconcilePlanRunId: null });
    expect(await app().audit.recent(HARNESS_GUILD, { action: 'drift.reconcile.plan' })).toMatchObject([{ outcome: 'denied' }]);
    const apply = await press(alice, `drift:apply:${checkId}`);
    expect(apply.text()).toMatch(/no reconcile plan to apply/);
  });

  it('Apply of a reconcile plan is checked against the policy as it is at the press, not as it was at the plan', async () => {
    await enable();
    drifted();
    await tick();
    const checkId = (await checkRow()).id;
    await press(alice, `drift:reconcile:${checkId}`);
    const planRunId = (await checkRow()).reconcilePlanRunId!;
    expect(planRunId).toBeGreaterThan(0);
    const appliesBefore = (await runsOf('apply')).length;
    // Tightened while the Apply button waited.
    await harness.say(alice, 'cloud-guild-policy', { action: 'update', allowed_resource_types: 'vm' });
    const refused = await press(alice, `drift:apply:${checkId}`);
    expect(refused.text()).toMatch(/policy no longer allows this reconcile plan \(resource_type/);
    expect(await runsOf('apply')).toHaveLength(appliesBefore);
    expect((await runsOf('plan')).find((r) => r.number === planRunId)).toMatchObject({ applicable: false });
    expect(await app().audit.recent(HARNESS_GUILD, { action: 'drift.reconcile.apply' })).toMatchObject([{ outcome: 'denied' }]);
    expect((await checkRow())).toMatchObject({ lastStatus: 'drifted', reconcilePlanRunId: null });
  });

  it('non-admins and other guilds can neither see nor act on any of it', async () => {
    await enable();
    drifted();
    await tick();
    const checkId = (await checkRow()).id;
    for (const action of ['accept', 'reconcile', 'apply']) {
      const denied = await press(bob, `drift:${action}:${checkId}`);
      expect(denied.text()).toMatch(/Manage Server/);
      const foreign = await press(alice, `drift:${action}:${checkId}`, OTHER_GUILD);
      expect(foreign.text()).toMatch(/no drift check/);
      const inDm = await press(alice, `drift:${action}:${checkId}`, null);
      expect(inDm.text()).toMatch(/no drift check/);
    }
    expect(await runsOf('refresh')).toEqual([]);
    expect(await runsOf('plan')).toHaveLength(1);
    expect((await checkRow())).toMatchObject({ lastStatus: 'drifted' });
    expect(await app().audit.recent(HARNESS_GUILD, { action: 'drift.accept' })).toMatchObject([{ userId: bob.id, outcome: 'denied' }]);
    expect((await harness.say(bob, 'cloud-drift', { subcommand: 'list' })).text()).toMatch(/server admins/);
    expect((await harness.say(alice, 'cloud-drift', { subcommand: 'list' }, OTHER_GUILD)).text()).toMatch(/None yet/);
    expect((await enable({}, alice, OTHER_GUILD)).text()).toMatch(/no project .*web/);
    expect((await harness.say(alice, 'cloud-drift', { subcommand: 'disable', project: 'web' }, OTHER_GUILD)).text()).toMatch(/no project .*web/);
    expect(await app().drift.deps.checks.list(OTHER_GUILD)).toEqual([]);
  });

  it('check now runs the same check at once; disable stops the schedule', async () => {
    expect((await harness.say(alice, 'cloud-drift', { subcommand: 'check', project: 'web' })).text()).toMatch(/no drift check/);
    await enable();
    drifted();
    const now = await harness.say(alice, 'cloud-drift', { subcommand: 'check', project: 'web' });
    expect(now.text()).toMatch(/Drift found/);
    expect(posted()).toHaveLength(1);
    expect((await harness.say(alice, 'cloud-drift', { subcommand: 'disable', project: 'web' })).text()).toMatch(/off/);
    await tick();
    expect(await runsOf('drift')).toHaveLength(1);
  });
});

describe('drift checks and the engine slots', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  afterEach(() => harness?.stop());

  it('a due check waits while every engine slot is taken, so members’ runs never queue behind it', async () => {
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN, VAULT_TTL_MINUTES: '1440', MAX_CONCURRENT_RUNS: '1' });
    const app = harness.core.app;
    for (const name of ['web', 'api']) {
      await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: name, region: 'us-central1' }, HARNESS_GUILD, { modal: { project_id: `${name}-project-123` } });
    }
    await harness.say(alice, 'cloud-drift', { subcommand: 'enable', project: 'web', schedule: '*/5 * * * *' });
    writeFileSync(join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'api', 'fake-engine.json'), JSON.stringify({ sleepMs: 400 }));
    const deploys = DeployService.from(app);
    const prepared = await deploys.prepare({ guildId: HARNESS_GUILD, requester: alice, project: 'api', resourceType: 'bucket', diskSizeGb: 5 });
    if (!prepared.allowed) throw new Error('refused');
    const planning = deploys.plan(prepared.deployment, quietly);
    harness.clock.advanceMinutes(5);
    const report = await harness.core.janitor.tick();
    await harness.core.driftChecks.idle();
    expect(report.jobs.find((j) => j.job === 'drift-checks')).toMatchObject({ ok: true, counts: { started: 0, no_slot: 1 } });
    expect((await app.runner.recentRuns(HARNESS_GUILD, 50)).filter((r) => r.kind === 'drift')).toEqual([]);
    await planning;
    await harness.core.janitor.tick();
    await harness.core.driftChecks.idle();
    expect((await app.runner.recentRuns(HARNESS_GUILD, 50)).filter((r) => r.kind === 'drift')).toMatchObject([{ status: 'succeeded' }]);
  });
});

describe('drift checks of a template deployment', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  afterEach(() => harness?.stop());

  it('checks the deployment in its own folder, reports it by name, and Accept refreshes that folder’s state', async () => {
    const templates = join(import.meta.dirname, 'fixtures/templates');
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN, VAULT_TTL_MINUTES: '1440', TEMPLATES_DIR: templates });
    const app = harness.core.app;
    await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, { modal: { project_id: 'web-project-123' } });
    await harness.say(alice, 'cloud-guild-policy', { action: 'update', notification_channel: CHANNEL });
    await harness.say(alice, 'cloud-template', { subcommand: 'enable', name: 'hello' });
    const deployed = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'hello' }, HARNESS_GUILD, { modal: { greeting: 'hi' }, buttons: [{ buttonId: 'apply', by: alice }] });
    expect(deployed.text()).toMatch(/applied|Deployed|complete/i);
    const deployment = (await app.resources.listByGuild(HARNESS_GUILD)).find((r) => r.workspace !== null && r.status === 'active')!;
    const folder = join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'web', deployment.workspace!);
    writeFileSync(join(folder, 'fake-engine.json'), JSON.stringify({ drift: { 'terraform_data.hello': { attributes: { input: 'changed by hand' } } } }));

    const enabled = await harness.say(alice, 'cloud-drift', { subcommand: 'enable', project: 'web', deployment: deployment.id, schedule: '*/5 * * * *' });
    expect(enabled.text()).toContain(`#${deployment.id}`);
    // Not a deployment of this project: refused, nothing stored.
    expect((await harness.say(alice, 'cloud-drift', { subcommand: 'enable', project: 'web', deployment: 9999 })).text()).toMatch(/no resource #9999/);
    harness.clock.advanceMinutes(5);
    await harness.core.janitor.tick();
    await harness.core.driftChecks.idle();
    const reports = harness.notifier.sent.filter((s) => 'channel' in s.to && s.notice.buttons?.length);
    expect(reports).toHaveLength(1);
    const shown = shownText(reports[0]!.notice);
    expect(shown).toContain(`web/${deployment.name}`);
    // The stand-in keeps an interpolated value as "(interpolated)" in its state.
    expect(shown).toMatch(/input: "\(interpolated\)" → "changed by hand"/);
    const run = (await app.runner.recentRuns(HARNESS_GUILD, 50)).find((r) => r.kind === 'drift')!;
    expect(run).toMatchObject({ resourceId: deployment.id, status: 'succeeded' });

    const check = (await app.drift.deps.checks.list(HARNESS_GUILD))[0]!;
    const accepted = new RecordingPress(alice, `drift:accept:${check.id}`, HARNESS_GUILD);
    await harness.dispatcher.handleComponent(accepted);
    const state = JSON.parse(readFileSync(join(folder, 'terraform.tfstate'), 'utf8')) as { resources: Array<{ instances: Array<{ attributes: { input: string } }> }> };
    expect(state.resources[0]!.instances[0]!.attributes.input).toBe('changed by hand');
    expect((await app.resources.get(HARNESS_GUILD, deployment.id)).status).toBe('active');
  });
});
