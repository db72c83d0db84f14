/**
 * JIT access requests, end to end through the real core and dispatcher on a real SQLite file: a member asks, a
 * reviewer presses Approve or Deny (durable buttons, read from the database at the press), the requester is told,
 * the grant starts at approval and ends on its own. Restarts are two boots over one database folder.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { durableId, parseDurableId } from '../src/interaction/durable-components.js';
import type { Notice } from '../src/notify/notifier.js';
import { APP_CHANNEL, APP_GUILD, appFixture, type bootApp } from './support/jit-request-app.js';
import { shownInDiscord } from './support/shown.js';

const OTHER_GUILD = '999999999999999999';
const NOTICES = '400000000000000099';
const alice: Actor = { id: '222222222222222222', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '333333333333333333', displayName: 'bob', isBot: false, isGuildAdmin: false };
const carol: Actor = { id: '444444444444444444', displayName: 'carol', isBot: false, isGuildAdmin: true };
const dave: Actor = { id: '555555555555555555', displayName: 'dave', isBot: false, isGuildAdmin: false };
const erin: Actor = { id: '666666666666666666', displayName: 'erin', isBot: false, isGuildAdmin: true };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(env: Record<string, string> = {}) {
  return appFixture(cleanups, env);
}

const ask = (duration = 60, reason = 'incident 42', provider = 'aws', level = 'deployer') => ({ provider, level, duration, reason });

/** The button of that label on the latest notice that has one. */
function button(notices: Notice[], label: string): string {
  const withIt = [...notices].reverse().find((n) => n.buttons?.some((b) => b.label === label));
  const found = withIt?.buttons?.find((b) => b.label === label);
  if (!found) throw new Error(`no ${label} button in ${shownInDiscord(notices)}`);
  return found.customId;
}

async function auditActions(app: Awaited<ReturnType<typeof bootApp>>['app'], guildId = APP_GUILD) {
  return (await app.audit.recent(guildId, { limit: 200 })).reverse().map((e) => `${e.action}:${e.outcome}`);
}

const level = (app: Awaited<ReturnType<typeof bootApp>>['app'], userId: string, provider: 'aws' | 'gcp' = 'aws') =>
  app.jit.effectiveLevel({ guildId: APP_GUILD, userId, provider, isGuildAdmin: false });

describe('durable custom ids', () => {
  it('name a namespace, an action and a record, and nothing else parses as one', () => {
    expect(durableId('jitreq', 'approve', 42)).toBe('jitreq:approve:42');
    expect(parseDurableId('jitreq:approve-form:42')).toEqual({ namespace: 'jitreq', action: 'approve-form', recordId: 42 });
    for (const bad of ['jitreq:approve', 'jitreq:approve:0', 'jitreq:approve:-1', 'jitreq:approve:1e3', 'w0a1b2c3:apply', 'JITREQ:approve:1', 'jitreq:approve:42:x']) {
      expect(parseDurableId(bad), bad).toBeUndefined();
    }
    expect(() => durableId('jitreq', 'approve', 0)).toThrow();
  });
});

describe('asking for access', () => {
  it('posts the request with Approve and Deny where it was asked (no notification channel), and tells the requester', async () => {
    const { boot, notifier } = await setup();
    const app = await boot();
    const asked = await app.say(bob, 'cloud-jit-request', ask());
    expect(asked.text()).toMatch(/Your request #1 for \*\*Deployer\*\* access to \*\*AWS\*\* for 1 h was posted in <#400000000000000001>/);
    const [card] = notifier.postsIn(APP_CHANNEL);
    expect(card?.buttons?.map((b) => b.customId)).toEqual(['jitreq:approve:1', 'jitreq:deny:1']);
    expect(shownInDiscord(card)).toMatch(/<@333333333333333333> asks for Deployer access to AWS for 1 h/);
    expect(shownInDiscord(card)).toContain('incident 42');
    expect((await auditActions(app.app))).toContain('jit.request:success');
    // Nothing is granted by asking.
    expect(await level(app.app, bob.id)).toBeNull();
  });

  it('posts in the notification channel when the guild has one', async () => {
    const { boot, notifier } = await setup();
    const app = await boot();
    await app.app.policies.update(APP_GUILD, { notificationChannelId: NOTICES }, alice.id);
    await app.say(bob, 'cloud-jit-request', ask());
    expect(notifier.postsIn(NOTICES)).toHaveLength(1);
    expect(notifier.postsIn(APP_CHANNEL)).toHaveLength(0);
  });

  it('refuses a duration over the guild maximum, a blank reason and a repeat before anything is posted', async () => {
    const { boot, notifier } = await setup();
    const app = await boot();
    await app.app.policies.update(APP_GUILD, { maxJitMinutes: 30 }, alice.id);
    const tooLong = await app.say(bob, 'cloud-jit-request', ask(60));
    expect(tooLong.text()).toMatch(/from 1 to 30 .*; 60 is not\. Nothing was sent/);
    const blank = await app.say(bob, 'cloud-jit-request', ask(20, '   '));
    expect(blank.text()).toMatch(/reason/);
    const missing = await app.say(bob, 'cloud-jit-request', { provider: 'aws', level: 'deployer', duration: 20 });
    expect(missing.text()).toMatch(/`reason`/);
    expect(notifier.sent).toEqual([]);
    expect(await app.app.jitRequests.listPending(APP_GUILD)).toEqual([]);
    expect((await auditActions(app.app)).filter((a) => a === 'jit.request:denied')).toHaveLength(2);

    await app.say(bob, 'cloud-jit-request', ask(20));
    const again = await app.say(bob, 'cloud-jit-request', ask(25, 'again'));
    expect(again.text()).toMatch(/You already asked for this: request #\d+ waits/);
    expect(notifier.sent).toHaveLength(1);
  });
});

describe('reviewing a request', () => {
  it('approve → the grant starts at approval for the minutes approved → DM with its expiry → it expires on its own', async () => {
    const { boot, notifier, clock } = await setup();
    const app = await boot();
    await app.say(bob, 'cloud-jit-request', ask(60));
    clock.advanceMinutes(10);

    const pressed = await app.press(alice, button(notifier.postsIn(APP_CHANNEL), 'Approve'));
    const form = pressed.form();
    expect(form?.customId).toBe('jitreq:approve-form:1');
    expect(form?.fields[0]).toMatchObject({ id: 'minutes', value: '60' });
    // A reviewer may shorten what was asked, not lengthen it.
    const longer = await app.press(alice, form!.customId, { values: { minutes: '90' } });
    expect(longer.text()).toMatch(/from 1 to 60/);
    expect(await level(app.app, bob.id)).toBeNull();

    const approvedAt = clock.now();
    const submitted = await app.press(alice, form!.customId, { values: { minutes: '30' } });
    const card = submitted.steps[0];
    expect(card?.kind).toBe('update');
    expect(shownInDiscord(card)).toMatch(/Approved by <@222222222222222222> for 30 min/);
    expect(shownInDiscord(card)).not.toContain('jitreq:approve');

    const [grant] = await app.app.jit.listActive(APP_GUILD, bob.id);
    expect(grant).toMatchObject({ level: 'deployer', provider: 'aws', grantedAt: approvedAt, expiresAt: approvedAt + 30 * 60_000, grantedBy: alice.id });
    const [dm] = notifier.dmsTo(bob.id);
    expect(dm?.title).toBe('JIT request approved');
    expect(shownInDiscord(dm)).toContain(`<t:${Math.floor((approvedAt + 30 * 60_000) / 1000)}:R>`);
    expect(await level(app.app, bob.id)).toBe('deployer');
    expect((await auditActions(app.app))).toEqual(expect.arrayContaining(['jit.request:success', 'jit.request.approve:success', 'jit.grant:success']));

    clock.advanceMinutes(30);
    expect(await level(app.app, bob.id)).toBeNull();
    await app.tick();
    expect(notifier.dmsTo(bob.id).map((n) => n.title)).toEqual(['JIT request approved', 'JIT permission expired']);
    // The approval's notice went once: the janitor found nothing left to send.
    await app.tick();
    expect(notifier.dmsTo(bob.id)).toHaveLength(2);
  });

  it('deny with words → the requester gets them by DM (or in the channel when DMs are closed), nothing is granted', async () => {
    const { boot, notifier } = await setup();
    const app = await boot();
    notifier.closeDms(bob.id);
    await app.say(bob, 'cloud-jit-request', ask());
    const deny = await app.press(carol, button(notifier.postsIn(APP_CHANNEL), 'Deny'));
    expect(deny.form()?.fields[0]).toMatchObject({ id: 'words', required: false });
    const denied = await app.press(carol, deny.form()!.customId, { values: { words: 'Use the staging account' } });
    expect(shownInDiscord(denied.steps[0])).toMatch(/Denied by <@444444444444444444>/);
    const told = notifier.postsIn(APP_CHANNEL).at(-1);
    expect(told?.title).toBe('JIT request denied');
    expect(shownInDiscord(told)).toMatch(/<@333333333333333333>, your request #1 .* was denied by <@444444444444444444>/);
    expect(shownInDiscord(told)).toContain('Use the staging account');
    expect(await level(app.app, bob.id)).toBeNull();
    expect((await auditActions(app.app))).toContain('jit.request.deny:success');

    // Decided is decided: a second press says so and refreshes the card.
    const late = await app.press(alice, 'jitreq:approve:1');
    expect(late.steps.map((s) => s.kind)).toEqual(['update', 'reply']);
    expect(late.text()).toMatch(/already denied by <@444444444444444444>/);
  });

  it('never lets the requester approve their own request, even as an admin', async () => {
    const { boot, notifier } = await setup();
    const app = await boot();
    await app.say(alice, 'cloud-jit-request', ask());
    const own = await app.press(alice, button(notifier.postsIn(APP_CHANNEL), 'Approve'));
    expect(own.text()).toMatch(/cannot decide your own request, even as an admin/);
    expect(own.form()).toBeUndefined();
    // Nor by submitting the form directly.
    const forged = await app.press(alice, 'jitreq:approve-form:1', { values: { minutes: '60' } });
    expect(forged.text()).toMatch(/cannot decide your own request/);
    expect(await app.app.jitRequests.listPending(APP_GUILD)).toHaveLength(1);
    expect((await auditActions(app.app)).filter((a) => a === 'jit.request.approve:denied')).toHaveLength(2);
  });

  it('refuses members who are not reviewers, accepts a JIT admin on that provider, and checks again at the submit', async () => {
    const { boot, notifier, clock } = await setup();
    const app = await boot();
    await app.say(bob, 'cloud-jit-request', ask());
    const approve = button(notifier.postsIn(APP_CHANNEL), 'Approve');
    const refused = await app.press(dave, approve);
    expect(refused.text()).toMatch(/Only server admins, or members with Admin JIT access to AWS right now, can decide this request/);

    // Admin on another provider is not enough.
    await app.app.jit.grant({ guildId: APP_GUILD, granteeId: dave.id, granteeIsBot: false, grantedBy: alice.id, provider: 'gcp', level: 'admin', durationMinutes: 60 });
    expect((await app.press(dave, approve)).text()).toMatch(/Only server admins/);

    const awsAdmin = await app.app.jit.grant({ guildId: APP_GUILD, granteeId: dave.id, granteeIsBot: false, grantedBy: alice.id, provider: 'aws', level: 'admin', durationMinutes: 5 });
    const form = (await app.press(dave, approve)).form();
    expect(form).toBeDefined();
    // Dave's admin grant runs out while the form is open: the submit is refused, nothing granted.
    clock.advanceMinutes(6);
    const submit = await app.press(dave, form!.customId, { values: { minutes: '60' } });
    expect(submit.text()).toMatch(/Only server admins/);
    expect(await level(app.app, bob.id)).toBeNull();
    expect(awsAdmin.grant.expiresAt).toBeLessThan(clock.now());

    // A server admin whose Manage Server was taken away is refused the same way (the flag comes with each press).
    const demoted = await app.press({ ...carol, isGuildAdmin: false }, form!.customId, { values: { minutes: '60' } });
    expect(demoted.text()).toMatch(/Only server admins/);
    await app.press(carol, form!.customId, { values: { minutes: '60' } });
    expect(await level(app.app, bob.id)).toBe('deployer');
  });

  it('a request for all providers needs a reviewer who is admin on every provider', async () => {
    const { boot, notifier } = await setup();
    const app = await boot();
    await app.say(bob, 'cloud-jit-request', ask(60, 'migration', 'all', 'viewer'));
    await app.app.jit.grant({ guildId: APP_GUILD, granteeId: dave.id, granteeIsBot: false, grantedBy: alice.id, provider: 'aws', level: 'admin', durationMinutes: 60 });
    expect((await app.press(dave, button(notifier.postsIn(APP_CHANNEL), 'Approve'))).text()).toMatch(/Admin JIT access to all providers/);
    await app.app.jit.grant({ guildId: APP_GUILD, granteeId: dave.id, granteeIsBot: false, grantedBy: alice.id, provider: 'all', level: 'admin', durationMinutes: 60 });
    expect((await app.press(dave, 'jitreq:approve:1')).form()).toBeDefined();
  });
});

describe('pending requests', () => {
  it('are listed beside active grants: a member sees their own, an admin everyone’s', async () => {
    const { boot } = await setup();
    const app = await boot();
    await app.say(bob, 'cloud-jit-request', ask(60, 'bob needs it'));
    await app.say(dave, 'cloud-jit-request', ask(30, 'dave needs it', 'gcp', 'viewer'));
    const mine = await app.say(bob, 'cloud-jit-list');
    expect(mine.text()).toMatch(/Your pending requests/);
    expect(mine.text()).toContain('bob needs it');
    expect(mine.text()).not.toContain('dave needs it');
    const all = await app.say(alice, 'cloud-jit-list');
    expect(all.text()).toContain('bob needs it');
    expect(all.text()).toContain('dave needs it');
  });

  it('expire after the configured time and the requester is told once, across a crash', async () => {
    const { boot, notifier, clock } = await setup({ JIT_REQUEST_TTL_MINUTES: '60' });
    const first = await boot();
    await first.say(bob, 'cloud-jit-request', ask());
    clock.advanceMinutes(61);
    // The first process dies with the expiry written but before any notice went out: its notifier is gone.
    notifier.dieAfter(0);
    await first.tick();
    expect(notifier.dmsTo(bob.id)).toEqual([]);
    await first.stop();

    const second = await boot(notifier.dieAfter(Number.POSITIVE_INFINITY));
    await second.tick();
    await second.tick();
    const told = notifier.dmsTo(bob.id);
    expect(told.map((n) => n.title)).toEqual(['JIT request expired']);
    expect(shownInDiscord(told[0])).toMatch(/Ask again with `\/cloud-jit-request`/);
    expect((await auditActions(second.app))).toContain('jit.request.expire:success');
    // A press on the stale card says it expired, and shows it expired.
    const late = await second.press(alice, 'jitreq:approve:1');
    expect(late.text()).toMatch(/expired .* without a decision/);
    expect(await second.app.jitRequests.listPending(APP_GUILD)).toEqual([]);
  });

  it('survive a restart: Approve pressed on the old card after a new start works', async () => {
    const { boot, notifier } = await setup();
    const before = await boot();
    await before.say(bob, 'cloud-jit-request', ask());
    const approve = button(notifier.postsIn(APP_CHANNEL), 'Approve');
    await before.stop();

    const after = await boot();
    const form = (await after.press(alice, approve)).form();
    expect(form).toBeDefined();
    await after.press(alice, form!.customId, { values: { minutes: '45' } });
    expect(await level(after.app, bob.id)).toBe('deployer');
    expect(notifier.dmsTo(bob.id).map((n) => n.title)).toEqual(['JIT request approved']);
  });

  it('a decision notice goes once even when the janitor sweeps while the press sends it', async () => {
    const { boot, notifier } = await setup();
    const app = await boot();
    await app.say(bob, 'cloud-jit-request', ask());
    await app.app.jitRequests.approve({ guildId: APP_GUILD, requestId: 1, reviewer: alice, minutes: 60 });
    await Promise.all([app.app.jitRequests.tellRequester(1), app.tick(), app.app.jitRequests.tellRequester(1)]);
    expect(notifier.dmsTo(bob.id).map((n) => n.title)).toEqual(['JIT request approved']);
  });
});

describe('another guild', () => {
  it('can never see or act on a request or a grant of this guild', async () => {
    const { boot, notifier } = await setup();
    const app = await boot();
    await app.say(bob, 'cloud-jit-request', ask());
    const approve = button(notifier.postsIn(APP_CHANNEL), 'Approve');
    const foreign = await app.press(erin, approve, { guildId: OTHER_GUILD });
    expect(foreign.text()).toMatch(/There is no JIT request #1 in this server/);
    const forged = await app.press(erin, 'jitreq:approve-form:1', { guildId: OTHER_GUILD, values: { minutes: '60' } });
    expect(forged.text()).toMatch(/There is no JIT request #1 in this server/);
    expect((await app.press(erin, 'jitreq:deny-form:1', { guildId: OTHER_GUILD, values: { words: 'no' } })).text()).toMatch(/no JIT request #1/);
    expect((await app.say(erin, 'cloud-jit-list', {}, OTHER_GUILD)).text()).toMatch(/No pending requests/);
    expect(await app.app.jitRequests.listPending(APP_GUILD)).toHaveLength(1);

    const { grant } = await app.app.jit.grant({ guildId: APP_GUILD, granteeId: bob.id, granteeIsBot: false, grantedBy: alice.id, provider: 'aws', level: 'deployer', durationMinutes: 60 });
    expect((await app.press(bob, `jitext:extend:${grant.id}`, { guildId: OTHER_GUILD })).text()).toMatch(new RegExp(`no JIT grant #${grant.id} in this server`));
    // In a DM, a grant is found only among the presser's own.
    expect((await app.press(erin, `jitext:extend:${grant.id}`, { guildId: null })).text()).toMatch(/no JIT grant/);
    expect((await app.app.audit.recent(OTHER_GUILD, { limit: 50 })).filter((e) => e.action.startsWith('jit.request'))).toEqual([]);
  });

  it('a server the bot does not serve (ALLOWED_GUILDS) gets nothing from a press, in its channels or in a DM', async () => {
    const { boot } = await setup({ ALLOWED_GUILDS: OTHER_GUILD });
    const app = await boot();
    const refused = await app.press(alice, 'jitreq:approve:1');
    expect(refused.text()).toMatch(/not enabled for Cloud ChatOps/);
    const { grant } = await app.app.jit.grant({ guildId: APP_GUILD, granteeId: bob.id, granteeIsBot: false, grantedBy: alice.id, provider: 'aws', level: 'deployer', durationMinutes: 60 });
    const fromDm = await app.press(bob, `jitext:extend:${grant.id}`, { guildId: null });
    expect(fromDm.text()).toMatch(/not enabled for Cloud ChatOps/);
    expect(fromDm.form()).toBeUndefined();
  });
});
