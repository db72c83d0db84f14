/**
 * End to end on Discord: a drift check through the real bot and unmodified discord.js against the local
 * Discord-compatible server, with the stand-in engine. An admin enables and runs a check; the report (with its
 * sensitive attribute masked) is posted in the notification channel with durable buttons; a member's press is
 * refused privately; a press after a restart of the bot still works, and Accept refreshes the state.
 */
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscordServer, Permission, buttonsOf, type OriginalMessage, type RecordedMessage } from './discord-server/index.js';
import { FAKE_ENGINE_BIN, REPO_ROOT, startBot, type BotProcess } from './support/bot-process.js';
import { makeTempDir } from './support/tmp.js';

const APP_ID = '900000000000000001';
const TOKEN = 'test-bot-token';
const GUILD = '310000000000000001';
const CHANNEL = '310000000000000011';
const NOTICES = '310000000000000012';
const ADMIN = '410000000000000001';
const MEMBER = '410000000000000003';
const PERMS = Permission.ViewChannel | Permission.SendMessages | Permission.UseApplicationCommands;
const SECRET = 'tok-e2e-never-shown';

function textOf(message: OriginalMessage | RecordedMessage | undefined): string {
  if (!message) return '';
  const embeds = message.embeds.map((e) => [e.title, e.description, ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`)].filter(Boolean).join('\n'));
  return [message.content, ...embeds].join('\n');
}

describe('drift checks on Discord', () => {
  let server: FakeDiscordServer;
  let bot: BotProcess;
  let tmp: { dir: string; cleanup: () => void };
  let env: Record<string, string>;

  const start = async () => {
    bot = startBot(env);
    await server.waitForReady(30_000);
    await bot.waitForOutput(/taking interactions/, 30_000);
  };
  const run = (userId: string, name: string, options: Array<{ name: string; value: string | number | boolean }> = []) =>
    server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId, name, options, ignoreDefaultMemberPermissions: true });

  beforeAll(async () => {
    tmp = makeTempDir('chatops-e2e-drift-');
    server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN });
    await server.addGuild({ id: GUILD, name: 'ACME Corp', ownerId: ADMIN, channels: [{ id: CHANNEL, name: 'ops' }, { id: NOTICES, name: 'notices' }] });
    await server.addMember(GUILD, { id: ADMIN, username: 'alice', permissions: PERMS | Permission.ManageGuild });
    await server.addMember(GUILD, { id: MEMBER, username: 'bob', permissions: PERMS });
    env = {
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: server.apiUrl,
      DATABASE_PATH: join(tmp.dir, 'chatops.db'),
      DEPLOYMENTS_DIR: join(tmp.dir, 'deployments'),
      IAC_BIN_DIR: FAKE_ENGINE_BIN,
      LOG_LEVEL: 'info',
      RATE_LIMIT_MEMBER_PER_MINUTE: '1000',
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

  it('enable → check now → the report in the notification channel → a member refused → Accept', async () => {
    const init = await run(ADMIN, 'cloud-init', [
      { name: 'provider', value: 'gcp' },
      { name: 'project_name', value: 'web' },
      { name: 'region', value: 'us-central1' },
    ]);
    expect((await init.waitForResponse()).type).toBe(9);
    const submitted = await server.submitModal({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, fields: { project_id: 'web-project-123' } });
    await submitted.waitForOriginal((m) => /initialised/.test(textOf(m)), 15_000);

    const deploy = await run(ADMIN, 'cloud-deploy', [
      { name: 'project', value: 'web' },
      { name: 'resource_type', value: 'bucket' },
      { name: 'disk_size', value: 5 },
    ]);
    await deploy.waitForOriginal((m) => JSON.stringify(m.components).includes(':apply'), 30_000);
    await (await server.clickButton({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, customId: /:apply$/ })).waitForResponse();
    await deploy.waitForOriginal((m) => /Deployed bucket/.test(textOf(m)), 30_000);

    const policy = await run(ADMIN, 'cloud-guild-policy', [
      { name: 'action', value: 'update' },
      { name: 'notification_channel', value: NOTICES },
    ]);
    await policy.waitForResponse();

    const workspace = join(tmp.dir, 'deployments', `guild_${GUILD}`, 'web');
    const state = JSON.parse(readFileSync(join(workspace, 'terraform.tfstate'), 'utf8')) as { resources: Array<{ type: string; name: string }> };
    const address = `${state.resources[0]!.type}.${state.resources[0]!.name}`;
    writeFileSync(join(workspace, 'fake-engine.json'), JSON.stringify({ drift: { [address]: { attributes: { storage_class: 'ARCHIVE', api_token: SECRET }, sensitive: ['api_token'] } } }));

    const enable = await run(ADMIN, 'cloud-drift', [
      { name: 'subcommand', value: 'enable' },
      { name: 'project', value: 'web' },
      { name: 'schedule', value: 'daily' },
    ]);
    expect(JSON.stringify((await enable.waitForResponse()).data)).toMatch(/Drift check enabled/);

    const check = await run(ADMIN, 'cloud-drift', [
      { name: 'subcommand', value: 'check' },
      { name: 'project', value: 'web' },
    ]);
    expect((await check.waitForResponse()).type).toBe(5);
    await check.waitForOriginal((m) => /Drift found/.test(textOf(m)), 30_000);

    const [report] = server.channelMessages(NOTICES).filter((m) => /Drift in web/.test(textOf(m)));
    expect(report).toBeDefined();
    expect(textOf(report)).toContain(address);
    expect(textOf(report)).toMatch(/storage_class/);
    expect(textOf(report)).toMatch(/api_token.*sensitive, not shown/);
    expect(server.allMessagesText()).not.toContain(SECRET);
    expect(buttonsOf(report!).map((b) => b.custom_id)).toEqual(['drift:reconcile:1', 'drift:accept:1']);

    const refused = await (await server.clickButton({ guildId: GUILD, channelId: NOTICES, userId: MEMBER, customId: 'drift:accept:1' })).waitForResponse();
    expect(refused.type).toBe(4);
    expect(JSON.stringify(refused.data)).toMatch(/Manage Server/);

    // A new process: the button names the check, not anything the old one held. Its vault is empty, so Accept
    // cannot run: the presser is told why, privately, and the report keeps its buttons.
    expect(await bot.stop()).toBe(0);
    await start();
    const reportNow = () => server.channelMessages(NOTICES).find((m) => m.id === report!.id)!;
    const noCredential = await server.clickButton({ guildId: GUILD, channelId: NOTICES, userId: ADMIN, customId: 'drift:accept:1' });
    expect((await noCredential.waitForResponse()).type).toBe(7);
    await expect.poll(() => noCredential.followUps().map((m) => textOf(m)).join('\n'), { timeout: 30_000 }).toMatch(/credential/);
    expect(textOf(reportNow())).toMatch(/Accept did not go through/);
    expect(buttonsOf(reportNow()).map((b) => b.custom_id)).toEqual(['drift:reconcile:1', 'drift:accept:1']);

    // The admin opens a session again (cloud-init on the same project); the same button now works.
    const again = await run(ADMIN, 'cloud-init', [
      { name: 'provider', value: 'gcp' },
      { name: 'project_name', value: 'web' },
      { name: 'region', value: 'us-central1' },
    ]);
    await again.waitForResponse();
    const renewed = await server.submitModal({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, fields: { project_id: 'web-project-123' } });
    await renewed.waitForOriginal((m) => /initialised|renewed|session/i.test(textOf(m)), 15_000);
    const accept = await server.clickButton({ guildId: GUILD, channelId: NOTICES, userId: ADMIN, customId: 'drift:accept:1' });
    expect((await accept.waitForResponse()).type).toBe(7);
    await expect.poll(() => textOf(reportNow()), { timeout: 30_000 }).toMatch(/accepted the drift/);
    expect(buttonsOf(reportNow())).toEqual([]);
  }, 180_000);
});
