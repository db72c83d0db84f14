/**
 * End to end: the real bot, started as `npm start` starts it, against the local Discord-compatible server, with the
 * stand-in engine. Every scenario goes through real discord.js over HTTP and WebSocket.
 */
import { execa } from 'execa';
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscordServer, Permission, type InteractionHandle, type OriginalMessage, type RecordedMessage } from './discord-server/index.js';
import { FAKE_ENGINE_BIN, REPO_ROOT, startBot, type BotProcess } from './support/bot-process.js';
import { makeTempDir } from './support/tmp.js';

const APP_ID = '900000000000000001';
const TOKEN = 'test-bot-token';
const GUILD_A = '310000000000000001';
const GUILD_B = '320000000000000002';
const CHANNEL_A = '310000000000000011';
const NOTICES_A = '310000000000000012';
const CHANNEL_B = '320000000000000021';
const ADMIN = '410000000000000001';
const SECOND_ADMIN = '410000000000000002';
const MEMBER = '410000000000000003';
const CLOSED_DMS = '410000000000000004';
const ADMIN_B = '420000000000000001';
const SECRET_PROJECT_ID = 'zz-secret-proj-4711';
const MEMBER_PERMS = Permission.ViewChannel | Permission.SendMessages | Permission.UseApplicationCommands;

function textOf(message: OriginalMessage | undefined): string {
  if (!message) return '';
  const embeds = message.embeds.map((e) =>
    [e.title, e.description, ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`)].filter(Boolean).join('\n'),
  );
  return [message.content, ...embeds].join('\n');
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('the Discord bot, end to end', () => {
  let server: FakeDiscordServer;
  let bot: BotProcess;
  let tmp: { dir: string; cleanup: () => void };
  let dbPath: string;
  let deploymentsDir: string;
  /** The bot's environment, kept so that the shutdown test can start it again. */
  let env: Record<string, string>;

  const run = (userId: string, name: string, options: Array<{ name: string; value: string | number | boolean }> = [], guildId = GUILD_A) =>
    server.sendChatInput({
      guildId,
      channelId: guildId === GUILD_A ? CHANNEL_A : CHANNEL_B,
      userId,
      name,
      options,
      ignoreDefaultMemberPermissions: true,
    });

  const finalText = async (handle: InteractionHandle, pattern: RegExp, timeoutMs = 15_000) =>
    textOf(await handle.waitForOriginal((m) => pattern.test(textOf(m)), timeoutMs));

  /** Resolves once the janitor (every second here) has finished a whole tick after the current one: by then it sent whatever it would send again. */
  async function aWholeJanitorTickLater(): Promise<void> {
    const logged = [...bot.output().matchAll(/"tick":(\d+)/g)].map((match) => Number(match[1]));
    await bot.waitForOutput(new RegExp(`"tick":${Math.max(0, ...logged) + 2}\\b`), 15_000);
  }

  const noticesTitled = (messages: RecordedMessage[], title: string) => messages.filter((m) => JSON.stringify(m).includes(title));

  async function initProject(userId: string, name: string, guildId = GUILD_A, secret = SECRET_PROJECT_ID) {
    const init = await run(userId, 'cloud-init', [
      { name: 'provider', value: 'gcp' },
      { name: 'project_name', value: name },
      { name: 'region', value: 'us-central1' },
    ], guildId);
    const modal = await init.waitForResponse();
    expect(modal.type).toBe(9);
    const submitted = await server.submitModal({
      guildId,
      channelId: guildId === GUILD_A ? CHANNEL_A : CHANNEL_B,
      userId,
      fields: { project_id: secret },
    });
    return finalText(submitted, /initialised/);
  }

  beforeAll(async () => {
    tmp = makeTempDir('chatops-e2e-');
    dbPath = join(tmp.dir, 'chatops.db');
    deploymentsDir = join(tmp.dir, 'deployments');
    server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN });
    await server.addGuild({ id: GUILD_A, name: 'ACME Corp', ownerId: ADMIN, channels: [{ id: CHANNEL_A, name: 'ops' }, { id: NOTICES_A, name: 'notices' }] });
    await server.addGuild({ id: GUILD_B, name: 'Other Co', ownerId: ADMIN_B, channels: [{ id: CHANNEL_B, name: 'ops' }] });
    await server.addMember(GUILD_A, { id: ADMIN, username: 'alice', permissions: MEMBER_PERMS | Permission.ManageGuild });
    await server.addMember(GUILD_A, { id: SECOND_ADMIN, username: 'carol', permissions: MEMBER_PERMS | Permission.Administrator });
    await server.addMember(GUILD_A, { id: MEMBER, username: 'bob', permissions: MEMBER_PERMS });
    await server.addMember(GUILD_A, { id: CLOSED_DMS, username: 'dave', permissions: MEMBER_PERMS, dmsClosed: true });
    await server.addMember(GUILD_B, { id: ADMIN_B, username: 'erin', permissions: MEMBER_PERMS | Permission.ManageGuild });

    env = {
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: server.apiUrl,
      DATABASE_PATH: dbPath,
      DEPLOYMENTS_DIR: deploymentsDir,
      IAC_BIN_DIR: FAKE_ENGINE_BIN,
      JANITOR_SCHEDULE: '* * * * * *',
      LOG_LEVEL: 'debug',
      // The scenarios send many commands as one admin within a minute; rate limits have their own tests.
      RATE_LIMIT_MEMBER_PER_MINUTE: '1000',
      RATE_LIMIT_GUILD_PER_MINUTE: '1000',
    };
    // Publish the command set the way an operator does, then start the bot as `npm start` does.
    const registered = await execa('node', ['--import', 'tsx', 'src/discord/register.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, DISCORD_GUILD_ID: GUILD_A },
      extendEnv: false,
    });
    expect(registered.stdout).toMatch(/Published \d+ commands to guild/);
    await execa('node', ['--import', 'tsx', 'src/discord/register.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, DISCORD_GUILD_ID: GUILD_B },
      extendEnv: false,
    });
    bot = startBot(env);
    await server.waitForReady(30_000);
    await bot.waitForOutput(/taking interactions/, 30_000);
  }, 90_000);

  afterAll(async () => {
    // Every interaction of every scenario was acknowledged within Discord's three seconds.
    const late = server?.deadlineViolations() ?? [];
    const code = await bot?.stop();
    await server?.close();
    tmp?.cleanup();
    expect(late).toEqual([]);
    expect(code, `exit after ${bot?.stoppedAfterMs()} ms; output tail:\n${bot?.output().slice(-3000)}`).toBe(0);
  });

  it('publishes every command, with admin commands hidden from members by default', () => {
    const names = server.registeredCommands(GUILD_A).map((c) => c.name).sort();
    expect(names).toEqual(
      ['cloud-audit', 'cloud-credentials', 'cloud-deploy', 'cloud-destroy', 'cloud-drift', 'cloud-guild-policy', 'cloud-init', 'cloud-jit-grant', 'cloud-jit-list', 'cloud-jit-request', 'cloud-jit-revoke', 'cloud-outputs', 'cloud-projects', 'cloud-runs', 'cloud-storage', 'cloud-template', 'cloud-vault'].sort(),
    );
    const grant = server.registeredCommands(GUILD_A).find((c) => c.name === 'cloud-jit-grant');
    expect(grant?.default_member_permissions).toBe(String(Permission.ManageGuild));
    const drift = server.registeredCommands(GUILD_A).find((c) => c.name === 'cloud-drift');
    expect(drift?.default_member_permissions).toBe(String(Permission.ManageGuild));
  });

  it('inits through a modal, plans, applies with progress, lists, and destroys', async () => {
    const initText = await initProject(ADMIN, 'Production API');
    expect(initText).toMatch(/Vault session/);
    expect(initText).toMatch(/<t:\d+:R>/);
    expect(initText).not.toContain(SECRET_PROJECT_ID);

    const deploy = await run(ADMIN, 'cloud-deploy', [
      { name: 'project', value: 'Production API' },
      { name: 'resource_type', value: 'vm' },
      { name: 'instance_type', value: 'e2-micro' },
      { name: 'disk_size', value: 10 },
    ]);
    expect((await deploy.waitForResponse()).type).toBe(5);
    const planText = await finalText(deploy, /Plan for Production API/);
    expect(planText).toMatch(/create \(\d+\)/);
    expect(planText).toMatch(/google_compute_instance/);
    await deploy.waitForOriginal((m) => JSON.stringify(m.components).includes(':apply'));

    // Someone else cannot press the requester's Apply button.
    const intruder = await server.clickButton({ guildId: GUILD_A, channelId: CHANNEL_A, userId: MEMBER, customId: /:apply$/ });
    const refused = await intruder.waitForResponse();
    expect(refused.type).toBe(4);
    expect(JSON.stringify(refused.data)).toMatch(/Only the member who asked/);

    const apply = await server.clickButton({ guildId: GUILD_A, channelId: CHANNEL_A, userId: ADMIN, customId: /:apply$/ });
    expect((await apply.waitForResponse()).type).toBe(7);
    const result = await finalText(deploy, /Deployed vm/, 30_000);
    expect(result).toMatch(/1 added/);

    const projects = await run(ADMIN, 'cloud-projects');
    const listing = JSON.stringify((await projects.waitForResponse()).data);
    expect(listing).toMatch(/Production API/);
    expect(listing).toMatch(/active/);
    expect(listing).toMatch(/vault expires/);

    const destroy = await run(ADMIN, 'cloud-destroy', [{ name: 'project', value: 'Production API' }]);
    await destroy.waitForResponse();
    const confirm = await server.clickButton({ guildId: GUILD_A, channelId: CHANNEL_A, userId: ADMIN, customId: /:destroy$/ });
    await confirm.waitForResponse();
    expect(await finalText(destroy, /Destroyed in Production API/, 30_000)).toMatch(/1 resource destroyed/);

    // The secret typed into the modal is nowhere: not in what the bot sent, the database, the state folder or the logs.
    expect(server.allMessagesText()).not.toContain(SECRET_PROJECT_ID);
    for (const file of [dbPath, `${dbPath}-wal`, ...filesUnder(deploymentsDir).filter((f) => !f.endsWith('.fake-engine-invocations.jsonl'))]) {
      if (existsSync(file)) expect(readFileSync(file).includes(SECRET_PROJECT_ID), file).toBe(false);
    }
    expect(bot.output()).not.toContain(SECRET_PROJECT_ID);
    expect(server.deadlineViolations()).toEqual([]);
  });

  it('lists every broken policy rule at once and runs nothing', async () => {
    const update = await run(ADMIN, 'cloud-guild-policy', [
      { name: 'action', value: 'update' },
      { name: 'max_budget', value: 5 },
      { name: 'max_disk', value: 20 },
      { name: 'allowed_instance_types', value: 'e2-micro' },
    ]);
    expect(JSON.stringify((await update.waitForResponse()).data)).toMatch(/Guild policies updated/);
    await initProject(ADMIN, 'Budget Test');
    const deploy = await run(ADMIN, 'cloud-deploy', [
      { name: 'project', value: 'Budget Test' },
      { name: 'resource_type', value: 'vm' },
      { name: 'instance_type', value: 'n1-standard-32' },
      { name: 'disk_size', value: 400 },
    ]);
    const text = await finalText(deploy, /Policy violation/);
    expect(text).toMatch(/budget/i);
    expect(text).toMatch(/Disk size/i);
    expect(text).toMatch(/n1-standard-32/);
    const reset = await run(ADMIN, 'cloud-guild-policy', [
      { name: 'action', value: 'update' },
      { name: 'max_budget', value: 1000 },
      { name: 'max_disk', value: 500 },
      { name: 'allowed_instance_types', value: 'all' },
    ]);
    await reset.waitForResponse();
  });

  it('needs another admin’s approval when the policy says so: the requester cannot approve, an admin can', async () => {
    await (await run(ADMIN, 'cloud-guild-policy', [{ name: 'action', value: 'update' }, { name: 'require_approval', value: true }])).waitForResponse();
    await initProject(ADMIN, 'Approval Test');
    const deploy = await run(ADMIN, 'cloud-deploy', [
      { name: 'project', value: 'Approval Test' },
      { name: 'resource_type', value: 'bucket' },
      { name: 'disk_size', value: 5 },
    ]);
    await deploy.waitForOriginal((m) => JSON.stringify(m.components).includes(':apply'), 15_000);
    await (await server.clickButton({ guildId: GUILD_A, channelId: CHANNEL_A, userId: ADMIN, customId: /:apply$/ })).waitForResponse();

    const approvalPosted = () => server.channelMessages(CHANNEL_A).some((m) => JSON.stringify(m).includes('deployapr:approve:'));
    await expect.poll(approvalPosted, { timeout: 10_000 }).toBe(true);
    const self = await server.clickButton({ guildId: GUILD_A, channelId: CHANNEL_A, userId: ADMIN, customId: /^deployapr:approve:/ });
    expect(JSON.stringify((await self.waitForResponse()).data)).toMatch(/cannot approve your own/);
    const member = await server.clickButton({ guildId: GUILD_A, channelId: CHANNEL_A, userId: MEMBER, customId: /^deployapr:approve:/ });
    expect(JSON.stringify((await member.waitForResponse()).data)).toMatch(/Only server admins/);
    expect(await finalText(deploy, /Waiting for an admin’s approval/)).toMatch(/deployment approval #\d+/);
    const other = await server.clickButton({ guildId: GUILD_A, channelId: CHANNEL_A, userId: SECOND_ADMIN, customId: /^deployapr:approve:/ });
    expect((await other.waitForResponse()).type).toBe(7);
    // The apply runs from the press: its progress and outcome replace the approval card in the channel.
    expect(await finalText(other, /Deployed bucket/, 30_000)).toMatch(/added/);
    await (await run(ADMIN, 'cloud-guild-policy', [{ name: 'action', value: 'update' }, { name: 'require_approval', value: false }])).waitForResponse();
  });

  it('denies a member without a grant, allows them once granted, and denies again once it expires', async () => {
    const denied = await run(MEMBER, 'cloud-init', [
      { name: 'provider', value: 'aws' },
      { name: 'project_name', value: 'Bob Project' },
      { name: 'region', value: 'eu-west-1' },
    ]);
    expect(JSON.stringify((await denied.waitForResponse()).data)).toMatch(/deployer/);

    const grant = await run(ADMIN, 'cloud-jit-grant', [
      { name: 'user', value: MEMBER },
      { name: 'provider', value: 'aws' },
      { name: 'level', value: 'deployer' },
      { name: 'duration', value: 30 },
    ]);
    expect(await finalText(grant, /JIT permission granted/)).toMatch(/Deployer/i);
    await expect.poll(() => noticesTitled(server.dmsTo(MEMBER), 'JIT permission granted').length, { timeout: 10_000 }).toBe(1);

    const allowed = await run(MEMBER, 'cloud-init', [
      { name: 'provider', value: 'aws' },
      { name: 'project_name', value: 'Bob Project' },
      { name: 'region', value: 'eu-west-1' },
    ]);
    expect((await allowed.waitForResponse()).type).toBe(9);

    // Make the grant run out now (as if its time had passed); the check at use must deny before the janitor runs.
    const db = new Database(dbPath);
    db.prepare('UPDATE jit_permissions SET expires_at = ? WHERE user_id = ? AND revoked = 0').run(Date.now() - 1000, MEMBER);
    db.close();
    const expired = await run(MEMBER, 'cloud-projects');
    await expired.waitForResponse();
    const again = await run(MEMBER, 'cloud-init', [
      { name: 'provider', value: 'aws' },
      { name: 'project_name', value: 'Bob Project 2' },
      { name: 'region', value: 'eu-west-1' },
    ]);
    expect(JSON.stringify((await again.waitForResponse()).data)).toMatch(/deployer/);
    // The janitor (every second here) revokes it and tells the member by DM, once.
    await expect.poll(() => noticesTitled(server.dmsTo(MEMBER), 'JIT permission expired').length, { timeout: 15_000 }).toBeGreaterThan(0);
    await aWholeJanitorTickLater();
    expect(noticesTitled(server.dmsTo(MEMBER), 'JIT permission expired')).toHaveLength(1);
  });

  it('sends expiry notices to the notification channel when a member’s DMs are closed', async () => {
    await (await run(ADMIN, 'cloud-guild-policy', [{ name: 'action', value: 'update' }, { name: 'notification_channel', value: NOTICES_A }])).waitForResponse();
    const grant = await run(ADMIN, 'cloud-jit-grant', [
      { name: 'user', value: CLOSED_DMS },
      { name: 'provider', value: 'gcp' },
      { name: 'level', value: 'viewer' },
      { name: 'duration', value: 5 },
    ]);
    expect(await finalText(grant, /JIT permission granted/)).toMatch(/DMs are closed|notification channel/);
    const db = new Database(dbPath);
    db.prepare('UPDATE jit_permissions SET expires_at = ? WHERE user_id = ? AND revoked = 0').run(Date.now() - 1000, CLOSED_DMS);
    db.close();
    await expect.poll(() => noticesTitled(server.channelMessages(NOTICES_A), 'JIT permission expired').length, { timeout: 15_000 }).toBeGreaterThan(0);
    await aWholeJanitorTickLater();
    expect(noticesTitled(server.channelMessages(NOTICES_A), 'JIT permission expired')).toHaveLength(1);
    // Tried by DM first, once for the grant and once for the expiry, then posted in the channel instead.
    expect(server.refusedDmsTo(CLOSED_DMS)).toHaveLength(2);
  });

  it('keeps two guilds with same-named projects apart', async () => {
    await initProject(ADMIN, 'Twin Name');
    await initProject(ADMIN, 'Only In A');
    await initProject(ADMIN_B, 'Twin Name', GUILD_B, 'other-guild-proj-99');
    const listB = await run(ADMIN_B, 'cloud-projects', [], GUILD_B);
    const textB = JSON.stringify((await listB.waitForResponse()).data);
    expect(textB).toMatch(/Twin Name/);
    expect(textB).not.toMatch(/Only In A/);
    // Guild B cannot see or use guild A's projects.
    const deploy = await run(ADMIN_B, 'cloud-deploy', [
      { name: 'project', value: 'Only In A' },
      { name: 'resource_type', value: 'bucket' },
    ], GUILD_B);
    expect(await finalText(deploy, /⛔/)).toMatch(/no project/i);
    expect(existsSync(join(deploymentsDir, `guild_${GUILD_B}`, 'twin-name'))).toBe(true);
    expect(existsSync(join(deploymentsDir, `guild_${GUILD_A}`, 'twin-name'))).toBe(true);
  });

  it('autocompletes only this guild’s projects, and instance types from the price catalogue', async () => {
    await initProject(ADMIN, 'Autocomplete A');
    await initProject(ADMIN_B, 'Autocomplete B', GUILD_B, 'other-guild-proj-98');
    const projects = await server.sendAutocomplete({
      guildId: GUILD_B,
      channelId: CHANNEL_B,
      userId: ADMIN_B,
      name: 'cloud-deploy',
      options: [{ name: 'project', value: '', focused: true }, { name: 'resource_type', value: 'vm' }],
      ignoreDefaultMemberPermissions: true,
    });
    const names = (await projects.choices()).map((c) => c.value);
    expect(names).toContain('Autocomplete B');
    expect(names).not.toContain('Autocomplete A');
    const types = await server.sendAutocomplete({
      guildId: GUILD_A,
      channelId: CHANNEL_A,
      userId: ADMIN,
      name: 'cloud-deploy',
      options: [{ name: 'project', value: 'Autocomplete A' }, { name: 'resource_type', value: 'vm' }, { name: 'instance_type', value: 'e2-', focused: true }],
      ignoreDefaultMemberPermissions: true,
    });
    const typeChoices = await types.choices();
    expect(typeChoices.length).toBeGreaterThan(0);
    expect(typeChoices.every((c) => String(c.value).startsWith('e2-'))).toBe(true);
  });

  it('refuses an admin command to a member who got hold of it, naming the permission', async () => {
    const attempt = await run(MEMBER, 'cloud-guild-policy', [{ name: 'action', value: 'update' }, { name: 'max_budget', value: 1 }]);
    expect(JSON.stringify((await attempt.waitForResponse()).data)).toMatch(/Manage Server/);
  });

  it('rejects bad option values with a message naming what is wrong', async () => {
    const bad = await run(ADMIN, 'cloud-init', [
      { name: 'provider', value: 'gcp' },
      { name: 'project_name', value: 'Bad Region' },
      { name: 'region', value: 'us central 1!' },
    ]);
    const reply = JSON.stringify((await bad.waitForResponse()).data);
    expect(reply).toMatch(/region/);
    expect(reply).toMatch(/us-central1/);
  });

  it('surfaces an engine crash as a readable failure and marks the resource failed', async () => {
    await initProject(ADMIN, 'Crash Test');
    writeFileSync(join(deploymentsDir, `guild_${GUILD_A}`, 'crash-test', 'fake-engine.json'), JSON.stringify({ crashMidApply: true }));
    const deploy = await run(ADMIN, 'cloud-deploy', [
      { name: 'project', value: 'Crash Test' },
      { name: 'resource_type', value: 'bucket' },
      { name: 'disk_size', value: 1 },
    ]);
    await deploy.waitForOriginal((m) => JSON.stringify(m.components).includes(':apply'), 15_000);
    await (await server.clickButton({ guildId: GUILD_A, channelId: CHANNEL_A, userId: ADMIN, customId: /:apply$/ })).waitForResponse();
    const text = await finalText(deploy, /failed/i, 30_000);
    expect(text).not.toMatch(/at .*\.ts:\d+/);
    const projects = await run(ADMIN, 'cloud-projects');
    expect(JSON.stringify((await projects.waitForResponse()).data)).toMatch(/failed/);
  });
  it('on SIGTERM stops a running apply cleanly, tells the member, and exits 0', async () => {
    await initProject(ADMIN, 'Shutdown Test');
    const deploy = await run(ADMIN, 'cloud-deploy', [
      { name: 'project', value: 'Shutdown Test' },
      { name: 'resource_type', value: 'bucket' },
      { name: 'disk_size', value: 1 },
    ]);
    await deploy.waitForOriginal((m) => JSON.stringify(m.components).includes(':apply'), 30_000);
    // A long apply, so the stop always finds it running (a short one could finish first on a loaded machine); the
    // stand-in's sleep ends at the SIGINT, so this costs no time.
    writeFileSync(join(deploymentsDir, `guild_${GUILD_A}`, 'shutdown-test', 'fake-engine.json'), JSON.stringify({ sleepMs: 60_000 }));
    await (await server.clickButton({ guildId: GUILD_A, channelId: CHANNEL_A, userId: ADMIN, customId: /:apply$/ })).waitForResponse();
    await finalText(deploy, /Applying bucket/, 15_000);

    expect(await bot.stop()).toBe(0);
    expect(textOf(deploy.original())).toMatch(/restarting.*stopped cleanly/s);
    const db = new Database(dbPath, { readonly: true });
    const apply = db.prepare("SELECT status FROM iac_runs WHERE kind = 'apply' ORDER BY id DESC LIMIT 1").get() as { status: string };
    const resource = db.prepare("SELECT r.status FROM cloud_resources r JOIN cloud_projects p ON p.id = r.project_id WHERE p.slug = 'shutdown-test'").get() as { status: string };
    db.close();
    expect(apply.status).toBe('interrupted');
    expect(resource.status).toBe('interrupted');

    // Started again for the tests that run after this one (in a shuffled order).
    bot = startBot(env);
    await server.waitForReady(30_000);
    await bot.waitForOutput(/taking interactions/, 30_000);
  }, 90_000);

});
