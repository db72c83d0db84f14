/**
 * End to end on Discord: a chart PNG reaches the channel as a real multipart upload, through discord.js, and the
 * one-off key is typed into a modal. The real bot against the local Discord-compatible server and a real s3rver.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withS3Client } from '../src/storage/s3-client.js';
import { FakeDiscordServer, Permission } from './discord-server/index.js';
import { FAKE_ENGINE_BIN, REPO_ROOT, startBot, type BotProcess } from './support/bot-process.js';
import { startS3Server, type TestS3Server } from './support/s3-server.js';
import { makeTempDir } from './support/tmp.js';

const APP_ID = '900000000000000001';
const TOKEN = 'test-bot-token';
const GUILD = '310000000000000001';
const CHANNEL = '310000000000000011';
const ADMIN = '410000000000000001';
const PERMS = Permission.ViewChannel | Permission.SendMessages | Permission.UseApplicationCommands | Permission.ManageGuild;
const LOG_LINE = (ip: string) =>
  `owner media [10/Mar/2024:11:00:00 +0000] ${ip} requester REQ1 REST.GET.OBJECT a.txt "GET /media/a.txt HTTP/1.1" 200 - 10 10 3 2 "-" "curl/8.0" -`;

describe('/cloud-storage on Discord', () => {
  let discord: FakeDiscordServer;
  let s3: TestS3Server;
  let bot: BotProcess;
  let tmp: { dir: string; cleanup: () => void };

  beforeAll(async () => {
    tmp = makeTempDir('chatops-e2e-storage-');
    s3 = await startS3Server({ buckets: ['logs'] });
    await withS3Client({ secrets: { access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey }, endpoint: s3.endpoint }, (client) =>
      client.send(new PutObjectCommand({ Bucket: 'logs', Key: '2024-03-10-11-00-00-AAAA', Body: [LOG_LINE('10.1.1.1'), LOG_LINE('10.1.1.1'), LOG_LINE('10.2.2.2')].join('\n') })),
    );
    discord = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN });
    await discord.addGuild({ id: GUILD, name: 'ACME Corp', ownerId: ADMIN, channels: [{ id: CHANNEL, name: 'ops' }] });
    await discord.addMember(GUILD, { id: ADMIN, username: 'alice', permissions: PERMS });
    const env = {
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: discord.apiUrl,
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
    bot = startBot(env);
    await discord.waitForReady(30_000);
    await bot.waitForOutput(/taking interactions/, 30_000);
  }, 90_000);

  afterAll(async () => {
    await bot?.stop();
    await discord?.close();
    await s3?.stop();
    tmp?.cleanup();
  });

  it('asks a one-off key in a modal, then attaches the top-requesters chart as a PNG upload', async () => {
    const command = await discord.sendChatInput({
      guildId: GUILD,
      channelId: CHANNEL,
      userId: ADMIN,
      name: 'cloud-storage',
      ignoreDefaultMemberPermissions: true,
      options: [
        {
          name: 'logs',
          type: 2,
          options: [
            {
              name: 'top-requesters',
              type: 1,
              options: [
                { name: 'log_bucket', value: 'logs' },
                { name: 'one_off', value: true },
                { name: 'endpoint', value: s3.endpoint },
              ],
            },
          ],
        },
      ],
    });
    expect((await command.waitForResponse()).type).toBe(9);
    const submitted = await discord.submitModal({
      guildId: GUILD,
      channelId: CHANNEL,
      userId: ADMIN,
      fields: { access_key_id: s3.accessKeyId, secret_access_key: 'never-stored-secret' },
    });
    const reply = await submitted.waitForOriginal((m) => m.attachments.length > 0, 20_000);
    expect(JSON.stringify(reply.embeds)).toMatch(/10\.1\.1\.1.*2 request/);
    const [chart] = reply.attachments;
    expect(chart?.filename).toBe('top-requesters.png');
    const bytes = Buffer.from(chart?.bytes ?? new Uint8Array());
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([800, 400]);
  }, 60_000);
});
