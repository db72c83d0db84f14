/**
 * End to end on Discord: a deployment that needs an admin's approval, through the real bot and unmodified discord.js
 * against the local Discord-compatible server. The request's card is posted; the bot restarts; another admin's press
 * on the old card applies the deployment (the button names the approval record, nothing the old process held), its
 * outcome on the card, and the requester gets a DM. A second request that nobody decides is expired by the janitor,
 * which edits its card in the channel to say so, without its buttons.
 */
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscordServer, Permission, buttonsOf, type RecordedMessage } from './discord-server/index.js';
import { FAKE_ENGINE_BIN, REPO_ROOT, startBot, type BotProcess } from './support/bot-process.js';
import { makeTempDir } from './support/tmp.js';

const APP_ID = '900000000000000001';
const TOKEN = 'test-bot-token';
const GUILD = '310000000000000001';
const CHANNEL = '310000000000000011';
const ADMIN = '410000000000000001';
const SECOND_ADMIN = '410000000000000002';
const PERMS = Permission.ViewChannel | Permission.SendMessages | Permission.UseApplicationCommands;

const textOf = (message: unknown) => JSON.stringify(message ?? {});
const approvalCards = (messages: RecordedMessage[], id = 1) =>
  messages.filter((m) => m.embeds.some((e) => e.title?.includes(`Deployment approval #${id}`) || e.title?.includes(`deployment approval #${id}`)));

describe('deployment approvals on Discord', () => {
  let server: FakeDiscordServer;
  let bot: BotProcess;
  let tmp: { dir: string; cleanup: () => void };
  let env: Record<string, string>;

  const start = async () => {
    bot = startBot(env);
    await server.waitForReady(30_000);
    await bot.waitForOutput(/taking interactions/, 30_000);
  };
  const run = (userId: string, name: string, options: Array<{ name: string; value: string | number | boolean }>) =>
    server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId, name, options });

  beforeAll(async () => {
    tmp = makeTempDir('chatops-e2e-deployapr-');
    server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN });
    await server.addGuild({ id: GUILD, name: 'ACME Corp', ownerId: ADMIN, channels: [{ id: CHANNEL, name: 'ops' }] });
    await server.addMember(GUILD, { id: ADMIN, username: 'alice', permissions: PERMS | Permission.ManageGuild });
    await server.addMember(GUILD, { id: SECOND_ADMIN, username: 'carol', permissions: PERMS | Permission.ManageGuild });
    env = {
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: server.apiUrl,
      DATABASE_PATH: join(tmp.dir, 'chatops.db'),
      DEPLOYMENTS_DIR: join(tmp.dir, 'deployments'),
      IAC_BIN_DIR: FAKE_ENGINE_BIN,
      LOG_LEVEL: 'info',
      // Every 2 s, so the expiry below is seen without waiting a minute.
      JANITOR_SCHEDULE: '*/2 * * * * *',
      // The service's own credential survives a restart (a vault session would not): see the README's approvals.
      SERVICE_CREDENTIALS_GUILDS: GUILD,
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE12',
      AWS_SECRET_ACCESS_KEY: 'service-secret-never-shown-0123456789',
    };
    await execa('node', ['--import', 'tsx', 'src/discord/register.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, DISCORD_GUILD_ID: GUILD },
      extendEnv: false,
    });
    await start();
  }, 90_000);

  afterAll(async () => {
    const late = server?.deadlineViolations() ?? [];
    await bot?.stop();
    await server?.close();
    tmp?.cleanup();
    expect(late).toEqual([]);
  });

  it('deploy → Apply → card posted → (restart) → another admin approves → applied on the card, requester told', async () => {
    const policy = await run(ADMIN, 'cloud-guild-policy', [{ name: 'action', value: 'update' }, { name: 'require_approval', value: true }]);
    await policy.waitForOriginal((m) => textOf(m).includes('Approval required'), 15_000);
    const init = await run(ADMIN, 'cloud-init', [
      { name: 'provider', value: 'aws' },
      { name: 'project_name', value: 'web' },
      { name: 'region', value: 'eu-west-1' },
    ]);
    expect((await init.waitForResponse()).type).toBe(9);
    const typed = await server.submitModal({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, fields: { access_key_id: 'AKIATYPEDATINIT00001', secret_access_key: 'typed-secret-0123456789abcdef' } });
    await typed.waitForOriginal((m) => /initialised/.test(textOf(m)), 15_000);

    const deploy = await run(ADMIN, 'cloud-deploy', [
      { name: 'project', value: 'web' },
      { name: 'resource_type', value: 'bucket' },
      { name: 'disk_size', value: 5 },
      // The service's own credential: the vault session typed at init does not survive the restart.
      { name: 'credential', value: 'service' },
    ]);
    await deploy.waitForOriginal((m) => JSON.stringify(m.components).includes(':apply'), 15_000);
    await (await server.clickButton({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, customId: /:apply$/ })).waitForResponse();
    await deploy.waitForOriginal((m) => textOf(m).includes('Waiting for an admin’s approval'), 15_000);
    await expect.poll(() => approvalCards(server.channelMessages(CHANNEL)).length, { timeout: 10_000 }).toBe(1);
    const [card] = approvalCards(server.channelMessages(CHANNEL));
    expect(buttonsOf(card!).map((b) => b.custom_id)).toEqual(['deployapr:approve:1', 'deployapr:reject:1']);

    // A new process: nothing of the old one's memory is left, and the button still works.
    expect(await bot.stop()).toBe(0);
    await start();

    const own = await server.clickButton({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, customId: 'deployapr:approve:1' });
    expect(JSON.stringify((await own.waitForResponse()).data)).toMatch(/cannot approve your own/);
    const press = await server.clickButton({ guildId: GUILD, channelId: CHANNEL, userId: SECOND_ADMIN, customId: 'deployapr:approve:1' });
    expect((await press.waitForResponse()).type).toBe(7);
    const done = await press.waitForOriginal((m) => textOf(m).includes('Deployed bucket'), 30_000);
    expect(textOf(done)).toMatch(/Approved by <@410000000000000002>/);
    expect(buttonsOf(done)).toEqual([]);
    await expect.poll(() => server.dmsTo(ADMIN).filter((m) => textOf(m).includes('Deployment approved')).length, { timeout: 10_000 }).toBe(1);
    expect(textOf(server.dmsTo(ADMIN).at(-1))).not.toContain('service-secret-never-shown');
  }, 120_000);

  it('a request nobody decides expires: the janitor edits its card in the channel to expired, without buttons', async () => {
    const deploy = await run(ADMIN, 'cloud-deploy', [
      { name: 'project', value: 'web' },
      { name: 'resource_type', value: 'bucket' },
      { name: 'disk_size', value: 6 },
      { name: 'credential', value: 'service' },
    ]);
    await deploy.waitForOriginal((m) => JSON.stringify(m.components).includes(':apply'), 15_000);
    await (await server.clickButton({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, customId: /:apply$/ })).waitForResponse();
    await expect.poll(() => approvalCards(server.channelMessages(CHANNEL), 2).length, { timeout: 15_000 }).toBe(1);
    const [posted] = approvalCards(server.channelMessages(CHANNEL), 2);
    expect(buttonsOf(posted!).map((b) => b.custom_id)).toEqual(['deployapr:approve:2', 'deployapr:reject:2']);

    // Its time is up (the database is the bot's only memory of it).
    const db = new Database(env.DATABASE_PATH!);
    db.prepare('UPDATE deploy_approvals SET expires_at = ? WHERE id = 2').run(Date.now() - 1000);
    db.close();
    const cardNow = () => server.channelMessages(CHANNEL).find((m) => m.id === posted!.id);
    await expect.poll(() => cardNow()?.editedAt ?? null, { timeout: 15_000 }).not.toBeNull();
    expect(textOf(cardNow()!.embeds)).toMatch(/⌛ Deployment approval #2/);
    expect(textOf(cardNow()!.embeds)).toMatch(/Expired: nobody approved it by/);
    expect(buttonsOf(cardNow()!)).toEqual([]);
    await expect.poll(() => server.dmsTo(ADMIN).filter((m) => textOf(m).includes('Deployment approval expired')).length, { timeout: 10_000 }).toBe(1);
  }, 60_000);
});
