/**
 * End to end with shards: `SHARDS=2` runs discord.js's ShardingManager, which starts the real bot twice, as two
 * processes on one SQLite file, against the local Discord-compatible server (which hands each shard its own guilds,
 * as Discord does). Each shard answers only its own guild's interactions, a JIT grant and its expiry DM work in both
 * and each expiry is revoked and told exactly once, and SIGTERM to the manager stops both shards the way one bot
 * stops: the engine of a running apply gets SIGINT and its member is told.
 */
import { execa } from 'execa';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOfGuild } from '../src/sharding/shard-scope.js';
import { FakeDiscordServer, Permission, type InteractionHandle } from './discord-server/index.js';
import { FAKE_ENGINE_BIN, REPO_ROOT, startBot, type BotProcess } from './support/bot-process.js';
import { alive, commandsIn, logLines, textOf, titled } from './support/shard-e2e.js';
import { makeTempDir } from './support/tmp.js';

const APP_ID = '900000000000000001';
const TOKEN = 'test-bot-token';
/** Served by shard 0 and shard 1 of 2 (checked below). */
const GUILD_0 = '320000000000000002';
const GUILD_1 = '310000000000000001';
const CHANNEL = { [GUILD_0]: '320000000000000021', [GUILD_1]: '310000000000000011' } as const;
const ADMIN = { [GUILD_0]: '420000000000000001', [GUILD_1]: '410000000000000001' } as const;
const MEMBER = { [GUILD_0]: '420000000000000003', [GUILD_1]: '410000000000000003' } as const;
const PERMS = Permission.ViewChannel | Permission.SendMessages | Permission.UseApplicationCommands;
const GUILDS = [GUILD_0, GUILD_1] as const;

describe('the bot in two shards (two processes) on one database', () => {
  let server: FakeDiscordServer;
  let bot: BotProcess;
  let tmp: { dir: string; cleanup: () => void };
  let dbPath: string;
  let deploymentsDir: string;
  let env: Record<string, string>;

  const run = (guildId: (typeof GUILDS)[number], userId: string, name: string, options: Array<{ name: string; value: string | number | boolean }> = []) =>
    server.sendChatInput({ guildId, channelId: CHANNEL[guildId], userId, name, options, ignoreDefaultMemberPermissions: true });

  const finalText = async (handle: InteractionHandle, pattern: RegExp, timeoutMs = 15_000) =>
    textOf(await handle.waitForOriginal((m) => pattern.test(textOf(m)), timeoutMs));

  /** Inits a project in the guild and starts an apply that runs until it is stopped (the stand-in sleeps). */
  const applyRunning = (guildId: (typeof GUILDS)[number], name: string): Promise<InteractionHandle> =>
    commandsIn(server, { guildId, channelId: CHANNEL[guildId], adminId: ADMIN[guildId] }).applyRunning(name, deploymentsDir);

  /** Resolves once each shard's janitor (every second here) has finished two more ticks: what it would resend, it has. */
  async function twoJanitorTicksLaterInEachShard(): Promise<void> {
    for (const shard of [0, 1]) {
      const ticks = logLines(bot.output()).filter((line) => line.shard === shard && typeof line.tick === 'number').map((line) => line.tick as number);
      const target = Math.max(0, ...ticks) + 2;
      await expect
        .poll(() => logLines(bot.output()).some((line) => line.shard === shard && line.tick === target), { timeout: 15_000 })
        .toBe(true);
    }
  }

  beforeAll(async () => {
    expect([shardOfGuild(GUILD_0, 2), shardOfGuild(GUILD_1, 2)]).toEqual([0, 1]);
    tmp = makeTempDir('chatops-e2e-shards-');
    dbPath = join(tmp.dir, 'chatops.db');
    deploymentsDir = join(tmp.dir, 'deployments');
    server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN, shardCount: 2 });
    for (const guildId of GUILDS) {
      await server.addGuild({ id: guildId, name: `Guild on shard ${shardOfGuild(guildId, 2)}`, ownerId: ADMIN[guildId], channels: [{ id: CHANNEL[guildId], name: 'ops' }] });
      await server.addMember(guildId, { id: ADMIN[guildId], username: `admin-${guildId}`, permissions: PERMS | Permission.ManageGuild });
      await server.addMember(guildId, { id: MEMBER[guildId], username: `member-${guildId}`, permissions: PERMS });
    }
    env = {
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: server.apiUrl,
      DATABASE_PATH: dbPath,
      DEPLOYMENTS_DIR: deploymentsDir,
      IAC_BIN_DIR: FAKE_ENGINE_BIN,
      JANITOR_SCHEDULE: '* * * * * *',
      LOG_LEVEL: 'debug',
      RATE_LIMIT_MEMBER_PER_MINUTE: '1000',
      RATE_LIMIT_GUILD_PER_MINUTE: '1000',
    };
    for (const guildId of GUILDS) {
      await execa('node', ['--import', 'tsx', 'src/discord/register.ts'], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, DISCORD_GUILD_ID: guildId },
        extendEnv: false,
      });
    }
    bot = startBot({ ...env, SHARDS: '2' });
    // Generous: two bots start on a machine that may be busy with other tests.
    await server.waitForReady(150_000);
    await bot.waitForOutput(/every shard is ready/, 60_000);
  }, 240_000);

  afterAll(async () => {
    const late = server?.deadlineViolations() ?? [];
    if (bot && (await Promise.race([bot.exited(), Promise.resolve('running')])) === 'running') await bot.stop();
    await server?.close();
    tmp?.cleanup();
    expect(late).toEqual([]);
  });

  it('splits the guilds across two processes, each identifying as its shard and answering only its own guild', async () => {
    expect(server.identifies().map((identify) => identify.shard).sort()).toEqual([[0, 2], [1, 2]]);
    const started = logLines(bot.output()).filter((line) => line.msg === 'shard started');
    const pids = new Set(started.map((line) => line.pid));
    expect(pids.size).toBe(2);
    expect(pids.has(bot.pid)).toBe(false);

    for (const guildId of GUILDS) {
      const listing = await run(guildId, ADMIN[guildId], 'cloud-projects');
      expect((await listing.waitForResponse()).type).toBeGreaterThan(0);
    }
    // Each shard writes its log in batches (src/logging/logger.ts): its lines arrive a moment after its replies.
    const takersOf = (guildId: string) =>
      [...new Set(logLines(bot.output()).filter((line) => line.msg === 'interaction received' && line.guildId === guildId).map((line) => line.shard))];
    for (const guildId of GUILDS) await expect.poll(() => takersOf(guildId), { timeout: 10_000 }).toEqual([shardOfGuild(guildId, 2)]);
    // Each shard connected with its one guild.
    const connected = () => logLines(bot.output()).filter((line) => line.msg === 'connected to Discord, taking interactions');
    await expect.poll(() => connected().map((line) => [line.shard, line.guilds]).sort(), { timeout: 10_000 }).toEqual([[0, 1], [1, 1]]);
  }, 60_000);

  it('grants in both shards, and each expiry is revoked by its own shard and told by DM exactly once', async () => {
    for (const guildId of GUILDS) {
      const grant = await run(guildId, ADMIN[guildId], 'cloud-jit-grant', [
        { name: 'user', value: MEMBER[guildId] },
        { name: 'provider', value: 'aws' },
        { name: 'level', value: 'deployer' },
        { name: 'duration', value: 30 },
      ]);
      expect(await finalText(grant, /JIT permission granted/)).toMatch(/Deployer/i);
      await expect.poll(() => titled(server.dmsTo(MEMBER[guildId]), 'JIT permission granted').length, { timeout: 10_000 }).toBe(1);
    }
    // Both grants run out now; both shards' janitors tick every second on the same table.
    const db = new Database(dbPath);
    db.prepare('UPDATE jit_permissions SET expires_at = ? WHERE revoked = 0').run(Date.now() - 1000);
    db.close();
    for (const guildId of GUILDS) {
      await expect.poll(() => titled(server.dmsTo(MEMBER[guildId]), 'JIT permission expired').length, { timeout: 15_000 }).toBeGreaterThan(0);
    }
    await twoJanitorTicksLaterInEachShard();
    for (const guildId of GUILDS) expect(titled(server.dmsTo(MEMBER[guildId]), 'JIT permission expired')).toHaveLength(1);
    // Each shard revoked one grant: its own guild's.
    const expiredBy = logLines(bot.output()).filter((line) => typeof line['jit-expiry.expired'] === 'number' && (line['jit-expiry.expired'] as number) > 0);
    expect(expiredBy.map((line) => [line.shard, line['jit-expiry.expired']]).sort()).toEqual([[0, 1], [1, 1]]);
    const audit = new Database(dbPath, { readonly: true });
    const expiries = audit.prepare("SELECT guild_id FROM audit_log WHERE action = 'jit.expire' ORDER BY guild_id").all();
    audit.close();
    expect(expiries).toEqual([{ guild_id: GUILD_1 }, { guild_id: GUILD_0 }].sort((a, b) => a.guild_id.localeCompare(b.guild_id)));
  }, 90_000);

  it('refuses a single-process bot, and a second manager, on the database the manager holds', async () => {
    for (const extra of [{}, { SHARDS: '2' }] as Record<string, string>[]) {
      const second = startBot({ ...env, ...extra });
      expect(await second.exited()).toBe(1);
      expect(second.output()).toMatch(new RegExp(`already in use by process ${bot.pid}\\b`));
    }
  }, 60_000);

  it('after kill -9 of one shard mid-apply, the manager starts it again; it settles its own run and tells the member, the other shard goes on', async () => {
    const guildId = GUILD_1;
    await applyRunning(guildId, 'Crash Test');
    const startedBefore = logLines(bot.output()).filter((line) => line.msg === 'shard started').length;
    const shard1 = logLines(bot.output()).filter((line) => line.msg === 'shard started' && line.shardId === 1).at(-1)?.pid as number;
    process.kill(shard1, 'SIGKILL');
    await expect
      .poll(() => logLines(bot.output()).filter((line) => line.msg === 'shard started').length, { timeout: 15_000 })
      .toBe(startedBefore + 1);
    await expect
      .poll(() => server.channelMessages(CHANNEL[guildId]).filter((m) => JSON.stringify(m.embeds).includes('was interrupted')).length, { timeout: 30_000 })
      .toBe(1);
    // The new shard 1 serves its guild again; shard 0 was never touched (its pid still runs, nothing of it settled).
    await expect.poll(() => server.isReady(), { timeout: 30_000 }).toBe(true);
    const listing = await run(guildId, ADMIN[guildId], 'cloud-projects');
    expect((await listing.waitForResponse()).type).toBeGreaterThan(0);
    const shard0 = logLines(bot.output()).find((line) => line.msg === 'shard started' && line.shardId === 0)?.pid as number;
    expect(alive(shard0)).toBe(true);
    const settled = () => logLines(bot.output()).filter((line) => line.msg === 'runs left unfinished by the last stop marked interrupted' && (line.runs as number) > 0);
    await expect.poll(() => settled().map((line) => line.shard), { timeout: 10_000 }).toEqual([1]);
  }, 120_000);

  it('on SIGTERM to the manager stops both shards gracefully: a running apply is stopped cleanly and its member told', async () => {
    // A running apply in shard 1's guild, so the stop must travel from the manager to a shard.
    const guildId = GUILD_1;
    const deploy = await applyRunning(guildId, 'Shutdown Test');

    const shardPids = logLines(bot.output()).filter((line) => line.msg === 'shard started').map((line) => line.pid as number);
    const shardsRunning = shardPids.filter(alive);
    expect(shardsRunning).toHaveLength(2);
    expect(await bot.stop()).toBe(0);
    expect(textOf(deploy.original())).toMatch(/restarting.*stopped cleanly/s);
    // Both shards were told and went through their own graceful stop before the manager exited.
    const lines = logLines(bot.output());
    expect(lines.filter((line) => line.msg === 'shutting down').map((line) => [line.shard, line.signal]).sort()).toEqual([[0, 'SIGTERM'], [1, 'SIGTERM'], ['manager', 'SIGTERM']].sort());
    expect(lines.filter((line) => line.msg === 'shard stopped').map((line) => [line.shardId, line.exitCode]).sort()).toEqual([[0, 0], [1, 0]]);
    for (const pid of shardsRunning) expect(alive(pid)).toBe(false);
    const db = new Database(dbPath, { readonly: true });
    const apply = db.prepare("SELECT status FROM iac_runs WHERE kind = 'apply' ORDER BY id DESC LIMIT 1").get() as { status: string };
    db.close();
    expect(apply.status).toBe('interrupted');
  }, 120_000);
});

describe('SHARDS=2 npm start, as an operator runs it', () => {
  it('a terminal’s Ctrl-C (SIGINT to the whole process group) stops the manager and both shards once each, gracefully', async () => {
    const tmp = makeTempDir('chatops-e2e-shards-npm-');
    const server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN, shardCount: 2 });
    let bot: BotProcess | undefined;
    try {
      for (const guildId of GUILDS) await server.addGuild({ id: guildId, name: 'g', ownerId: ADMIN[guildId], channels: [{ id: CHANNEL[guildId], name: 'ops' }] });
      bot = startBot(
        {
          DISCORD_TOKEN: TOKEN,
          DISCORD_APPLICATION_ID: APP_ID,
          DISCORD_API_URL: server.apiUrl,
          DATABASE_PATH: join(tmp.dir, 'chatops.db'),
          DEPLOYMENTS_DIR: join(tmp.dir, 'deployments'),
          IAC_BIN_DIR: FAKE_ENGINE_BIN,
          LOG_LEVEL: 'debug',
          SHARDS: '2',
        },
        [],
        { via: 'npm-start' },
      );
      await server.waitForReady(150_000);
      await bot.waitForOutput(/every shard is ready/, 60_000);
      bot.signalGroup('SIGINT');
      expect(await bot.exited(), bot.output().slice(-3000)).toBe(0);
      const lines = logLines(bot.output());
      expect(lines.filter((line) => line.msg === 'shutting down').map((line) => String(line.shard)).sort()).toEqual(['0', '1', 'manager']);
      expect(lines.filter((line) => line.msg === 'second signal: exiting now')).toEqual([]);
      expect(lines.filter((line) => line.msg === 'shard stopped').map((line) => [line.shardId, line.exitCode]).sort()).toEqual([[0, 0], [1, 0]]);
    } finally {
      if (bot && (await Promise.race([bot.exited(), Promise.resolve('running')])) === 'running') await bot.kill('SIGKILL');
      await server.close();
      tmp.cleanup();
    }
  }, 240_000);
});
