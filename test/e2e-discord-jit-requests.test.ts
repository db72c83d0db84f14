/**
 * End to end on Discord: a JIT access request through the real bot and unmodified discord.js against the local
 * Discord-compatible server. The member asks; the card's Approve is pressed after the bot restarted (the button names
 * the request, not anything the old process held); the approval's form shortens the duration; the member gets a DM.
 */
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
const MEMBER = '410000000000000003';
const PERMS = Permission.ViewChannel | Permission.SendMessages | Permission.UseApplicationCommands;

const titled = (messages: RecordedMessage[], title: string) => messages.filter((m) => m.embeds.some((e) => e.title === title));

describe('JIT access requests on Discord', () => {
  let server: FakeDiscordServer;
  let bot: BotProcess;
  let tmp: { dir: string; cleanup: () => void };
  let env: Record<string, string>;

  const start = async () => {
    bot = startBot(env);
    await server.waitForReady(30_000);
    await bot.waitForOutput(/taking interactions/, 30_000);
  };

  beforeAll(async () => {
    tmp = makeTempDir('chatops-e2e-jitreq-');
    server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN });
    await server.addGuild({ id: GUILD, name: 'ACME Corp', ownerId: ADMIN, channels: [{ id: CHANNEL, name: 'ops' }] });
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

  it('request → (restart) → Approve with a shorter duration → the member gets a DM with the expiry', async () => {
    const asked = await server.sendChatInput({
      guildId: GUILD,
      channelId: CHANNEL,
      userId: MEMBER,
      name: 'cloud-jit-request',
      options: [
        { name: 'provider', value: 'aws' },
        { name: 'level', value: 'deployer' },
        { name: 'duration', value: 60 },
        { name: 'reason', value: 'incident 42' },
      ],
    });
    expect((await asked.waitForResponse()).type).toBe(5);
    const sent = await asked.waitForOriginal((m) => JSON.stringify(m.embeds).includes('Request sent'));
    expect(sent.flags & 64).toBe(64);
    const [card] = titled(server.channelMessages(CHANNEL), '🙋 JIT access request #1');
    expect(buttonsOf(card!).map((b) => b.custom_id)).toEqual(['jitreq:approve:1', 'jitreq:deny:1']);

    // The requester's own press is refused, privately.
    const own = await server.clickButton({ guildId: GUILD, channelId: CHANNEL, userId: MEMBER, customId: 'jitreq:approve:1' });
    const refused = await own.waitForResponse();
    expect(refused.type).toBe(4);
    expect(JSON.stringify(refused.data)).toMatch(/cannot decide your own request/);

    // A new process: nothing of the old one's memory is left, and the button still works.
    expect(await bot.stop()).toBe(0);
    await start();

    const press = await server.clickButton({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, customId: 'jitreq:approve:1' });
    expect((await press.waitForResponse()).type).toBe(9);
    const submitted = await server.submitModal({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, fields: { minutes: '30' } });
    expect((await submitted.waitForResponse()).type).toBe(7);
    const updated = server.channelMessages(CHANNEL).find((m) => m.id === card!.id);
    expect(JSON.stringify(updated?.embeds)).toMatch(/Approved by <@410000000000000001> for 30 min/);
    expect(buttonsOf(updated!)).toEqual([]);

    await expect.poll(() => titled(server.dmsTo(MEMBER), 'JIT request approved').length, { timeout: 10_000 }).toBe(1);
    const [dm] = titled(server.dmsTo(MEMBER), 'JIT request approved');
    expect(JSON.stringify(dm?.embeds)).toMatch(/<t:\d+:R>/);
    expect(JSON.stringify(dm?.embeds)).toMatch(/approved by <@410000000000000001>/);
  }, 90_000);
});
