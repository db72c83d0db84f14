/**
 * JIT access is checked again at every step that acts (the Apply press, an approval, the apply itself, a destroy
 * confirmation), not only when the command starts: a grant that expires or is revoked meanwhile stops the step.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };
const dave: Actor = { id: '300000000000000004', displayName: 'dave', isBot: false, isGuildAdmin: false };
const bucket = { project: 'web', resource_type: 'bucket', disk_size: 5 };

describe('access re-checked at each step that acts', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  const grant = (who: Actor, level: 'deployer' | 'admin', minutes: number) =>
    harness.say(alice, 'cloud-jit-grant', { user: { id: who.id, displayName: who.displayName, isBot: false }, provider: 'gcp', level, duration: minutes });
  const resources = () => harness.core.app.resources.listByGuild(HARNESS_GUILD);
  const applyRuns = async () => (await harness.core.app.runner.recentRuns(HARNESS_GUILD)).filter((r) => r.kind === 'apply');
  const deniedAudit = async (action: string) =>
    (await harness.core.app.audit.recent(HARNESS_GUILD, { action })).filter((e) => e.outcome === 'denied');

  beforeEach(async () => {
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    const init = await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, {
      modal: { project_id: 'web-project-123' },
    });
    expect(init.text()).toMatch(/initialised/);
  });
  afterEach(() => harness?.stop());

  it('a deployer whose grant expires while the Apply button waits gets no apply: plan discarded, audited, told why', async () => {
    await grant(bob, 'deployer', 10);
    const reply = await harness.say(bob, 'cloud-deploy', bucket, HARNESS_GUILD, {
      buttons: [{ buttonId: 'apply', by: bob, beforePress: () => harness.clock.advanceMinutes(11) }],
    });
    expect(reply.text()).toMatch(/Plan for web/);
    expect(reply.text()).toMatch(/Not applied/);
    expect(reply.text()).toMatch(/needs Deployer access to GCP for this step and has no access to GCP now/);
    expect(reply.text()).toMatch(/JIT grant #\d+ expired/);
    expect(reply.text()).toMatch(/The plan was discarded; nothing was applied/);
    expect(reply.text()).toMatch(/cloud-jit-grant.*provider: gcp, level: deployer/);
    expect(reply.text()).not.toMatch(/Deployed bucket/);
    expect(await applyRuns()).toEqual([]);
    expect((await resources()).map((r) => r.status)).toEqual(['destroyed']);
    const [entry] = await deniedAudit('deploy.apply');
    expect(entry).toMatchObject({ userId: bob.id, details: { reason: 'missing_access', step: 'apply.press', needed: 'deployer', held: null, grantEnded: 'expired' } });
  });

  it('an admin pressing Apply for a requester whose grant was revoked applies nothing, naming the requester', async () => {
    await grant(bob, 'deployer', 60);
    const reply = await harness.say(bob, 'cloud-deploy', bucket, HARNESS_GUILD, {
      buttons: [{ buttonId: 'apply', by: alice, beforePress: async () => void (await harness.say(alice, 'cloud-jit-revoke', { user: { id: bob.id, displayName: 'bob', isBot: false } })) }],
    });
    expect(reply.text()).toContain(`<@${bob.id}> (the requester) needs Deployer access to GCP`);
    expect(reply.text()).toMatch(new RegExp(`revoked by <@${alice.id}>`));
    expect(await applyRuns()).toEqual([]);
    expect((await resources()).map((r) => r.status)).toEqual(['destroyed']);
  });

  it('a grant revoked while the approval waits: the admin approves, yet nothing is applied', async () => {
    await harness.say(alice, 'cloud-guild-policy', { action: 'update', require_approval: true });
    await grant(bob, 'deployer', 60);
    const carol: Actor = { id: '300000000000000003', displayName: 'carol', isBot: false, isGuildAdmin: true };
    await harness.say(bob, 'cloud-deploy', bucket, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: bob }] });
    await harness.say(alice, 'cloud-jit-revoke', { user: { id: bob.id, displayName: 'bob', isBot: false } });
    const press = await harness.press(carol, harness.durableButton('Approve'));
    expect((await harness.core.app.audit.recent(HARNESS_GUILD, { action: 'deploy.approval' }))[0]).toMatchObject({ userId: carol.id, outcome: 'success' });
    expect(press.text()).toMatch(/Not applied/);
    expect(press.text()).toMatch(/JIT grant #\d+ was revoked/);
    expect(await applyRuns()).toEqual([]);
    expect((await resources()).map((r) => r.status)).toEqual(['destroyed']);
    expect((await deniedAudit('deploy.apply'))[0]?.details).toMatchObject({ step: 'apply.start', grantEnded: 'revoked' });
  });

  it('a JIT admin may approve while the grant is in force, and not once it has expired', async () => {
    await harness.say(alice, 'cloud-guild-policy', { action: 'update', require_approval: true });
    await grant(bob, 'deployer', 60);
    await grant(dave, 'admin', 10);
    await harness.say(bob, 'cloud-deploy', bucket, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: bob }] });
    expect((await harness.press(dave, harness.durableButton('Approve'))).text()).toMatch(/Deployed bucket/);

    await harness.say(bob, 'cloud-deploy', bucket, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: bob }] });
    harness.clock.advanceMinutes(11);
    const refusal = (await harness.press(dave, harness.durableButton('Approve'))).text();
    expect(refusal).toMatch(/Only server admins/);
    expect(refusal).toMatch(/needs Admin access to GCP for this step and has no access to GCP now/);
    expect(refusal).toMatch(/expired/);
    expect(refusal).not.toMatch(/Deployed bucket/);
    expect((await resources()).filter((r) => r.status === 'active')).toHaveLength(1);
    expect((await deniedAudit('deploy.approval')).find((e) => e.details?.reason === 'missing_access')).toMatchObject({ userId: dave.id });
  });

  it('a destroy confirmed after the admin grant expired destroys nothing and says why', async () => {
    const deployed = await harness.say(alice, 'cloud-deploy', bucket, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: alice }] });
    expect(deployed.text()).toMatch(/Deployed bucket/);
    await grant(dave, 'admin', 10);
    const reply = await harness.say(dave, 'cloud-destroy', { project: 'web' }, HARNESS_GUILD, {
      buttons: [{ buttonId: 'destroy', by: dave, beforePress: () => harness.clock.advanceMinutes(11) }],
    });
    expect(reply.text()).toMatch(/Not destroyed/);
    expect(reply.text()).toMatch(/needs Admin access to GCP for this step/);
    expect(reply.text()).toMatch(/Nothing was destroyed/);
    expect((await resources()).map((r) => r.status)).toEqual(['active']);
    expect((await harness.core.app.runner.recentRuns(HARNESS_GUILD)).filter((r) => r.kind === 'destroy')).toEqual([]);
    expect((await deniedAudit('deploy.destroy'))[0]).toMatchObject({ userId: dave.id, details: { step: 'destroy.press', needed: 'admin' } });
  });
});
