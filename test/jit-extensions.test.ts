/**
 * Reminders before a grant ends, with Extend: reviewed like a request, or granted at once within the guild's
 * self-extension allowance. Each reminder exactly once across a crash. Real core, real SQLite, the fake clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import type { Notice } from '../src/notify/notifier.js';
import { APP_CHANNEL, APP_GUILD, appFixture, type bootApp } from './support/jit-request-app.js';
import { shownInDiscord } from './support/shown.js';

const NOTICES = '400000000000000099';
const alice: Actor = { id: '222222222222222222', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '333333333333333333', displayName: 'bob', isBot: false, isGuildAdmin: false };
const dave: Actor = { id: '555555555555555555', displayName: 'dave', isBot: false, isGuildAdmin: false };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(env: Record<string, string> = {}) {
  return appFixture(cleanups, env);
}

async function grantBob(app: Awaited<ReturnType<typeof bootApp>>, minutes = 60) {
  const { grant } = await app.app.jit.grant({
    guildId: APP_GUILD,
    granteeId: bob.id,
    granteeIsBot: false,
    grantedBy: alice.id,
    provider: 'aws',
    level: 'deployer',
    durationMinutes: minutes,
    reason: 'on call',
  });
  return grant;
}

const reminders = (notices: Notice[]) => notices.filter((n) => n.title === 'JIT permission ending soon');
const expiresAt = async (app: Awaited<ReturnType<typeof bootApp>>) => (await app.app.jit.listActive(APP_GUILD, bob.id))[0]?.expiresAt;

describe('the reminder before a grant ends', () => {
  it('goes 10 minutes before the end, by DM and in the notification channel, with Extend, once', async () => {
    const { boot, notifier, clock } = await setup();
    const app = await boot();
    await app.app.policies.update(APP_GUILD, { notificationChannelId: NOTICES }, alice.id);
    const grant = await grantBob(app);
    clock.advanceMinutes(49);
    await app.tick();
    expect(reminders(notifier.dmsTo(bob.id))).toEqual([]);
    clock.advanceMinutes(1);
    await app.tick();
    await app.tick();
    const [dm] = reminders(notifier.dmsTo(bob.id));
    expect(dm?.buttons).toEqual([{ customId: `jitext:extend:${grant.id}`, label: 'Extend', style: 'primary' }]);
    expect(shownInDiscord(dm)).toMatch(/Your Deployer access to AWS in server \\"ACME Corp\\" ends <t:\d+:R>/);
    const [posted] = reminders(notifier.postsIn(NOTICES));
    expect(shownInDiscord(posted)).toMatch(/<@333333333333333333>, your Deployer access/);
    expect(reminders(notifier.sent.map((s) => s.notice))).toHaveLength(2);
  });

  it('is not sent for a grant no longer than the lead, nor at all with JIT_EXPIRY_REMINDER_MINUTES=0', async () => {
    const short = await setup();
    const app = await short.boot();
    await grantBob(app, 10);
    short.clock.advanceMinutes(5);
    await app.tick();
    expect(reminders(short.notifier.dmsTo(bob.id))).toEqual([]);

    const off = await setup({ JIT_EXPIRY_REMINDER_MINUTES: '0' });
    const quiet = await off.boot();
    await grantBob(quiet, 60);
    off.clock.advanceMinutes(55);
    await quiet.tick();
    expect(reminders(off.notifier.dmsTo(bob.id))).toEqual([]);
  });

  it('each channel goes exactly once across a crash: the DM that went is not repeated, the post that failed goes after', async () => {
    const { boot, notifier, clock } = await setup();
    const first = await boot();
    await first.app.policies.update(APP_GUILD, { notificationChannelId: NOTICES }, alice.id);
    await grantBob(first);
    clock.advanceMinutes(51);
    // The DM goes; then the process dies before the channel post.
    notifier.dieAfter(1);
    await first.tick();
    expect(reminders(notifier.dmsTo(bob.id))).toHaveLength(1);
    expect(reminders(notifier.postsIn(NOTICES))).toHaveLength(0);
    await first.stop();

    notifier.dieAfter(Number.POSITIVE_INFINITY);
    const second = await boot();
    await second.tick();
    await second.tick();
    expect(reminders(notifier.dmsTo(bob.id))).toHaveLength(1);
    expect(reminders(notifier.postsIn(NOTICES))).toHaveLength(1);
  });
});

describe('Extend', () => {
  it('asks reviewers from the DM; an approval moves the end, tells the member, and earns a new reminder', async () => {
    const { boot, notifier, clock } = await setup();
    const app = await boot();
    await app.app.policies.update(APP_GUILD, { notificationChannelId: NOTICES }, alice.id);
    const grant = await grantBob(app);
    clock.advanceMinutes(50);
    await app.tick();
    const oldEnd = grant.expiresAt;

    const press = await app.press(bob, `jitext:extend:${grant.id}`, { guildId: null });
    const form = press.form();
    expect(form?.fields.map((f) => [f.id, f.value])).toEqual([['minutes', '60'], ['reason', 'on call']]);
    expect(form?.fields[0]?.label).toMatch(/reviewed/);
    const asked = await app.press(bob, form!.customId, { guildId: null, values: { minutes: '30', reason: 'still on call' } });
    expect(asked.text()).toMatch(/More time asked/);
    expect(await expiresAt(app)).toBe(oldEnd);

    const card = notifier.postsIn(NOTICES).find((n) => n.title === `🙋 JIT extension request #1`);
    expect(shownInDiscord(card)).toMatch(/asks for 30 min more on JIT grant #1/);
    // The holder cannot approve their own extension.
    expect((await app.press(bob, 'jitreq:approve:1', { channelId: NOTICES })).text()).toMatch(/cannot decide your own request/);
    const approve = (await app.press(alice, 'jitreq:approve:1', { channelId: NOTICES })).form();
    expect(approve?.fields[0]?.value).toBe('30');
    await app.press(alice, approve!.customId, { channelId: NOTICES, values: { minutes: '20' } });
    expect(await expiresAt(app)).toBe(oldEnd + 20 * 60_000);
    expect(notifier.dmsTo(bob.id).map((n) => n.title)).toContain('JIT extension approved');
    expect((await app.app.audit.recent(APP_GUILD, { action: 'jit.extend' }))[0]).toMatchObject({ outcome: 'success', details: { addedMinutes: 20, self: false } });

    clock.advanceMinutes(15); // past the old end
    await app.tick();
    expect(await app.app.jit.effectiveLevel({ guildId: APP_GUILD, userId: bob.id, provider: 'aws', isGuildAdmin: false })).toBe('deployer');
    expect(reminders(notifier.dmsTo(bob.id))).toHaveLength(1);
    clock.advanceMinutes(5); // 10 minutes before the new end
    await app.tick();
    await app.tick();
    expect(reminders(notifier.dmsTo(bob.id))).toHaveLength(2);
  });

  it('extends at once within the self-extension allowance, in total per grant; beyond it, reviewers decide', async () => {
    const { boot, notifier, clock } = await setup();
    const app = await boot();
    await app.app.policies.update(APP_GUILD, { jitSelfExtendMinutes: 30 }, alice.id);
    const grant = await grantBob(app);
    clock.advanceMinutes(50);
    await app.tick();

    const form = (await app.press(bob, `jitext:extend:${grant.id}`, { guildId: null })).form();
    expect(form?.fields[0]).toMatchObject({ value: '30', label: 'Minutes more (up to 30 at once)' });
    const done = await app.press(bob, form!.customId, { guildId: null, values: { minutes: '20', reason: 'wrapping up' } });
    expect(done.text()).toMatch(/JIT permission extended/);
    expect(await expiresAt(app)).toBe(grant.expiresAt + 20 * 60_000);
    expect(notifier.sent.filter((s) => shownInDiscord(s.notice).includes('extension request'))).toEqual([]);
    expect((await app.app.audit.recent(APP_GUILD, { action: 'jit.extend' }))[0]).toMatchObject({ userId: bob.id, details: { addedMinutes: 20, self: true } });

    // 10 minutes of allowance left: 20 more needs a reviewer, posted where the press came from (no notification channel).
    const again = (await app.press(bob, `jitext:extend:${grant.id}`)).form();
    expect(again?.fields[0]?.label).toBe('Minutes more (up to 10 at once)');
    const asked = await app.press(bob, again!.customId, { values: { minutes: '20', reason: 'more' } });
    expect(asked.text()).toMatch(/More time asked/);
    expect(notifier.postsIn(APP_CHANNEL).map((n) => n.title)).toContain('🙋 JIT extension request #2');
  });

  it('is refused to anyone but the holder, and once the grant has ended', async () => {
    const { boot, clock } = await setup();
    const app = await boot();
    const grant = await grantBob(app);
    expect((await app.press(dave, `jitext:extend:${grant.id}`)).text()).toMatch(/Only the member holding this grant/);
    expect((await app.press(dave, `jitext:extend-form:${grant.id}`, { values: { minutes: '30', reason: 'x' } })).text()).toMatch(/Only the member holding/);
    clock.advanceMinutes(61);
    expect((await app.press(bob, `jitext:extend:${grant.id}`, { guildId: null })).text()).toMatch(/has already ended/);
  });

  it('from a DM with nowhere to post a review (no notification channel, a grant not from a request), says so at the press', async () => {
    const { boot } = await setup();
    const app = await boot();
    const grant = await grantBob(app);
    const press = await app.press(bob, `jitext:extend:${grant.id}`, { guildId: null });
    expect(press.form()).toBeUndefined();
    expect(press.text()).toMatch(/no notification channel, so there is nowhere to ask reviewers from a direct message/);
    // In the server, the channel of the press is where reviewers are asked.
    expect((await app.press(bob, `jitext:extend:${grant.id}`)).form()).toBeDefined();
  });

  it('an undecided extension request expires with the grant, and the member is told once', async () => {
    const { boot, notifier, clock } = await setup();
    const app = await boot();
    const grant = await grantBob(app);
    clock.advanceMinutes(50);
    const form = (await app.press(bob, `jitext:extend:${grant.id}`)).form();
    await app.press(bob, form!.customId, { values: { minutes: '30', reason: 'please' } });
    clock.advanceMinutes(10);
    await app.tick();
    await app.tick();
    const titles = notifier.dmsTo(bob.id).map((n) => n.title);
    expect(titles.filter((t) => t === 'JIT extension request expired')).toHaveLength(1);
    expect(titles).toContain('JIT permission expired');
    expect((await app.press(alice, 'jitreq:approve:1')).text()).toMatch(/expired/);
  });
});
