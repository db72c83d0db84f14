/**
 * Deployments that expire (issue 14 part 3): the ttl option and the guild's default and maximum, reminders before
 * the end exactly once across a crash, the destroy at the end (succeeding, failing then retried, without a
 * credential), Extend within and beyond the maximum, Destroy now, and another guild. Real core, real SQLite, the
 * stand-in engine, the fake clock.
 */
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import type { Notice } from '../src/notify/notifier.js';
import { shownInDiscord } from './support/shown.js';
import { TTL_GUILD, ttlFixture } from './support/ttl-app.js';

const NOTICES = '400000000000000099';
const TEMPLATES = fileURLToPath(new URL('./fixtures/templates', import.meta.url));
const OTHER_GUILD = '999999999999999999';
const alice: Actor = { id: '222222222222222222', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '333333333333333333', displayName: 'bob', isBot: false, isGuildAdmin: false };
const HOUR = 60;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Bot = Awaited<ReturnType<ReturnType<typeof ttlFixture>['boot']>>;

/** A gcp project "web" with a vault session lasting a day, and the notification channel set. */
async function project(bot: Bot) {
  const init = await bot.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, { modal: { project_id: 'web-project-123' } });
  expect(init.text()).toMatch(/initialised/);
  await bot.app.policies.update(TTL_GUILD, { notificationChannelId: NOTICES }, alice.id);
}

async function deploy(bot: Bot, options: Record<string, string | number> = {}, by: Actor = alice) {
  return bot.say(by, 'cloud-deploy', { project: 'web', resource_type: 'bucket', disk_size: 5, ...options }, { buttons: [{ buttonId: 'apply', by }] });
}

const deployed = async (bot: Bot) => (await bot.app.resources.listByGuild(TTL_GUILD)).filter((r) => r.status === 'active');
const titled = (notices: Notice[], title: string) => notices.filter((n) => n.title === title);
const reminders = (notices: Notice[]) => titled(notices, 'Deployment ending soon');
const workspace = (dir: string) => join(dir, 'deployments', `guild_${TTL_GUILD}`, 'web');

function setup(env: Record<string, string> = {}) {
  return ttlFixture(cleanups, { VAULT_TTL_MINUTES: String(24 * 60), ...env });
}

describe('the ttl option and the guild policy', () => {
  it('changes nothing for a guild that set no TTL: no end, no reminder, no destroy', async () => {
    const { boot, clock, notifier } = setup();
    const bot = await boot();
    await project(bot);
    expect((await deploy(bot)).text()).toMatch(/Deployed bucket/);
    expect((await deployed(bot))[0]?.expiresAt).toBeNull();
    clock.advanceMinutes(30 * 24 * HOUR);
    await bot.tick();
    expect(await deployed(bot)).toHaveLength(1);
    expect(reminders(notifier.sent.map((s) => s.notice))).toEqual([]);
  });

  it('refuses a malformed ttl and one above the maximum before any plan, saying what to type', async () => {
    const { boot } = setup();
    const bot = await boot();
    await project(bot);
    expect((await deploy(bot, { ttl: 'soon' })).text()).toMatch(/the ttl must be a length such as 90m, 4h, 3d/);
    await bot.say(alice, 'cloud-guild-policy', { action: 'update', max_ttl: '1d' });
    const refused = await deploy(bot, { ttl: '3d' });
    expect(refused.text()).toMatch(/A time to live of 3 days is above this server's maximum of 24 h/);
    expect(refused.text()).toMatch(/ttl:1d/);
    expect((await deploy(bot, { ttl: 'none' })).text()).toMatch(/ttl:none.{0,10} is not allowed/);
    // Nothing was planned: no row at all.
    expect(await bot.app.resources.listByGuild(TTL_GUILD)).toEqual([]);
  });

  it('starts the clock at the apply, with the ttl asked or else the guild default; /cloud-projects shows the time left', async () => {
    const { boot, clock } = setup();
    const bot = await boot();
    await project(bot);
    const policy = await bot.say(alice, 'cloud-guild-policy', { action: 'update', default_ttl: '4h', max_ttl: '3d' });
    expect(policy.text()).toMatch(/Default TTL/);
    expect((await bot.say(alice, 'cloud-guild-policy', { action: 'view' })).text()).toMatch(/Max TTL[\s\S]*3 days/);
    const first = await deploy(bot);
    expect(first.text()).toMatch(/Time to live/);
    expect((await deployed(bot))[0]?.expiresAt).toBe(clock.now() + 4 * HOUR * 60_000);
    clock.advanceMinutes(10);
    await deploy(bot, { ttl: '90m' });
    expect((await deployed(bot))[1]?.expiresAt).toBe(clock.now() + 90 * 60_000);
    const listing = await bot.say(bob, 'cloud-projects');
    expect(listing.text()).toMatch(/#1 bucket.*⏳ destroyed <t:\d+:R>/);
    // A default above the maximum is refused.
    expect((await bot.say(alice, 'cloud-guild-policy', { action: 'update', default_ttl: '4d' })).text()).toMatch(/must not be above the maximum TTL/);
  });
});

describe('a template deployment with a time to live', () => {
  it('is refused above the maximum before any form, else expires and is destroyed in its own folder', async () => {
    const { boot, clock, notifier } = setup({ TEMPLATES_DIR: TEMPLATES });
    const bot = await boot();
    await project(bot);
    expect((await bot.say(alice, 'cloud-template', { subcommand: 'enable', name: 'hello' })).text()).toMatch(/enabled/i);
    await bot.say(alice, 'cloud-guild-policy', { action: 'update', max_ttl: '3h' });
    const refused = await bot.say(alice, 'cloud-deploy', { project: 'web', template: 'hello', ttl: '5h' }, { modal: { greeting: 'hi' } });
    expect(refused.text()).toMatch(/above this server's maximum of 3 h/);
    expect(refused.steps.some((step) => step.kind === 'modal')).toBe(false);

    const applied = await bot.say(alice, 'cloud-deploy', { project: 'web', template: 'hello', ttl: '2h' }, { modal: { greeting: 'hi' }, buttons: [{ buttonId: 'apply', by: alice }] });
    expect(applied.text()).toMatch(/Deployed hello/);
    const [row] = await deployed(bot);
    expect(row).toMatchObject({ template: 'hello', expiresAt: clock.now() + 2 * HOUR * 60_000 });
    clock.advanceMinutes(2 * HOUR);
    await bot.tick();
    expect((await bot.app.resources.get(TTL_GUILD, row!.id)).status).toBe('destroyed');
    expect(shownInDiscord(titled(notifier.dmsTo(alice.id), 'Deployment expired and destroyed')[0])).toMatch(/\(hello\)/);
  }, 90_000);
});

describe('reminders before the end', () => {
  it('go 24 h and 1 h before, by DM and in the channel, with Extend and Destroy now, each exactly once across a crash', async () => {
    const { boot, clock, notifier } = setup();
    const first = await boot();
    await project(first);
    await deploy(first, { ttl: '3d' });
    const id = (await deployed(first))[0]!.id;
    clock.advanceMinutes(48 * HOUR - 1);
    await first.tick();
    expect(reminders(notifier.dmsTo(alice.id))).toEqual([]);
    clock.advanceMinutes(1);
    // The DM goes; then the process dies before the channel post.
    notifier.dieAfter(1);
    await first.tick();
    await first.stop();
    expect(reminders(notifier.dmsTo(alice.id))).toHaveLength(1);
    expect(reminders(notifier.postsIn(NOTICES))).toHaveLength(0);

    notifier.dieAfter(Number.POSITIVE_INFINITY);
    const second = await boot();
    await second.tick();
    await second.tick();
    const [dm] = reminders(notifier.dmsTo(alice.id));
    const [posted] = reminders(notifier.postsIn(NOTICES));
    expect(reminders(notifier.dmsTo(alice.id))).toHaveLength(1);
    expect(reminders(notifier.postsIn(NOTICES))).toHaveLength(1);
    expect(dm?.buttons?.map((b) => [b.customId, b.label])).toEqual([[`ttl:extend:${id}`, 'Extend'], [`ttl:destroy:${id}`, 'Destroy now']]);
    expect(shownInDiscord(dm)).toMatch(/Your deployment #\d+ \(bucket\) of project \*\*web\*\* in server \\"ACME Corp\\" reaches the end of its time to live <t:\d+:R>/);
    expect(shownInDiscord(posted)).toMatch(/<@222222222222222222>, your deployment/);

    // The buttons of a reminder the first process sent work in the second: they name the deployment.
    expect((await second.press(alice, `ttl:extend:${id}`, { guildId: null })).form()?.customId).toBe(`ttl:extend-form:${id}`);

    clock.advanceMinutes(23 * HOUR);
    await second.tick();
    await second.tick();
    expect(reminders(notifier.dmsTo(alice.id))).toHaveLength(2);
    expect(reminders(notifier.postsIn(NOTICES))).toHaveLength(2);
  });

  it('an extension makes the reminder queued for the old end stale, and earns one for the new end', async () => {
    const { boot, clock, notifier } = setup({ TTL_REMINDER_LEADS: '1h' });
    const bot = await boot();
    await project(bot);
    await deploy(bot, { ttl: '4h' });
    const id = (await deployed(bot))[0]!.id;
    clock.advanceMinutes(3 * HOUR);
    notifier.failNext(1);
    await bot.tick(); // queued; the DM failed, to be tried again
    await bot.press(alice, `ttl:extend-form:${id}`, { guildId: null, values: { more: '2h' } });
    await bot.tick();
    expect(reminders(notifier.dmsTo(alice.id))).toHaveLength(0);
    clock.advanceMinutes(2 * HOUR);
    await bot.tick();
    expect(reminders(notifier.dmsTo(alice.id))).toHaveLength(1);
  });

  it('say at the first reminder when no credential will be there to destroy it, and how to fix that', async () => {
    const { boot, clock, notifier } = setup({ VAULT_TTL_MINUTES: '30' });
    const bot = await boot();
    await project(bot);
    await deploy(bot, { ttl: '3d' });
    clock.advanceMinutes(48 * HOUR);
    await bot.tick();
    const [dm] = reminders(notifier.dmsTo(alice.id));
    expect(shownInDiscord(dm)).toMatch(/cannot be destroyed unattended yet/);
    expect(shownInDiscord(dm)).toMatch(/No gcp credential is available/);
    expect(shownInDiscord(dm)).toMatch(/\/cloud-init/);
  });

  it('a bot down past both leads sends only the nearer one', async () => {
    const { boot, clock, notifier } = setup();
    const bot = await boot();
    await project(bot);
    await deploy(bot, { ttl: '3d' });
    clock.advanceMinutes(71 * HOUR + 30);
    await bot.tick();
    await bot.tick();
    expect(reminders(notifier.dmsTo(alice.id))).toHaveLength(1);
  });
});

describe('the destroy at the end', () => {
  it('destroys through the normal destroy path, posts progress, tells the deployer and marks it expired', async () => {
    const { boot, clock, notifier } = setup();
    const bot = await boot();
    await project(bot);
    await deploy(bot, { ttl: '4h' });
    const id = (await deployed(bot))[0]!.id;
    clock.advanceMinutes(4 * HOUR);
    await bot.tick();
    const row = await bot.app.resources.get(TTL_GUILD, id);
    expect(row.status).toBe('destroyed');
    expect(titled(notifier.postsIn(NOTICES), '🧨 Time to live over: destroying')).toHaveLength(1);
    expect(titled(notifier.dmsTo(alice.id), 'Deployment expired and destroyed')).toHaveLength(1);
    expect(titled(notifier.postsIn(NOTICES), 'Deployment expired and destroyed')).toHaveLength(1);
    expect((await bot.app.audit.recent(TTL_GUILD, { action: 'deploy.destroy' }))[0]).toMatchObject({ outcome: 'success', userId: 'system' });
    clock.advanceMinutes(60);
    await bot.tick();
    expect(titled(notifier.dmsTo(alice.id), 'Deployment expired and destroyed')).toHaveLength(1);
  });

  it('a crash between the "expired" DM and its channel post sends the post after the restart, never a second DM', async () => {
    const crashed = setup();
    const first = await crashed.boot();
    await project(first);
    await deploy(first, { ttl: '4h' });
    crashed.clock.advanceMinutes(4 * HOUR);
    const hold = crashed.notifier.holdNextPostTitled('Deployment expired and destroyed');
    // The first process destroys, sends the DM, and is stopped for good while posting to the channel.
    void first.tick();
    await hold.reached;
    expect(titled(crashed.notifier.dmsTo(alice.id), 'Deployment expired and destroyed')).toHaveLength(1);
    // What the crash leaves on disk (the database and its WAL, as they are at that moment) is the next bot's start.
    const restarted = setup();
    for (const file of readdirSync(crashed.dir).filter((name) => /^db\.sqlite(-wal)?$/.test(name))) {
      copyFileSync(join(crashed.dir, file), join(restarted.dir, file));
    }
    hold.cut();
    restarted.clock.advanceMinutes(4 * HOUR + 1);
    const second = await restarted.boot();
    await second.tick();
    await second.tick();
    expect(titled(restarted.notifier.dmsTo(alice.id), 'Deployment expired and destroyed')).toHaveLength(0);
    expect(titled(restarted.notifier.postsIn(NOTICES), 'Deployment expired and destroyed')).toHaveLength(1);
  });

  it('a refused DM, a crash during the channel post and a failing post after the restart: recorded as failed, not sent', async () => {
    const crashed = setup();
    const first = await crashed.boot();
    await project(first);
    await deploy(first, { ttl: '4h' });
    const id = (await deployed(first))[0]!.id;
    crashed.notifier.closeDms(alice.id);
    crashed.clock.advanceMinutes(4 * HOUR);
    const hold = crashed.notifier.holdNextPostTitled('Deployment expired and destroyed');
    void first.tick();
    await hold.reached;
    const restarted = setup();
    for (const file of readdirSync(crashed.dir).filter((name) => /^db\.sqlite(-wal)?$/.test(name))) {
      copyFileSync(join(crashed.dir, file), join(restarted.dir, file));
    }
    hold.cut();
    // After the restart the deployer's DMs are still closed and the channel post fails too: nobody was told.
    restarted.notifier.closeDms(alice.id).breakChannels();
    restarted.clock.advanceMinutes(4 * HOUR + 1);
    const second = await restarted.boot();
    await second.tick();
    const stored = second.core.database.sqlite!.sqlite.prepare('SELECT ttl_notice_status AS status FROM cloud_resources WHERE id = ?').get(id);
    expect(stored).toEqual({ status: 'failed' });
  });

  it('a failing destroy is reported each time and retried with backoff until it succeeds', async () => {
    const { boot, clock, notifier, dir } = setup({ TTL_DESTROY_RETRY_MINUTES: '5' });
    const bot = await boot();
    await project(bot);
    await deploy(bot, { ttl: '4h' });
    const id = (await deployed(bot))[0]!.id;
    writeFileSync(join(workspace(dir), 'fake-engine.json'), JSON.stringify({ failApply: { summary: 'Error deleting bucket', detail: 'the bucket is not empty' } }));
    clock.advanceMinutes(4 * HOUR);
    await bot.tick();
    const failed = () => titled(notifier.dmsTo(alice.id), '❌ Expired deployment not destroyed');
    expect(failed()).toHaveLength(1);
    expect(shownInDiscord(failed()[0])).toMatch(/try 1/);
    expect(shownInDiscord(failed()[0])).toMatch(/not empty/);
    expect(titled(notifier.postsIn(NOTICES), '❌ Expired deployment not destroyed')).toHaveLength(1);
    // Not before the backoff: 5 minutes, then 10.
    clock.advanceMinutes(4);
    await bot.tick();
    expect(failed()).toHaveLength(1);
    clock.advanceMinutes(1);
    await bot.tick();
    expect(failed()).toHaveLength(2);
    expect(shownInDiscord(failed()[1])).toMatch(/try 2/);
    clock.advanceMinutes(9);
    await bot.tick();
    expect(failed()).toHaveLength(2);
    writeFileSync(join(workspace(dir), 'fake-engine.json'), '{}');
    clock.advanceMinutes(1);
    await bot.tick();
    expect((await bot.app.resources.get(TTL_GUILD, id)).status).toBe('destroyed');
    expect(titled(notifier.dmsTo(alice.id), 'Deployment expired and destroyed')).toHaveLength(1);
  });

  it('without a credential, says what it could not destroy and why, and keeps trying', async () => {
    const { boot, clock, notifier } = setup({ VAULT_TTL_MINUTES: '30' });
    const bot = await boot();
    await project(bot);
    await deploy(bot, { ttl: '4h' });
    const id = (await deployed(bot))[0]!.id;
    clock.advanceMinutes(4 * HOUR);
    await bot.tick();
    const [failed] = titled(notifier.dmsTo(alice.id), '❌ Expired deployment not destroyed');
    expect(shownInDiscord(failed)).toMatch(new RegExp(`deployment #${id} \\(bucket\\) of project \\*\\*web\\*\\*`));
    expect(shownInDiscord(failed)).toMatch(/No gcp credential is available/);
    expect(shownInDiscord(failed)).toMatch(/still running and still costs money/);
    expect((await bot.app.resources.get(TTL_GUILD, id)).status).toBe('active');
    expect((await bot.app.audit.recent(TTL_GUILD, { action: 'deploy.ttl_destroy' }))[0]).toMatchObject({ outcome: 'failed' });
  });
});

describe('Extend and Destroy now', () => {
  it('Extend: the deployer within the maximum; beyond it only an admin', async () => {
    const { boot, clock } = setup();
    const bot = await boot();
    await project(bot);
    await bot.say(alice, 'cloud-guild-policy', { action: 'update', max_ttl: '8h' });
    await bot.app.jit.grant({ guildId: TTL_GUILD, granteeId: bob.id, granteeIsBot: false, grantedBy: alice.id, provider: 'gcp', level: 'deployer', durationMinutes: 480, reason: 'deploys' });
    await deploy(bot, { ttl: '4h' }, bob);
    const row = (await deployed(bot))[0]!;
    const form = (await bot.press(bob, `ttl:extend:${row.id}`, { guildId: null })).form();
    expect(form?.customId).toBe(`ttl:extend-form:${row.id}`);
    const within = await bot.press(bob, form!.customId, { guildId: null, values: { more: '2h' } });
    expect(within.text()).toMatch(/extended deployment #\d+/);
    expect((await bot.app.resources.get(TTL_GUILD, row.id)).expiresAt).toBe(row.expiresAt! + 2 * HOUR * 60_000);
    const beyond = await bot.press(bob, form!.customId, { guildId: null, values: { more: '3h' } });
    expect(beyond.text()).toMatch(/beyond this server's maximum time to live of 8 h/);
    expect((await bot.app.resources.get(TTL_GUILD, row.id)).expiresAt).toBe(row.expiresAt! + 2 * HOUR * 60_000);
    const admin = await bot.press(alice, form!.customId, { channelId: NOTICES, values: { more: '3h' } });
    expect(admin.text()).toMatch(/beyond this server's maximum time to live, as an admin may/);
    expect((await bot.app.resources.get(TTL_GUILD, row.id)).expiresAt).toBe(row.expiresAt! + 5 * HOUR * 60_000);
    expect((await bot.app.audit.recent(TTL_GUILD, { action: 'deploy.ttl_extend' })).map((e) => e.outcome)).toEqual(['success', 'denied', 'success']);
    // The new end earns new reminders; the old end none.
    clock.advanceMinutes(8 * HOUR);
    await bot.tick();
    expect((await bot.app.resources.get(TTL_GUILD, row.id)).status).toBe('active');
  });

  it('Destroy now: refused without Admin (checked at the press), then destroys at once for an admin', async () => {
    const { boot, notifier } = setup();
    const bot = await boot();
    await project(bot);
    await bot.app.jit.grant({ guildId: TTL_GUILD, granteeId: bob.id, granteeIsBot: false, grantedBy: alice.id, provider: 'gcp', level: 'deployer', durationMinutes: 480, reason: 'deploys' });
    await deploy(bot, { ttl: '4h' }, bob);
    const id = (await deployed(bot))[0]!.id;
    const refused = await bot.press(bob, `ttl:destroy:${id}`, { guildId: null });
    expect(refused.text()).toMatch(/needs Admin access to GCP/);
    expect((await bot.app.resources.get(TTL_GUILD, id)).status).toBe('active');
    const done = await bot.press(alice, `ttl:destroy:${id}`, { channelId: NOTICES });
    expect(done.text()).toMatch(/destroyed deployment #\d+ .* with Destroy now/);
    expect((await bot.app.resources.get(TTL_GUILD, id)).status).toBe('destroyed');
    expect(titled(notifier.dmsTo(bob.id), 'Deployment expired and destroyed')).toHaveLength(1);
    // A press on the old notice afterwards says it is over, and changes nothing.
    expect((await bot.press(alice, `ttl:extend:${id}`, { channelId: NOTICES })).text()).toMatch(/already destroyed/);
  });

  it('another guild can neither see nor act on a deployment, nor can another member in a DM', async () => {
    const { boot } = setup();
    const bot = await boot();
    await project(bot);
    await deploy(bot, { ttl: '4h' });
    const row = (await deployed(bot))[0]!;
    for (const id of [`ttl:extend:${row.id}`, `ttl:destroy:${row.id}`]) {
      expect((await bot.press(alice, id, { guildId: OTHER_GUILD })).text()).toMatch(/no deployment #\d+ with a time to live here/);
      expect((await bot.press(bob, id, { guildId: null })).text()).toMatch(/no deployment #\d+ with a time to live here/);
    }
    expect((await bot.press(alice, `ttl:extend-form:${row.id}`, { guildId: OTHER_GUILD, values: { more: '1d' } })).text()).toMatch(/no deployment/);
    expect(await bot.app.resources.get(TTL_GUILD, row.id)).toMatchObject({ status: 'active', expiresAt: row.expiresAt });
    expect((await bot.say(alice, 'cloud-projects', {}, {}, OTHER_GUILD)).text()).not.toMatch(/⏳/);
  });

  it('a server admin pressing in a DM (where Discord sends no permissions) is told to press in the channel', async () => {
    const { boot } = setup();
    const bot = await boot();
    await project(bot);
    await deploy(bot, { ttl: '4h' });
    const id = (await deployed(bot))[0]!.id;
    const inDm = { ...alice, isGuildAdmin: false };
    for (const button of [`ttl:extend:${id}`, `ttl:destroy:${id}`]) {
      expect((await bot.press(inDm, button, { guildId: null })).text()).toMatch(/cannot see your server permissions \(Manage Server\)\. Press (Extend|Destroy now) on the same notice/);
    }
    expect((await bot.app.resources.get(TTL_GUILD, id)).status).toBe('active');
  });
});
