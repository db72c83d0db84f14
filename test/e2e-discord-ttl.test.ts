/**
 * End to end on Discord: a deployment with a time to live, through the real bot and unmodified discord.js against
 * the local Discord-compatible server. Deployed with `ttl:1m`; when the minute is up the janitor destroys it through
 * the normal destroy path, posts its progress in the notification channel, tells the deployer by DM and marks it
 * expired (gone from /cloud-projects). The real clock: this test takes a little over a minute.
 */
import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscordServer, Permission, type RecordedMessage } from './discord-server/index.js';
import { FAKE_ENGINE_BIN, REPO_ROOT, startBot, type BotProcess } from './support/bot-process.js';
import { STAND_IN_SANDBOX_ENV } from './support/sandbox-env.js';
import { makeTempDir } from './support/tmp.js';

const APP_ID = '900000000000000001';
const TOKEN = 'test-bot-token';
const GUILD = '330000000000000001';
const CHANNEL = '330000000000000011';
const NOTICES = '330000000000000012';
const ADMIN = '430000000000000001';
const PERMS = Permission.ViewChannel | Permission.SendMessages | Permission.UseApplicationCommands;

const titled = (messages: RecordedMessage[], title: string) => messages.filter((m) => m.embeds.some((e) => e.title === title));

describe('a deployment that expires, on Discord', () => {
  let server: FakeDiscordServer;
  let bot: BotProcess;
  let tmp: { dir: string; cleanup: () => void };

  const run = (name: string, options: Array<{ name: string; value: string | number | boolean }> = []) =>
    server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, name, options, ignoreDefaultMemberPermissions: true });

  beforeAll(async () => {
    tmp = makeTempDir('chatops-e2e-ttl-');
    server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN });
    await server.addGuild({ id: GUILD, name: 'ACME Corp', ownerId: ADMIN, channels: [{ id: CHANNEL, name: 'ops' }, { id: NOTICES, name: 'notices' }] });
    await server.addMember(GUILD, { id: ADMIN, username: 'alice', permissions: PERMS | Permission.ManageGuild });
    const env = {
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: server.apiUrl,
      DATABASE_PATH: join(tmp.dir, 'chatops.db'),
      DEPLOYMENTS_DIR: join(tmp.dir, 'deployments'),
      IAC_BIN_DIR: FAKE_ENGINE_BIN,
      JANITOR_SCHEDULE: '*/2 * * * * *',
      TTL_REMINDER_LEADS: 'none',
      LOG_LEVEL: 'info',
      ...STAND_IN_SANDBOX_ENV,
    };
    await execa('node', ['--import', 'tsx', 'src/discord/register.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, DISCORD_GUILD_ID: GUILD },
      extendEnv: false,
    });
    bot = startBot(env);
    await server.waitForReady(30_000);
    await bot.waitForOutput(/taking interactions/, 30_000);
  }, 90_000);

  afterAll(async () => {
    const late = server?.deadlineViolations() ?? [];
    await bot?.stop();
    await server?.close();
    tmp?.cleanup();
    expect(late).toEqual([]);
  });

  it('deploy with ttl:1m → the janitor destroys it at the end, in the channel, and DMs the deployer', async () => {
    const policy = await run('cloud-guild-policy', [{ name: 'action', value: 'update' }, { name: 'notification_channel', value: NOTICES }]);
    expect(JSON.stringify((await policy.waitForResponse()).data)).toMatch(/Notification channel/);
    const init = await run('cloud-init', [{ name: 'provider', value: 'gcp' }, { name: 'project_name', value: 'web' }, { name: 'region', value: 'us-central1' }]);
    expect((await init.waitForResponse()).type).toBe(9);
    const submitted = await server.submitModal({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, fields: { project_id: 'web-project-123' } });
    await submitted.waitForOriginal((m) => JSON.stringify(m).includes('initialised'), 15_000);

    const deploy = await run('cloud-deploy', [
      { name: 'project', value: 'web' },
      { name: 'resource_type', value: 'bucket' },
      { name: 'disk_size', value: 5 },
      { name: 'ttl', value: '1m' },
    ]);
    await deploy.waitForOriginal((m) => JSON.stringify(m.components).includes(':apply'), 30_000);
    const apply = await server.clickButton({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, customId: /:apply$/ });
    expect((await apply.waitForResponse()).type).toBe(7);
    const applied = await deploy.waitForOriginal((m) => JSON.stringify(m).includes('Deployed bucket'), 30_000);
    expect(JSON.stringify(applied.embeds)).toMatch(/Time to live/);
    const listed = await run('cloud-projects');
    expect(JSON.stringify((await listed.waitForResponse()).data)).toMatch(/⏳ destroyed <t:\d+:R>/);

    await expect.poll(() => titled(server.dmsTo(ADMIN), 'Deployment expired and destroyed').length, { timeout: 100_000, interval: 1000 }).toBe(1);
    expect(titled(server.channelMessages(NOTICES), '🧨 Time to live over: destroying')).toHaveLength(1);
    expect(titled(server.channelMessages(NOTICES), 'Deployment expired and destroyed')).toHaveLength(1);
    const after = await run('cloud-projects');
    const listing = JSON.stringify((await after.waitForResponse()).data);
    expect(listing).not.toMatch(/#1 bucket/);
  }, 150_000);
});
