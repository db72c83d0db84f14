/**
 * End to end across machines (issue 16): two managers, as on two machines, each running the one shard it is given
 * (SHARD_COUNT=2, SHARD_LIST=0 or 1) with a deployments folder of its own, both on one PostgreSQL database, against
 * the local Discord-compatible server (which hands each shard its own guilds, as Discord does). Each shard deploys
 * and grants in its own guild; each expiry is revoked and told once; a bot serving every guild, and a second shard of
 * an id already running, are refused; a shard killed with -9 mid-apply is started again by its manager, settles its
 * run and tells the member while the other machine goes on; SIGTERM stops each machine gracefully.
 */
import { execa } from 'execa';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { shardOfGuild } from '../src/sharding/shard-scope.js';
import { FakeDiscordServer, Permission } from './discord-server/index.js';
import { FAKE_ENGINE_BIN, REPO_ROOT, startBot, type BotProcess } from './support/bot-process.js';
import { describeWithPostgres } from './support/postgres-server.js';
import { alive, commandsIn, logLines, titled } from './support/shard-e2e.js';
import { makeTempDir } from './support/tmp.js';

const APP_ID = '900000000000000001';
const TOKEN = 'test-bot-token';
/** Served by shard 0 and shard 1 of 2 (checked below). */
const GUILDS = ['320000000000000002', '310000000000000001'] as const;
const CHANNEL = ['320000000000000021', '310000000000000011'] as const;
const ADMIN = ['420000000000000001', '410000000000000001'] as const;
const MEMBER = ['420000000000000003', '410000000000000003'] as const;
const PERMS = Permission.ViewChannel | Permission.SendMessages | Permission.UseApplicationCommands;
const SHARD_IDS = [0, 1] as const;

describeWithPostgres('two machines, one shard each, on one PostgreSQL database', (postgres) => {
  let server: FakeDiscordServer;
  let database: pg.Pool;
  let tmp: { dir: string; cleanup: () => void };
  let env: Record<string, string>;
  const machines: BotProcess[] = [];
  const deploymentsOf = (shard: number) => join(tmp.dir, `machine-${shard}`, 'deployments');
  const seat = (shard: number) => ({ guildId: GUILDS[shard]!, channelId: CHANNEL[shard]!, adminId: ADMIN[shard]! });
  const commands = (shard: number) => commandsIn(server, seat(shard));
  const machineEnv = (shard: number) => ({ ...env, SHARD_COUNT: '2', SHARD_LIST: String(shard), DEPLOYMENTS_DIR: deploymentsOf(shard), DATABASE_PATH: join(tmp.dir, `machine-${shard}`, 'unused.db') });
  const output = () => machines.map((machine) => machine.output()).join('\n');
  const shardPid = (shard: number) => logLines(machines[shard]!.output()).filter((line) => line.msg === 'shard started' && line.shardId === shard).at(-1)?.pid as number;

  beforeAll(async () => {
    expect(GUILDS.map((guildId) => shardOfGuild(guildId, 2))).toEqual([0, 1]);
    tmp = makeTempDir('chatops-e2e-pg-shards-');
    const url = await postgres().createDatabase();
    database = new pg.Pool({ connectionString: url, max: 2 });
    server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN, shardCount: 2 });
    for (const shard of SHARD_IDS) {
      await server.addGuild({ id: GUILDS[shard], name: `Guild on shard ${shard}`, ownerId: ADMIN[shard], channels: [{ id: CHANNEL[shard], name: 'ops' }] });
      await server.addMember(GUILDS[shard], { id: ADMIN[shard], username: `admin-${shard}`, permissions: PERMS | Permission.ManageGuild });
      await server.addMember(GUILDS[shard], { id: MEMBER[shard], username: `member-${shard}`, permissions: PERMS });
    }
    env = {
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: server.apiUrl,
      DATABASE_URL: url,
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
    for (const shard of SHARD_IDS) machines.push(startBot(machineEnv(shard)));
    await server.waitForReady(150_000);
    for (const machine of machines) await machine.waitForOutput(/every shard is ready/, 60_000);
  }, 240_000);

  afterAll(async () => {
    const late = server?.deadlineViolations() ?? [];
    for (const machine of machines) if ((await Promise.race([machine.exited(), Promise.resolve('running')])) === 'running') await machine.stop();
    await database?.end();
    await server?.close();
    tmp?.cleanup();
    expect(late).toEqual([]);
  });

  it('gives each machine its shard, and each shard answers only its own guild', async () => {
    expect(server.identifies().map((identify) => identify.shard).sort()).toEqual([[0, 2], [1, 2]]);
    for (const shard of SHARD_IDS) {
      const listing = await commands(shard).run(ADMIN[shard], 'cloud-projects');
      expect((await listing.waitForResponse()).type).toBeGreaterThan(0);
    }
    const takersOf = (guildId: string) =>
      [...new Set(logLines(output()).filter((line) => line.msg === 'interaction received' && line.guildId === guildId).map((line) => line.shard))];
    for (const shard of SHARD_IDS) await expect.poll(() => takersOf(GUILDS[shard]), { timeout: 10_000 }).toEqual([shard]);
  }, 60_000);

  it('deploys in both guilds, each on its own machine, into one database', async () => {
    for (const shard of SHARD_IDS) {
      const deploy = await commands(shard).planned(`Web ${shard}`);
      await commands(shard).pressApply();
      await commands(shard).finalText(deploy, /Deployed bucket/, 30_000);
    }
    const { rows } = await database.query<{ guild_id: string; status: string }>(
      "SELECT guild_id, status FROM cloud_resources WHERE status = 'active' ORDER BY guild_id COLLATE \"C\"",
    );
    expect(rows.map((row) => row.guild_id)).toEqual([...GUILDS].sort());
  }, 120_000);

  it('grants in both shards; each expiry is revoked by its own shard and told by DM exactly once', async () => {
    for (const shard of SHARD_IDS) {
      const grant = await commands(shard).run(ADMIN[shard], 'cloud-jit-grant', [
        { name: 'user', value: MEMBER[shard] },
        { name: 'provider', value: 'aws' },
        { name: 'level', value: 'deployer' },
        { name: 'duration', value: 30 },
      ]);
      expect(await commands(shard).finalText(grant, /JIT permission granted/)).toMatch(/Deployer/i);
    }
    await database.query('UPDATE jit_permissions SET expires_at = $1 WHERE NOT revoked', [Date.now() - 1000]);
    for (const shard of SHARD_IDS) {
      await expect.poll(() => titled(server.dmsTo(MEMBER[shard]), 'JIT permission expired').length, { timeout: 15_000 }).toBeGreaterThan(0);
    }
    // Two more janitor ticks on each machine: whatever one would send twice, it has sent by then.
    for (const shard of SHARD_IDS) {
      const ticks = () => logLines(machines[shard]!.output()).filter((line) => typeof line.tick === 'number').map((line) => line.tick as number);
      const target = Math.max(0, ...ticks()) + 2;
      await expect.poll(() => ticks().includes(target), { timeout: 15_000 }).toBe(true);
    }
    for (const shard of SHARD_IDS) expect(titled(server.dmsTo(MEMBER[shard]), 'JIT permission expired')).toHaveLength(1);
    const { rows } = await database.query<{ guild_id: string }>("SELECT guild_id FROM audit_log WHERE action = 'jit.expire' ORDER BY guild_id COLLATE \"C\"");
    expect(rows.map((row) => row.guild_id)).toEqual([...GUILDS].sort());
  }, 90_000);

  it('refuses a bot serving every guild, and a second shard 1, while the shards run; neither changes anything', async () => {
    const single = startBot({ ...env, DATABASE_PATH: join(tmp.dir, 'single.db'), DEPLOYMENTS_DIR: join(tmp.dir, 'single') });
    expect(await single.exited()).toBe(1);
    expect(single.output()).toMatch(/already in use by process \d+/);
    const second = startBot({ ...machineEnv(1), DEPLOYMENTS_DIR: join(tmp.dir, 'second') });
    expect(await second.exited()).toBe(1);
    expect(second.output()).toMatch(new RegExp(`its shard 1\\) is already in use by process ${shardPid(1)}\\b`));
    expect(alive(shardPid(0)) && alive(shardPid(1))).toBe(true);
  }, 120_000);

  /**
   * "Applying" is on the card before the run's row and its engine are (on PostgreSQL they take a few round trips):
   * mid-apply means the engine is running, as the database says.
   */
  async function engineRunning(shard: number): Promise<void> {
    const running = async () =>
      (await database.query("SELECT 1 FROM iac_runs WHERE kind = 'apply' AND status = 'running' AND engine_pid IS NOT NULL AND guild_id = $1", [GUILDS[shard]])).rowCount;
    await expect.poll(running, { timeout: 15_000 }).toBe(1);
  }

  it('after kill -9 of one shard mid-apply, its manager starts it again; it settles its own run and tells the member', async () => {
    const deploy = await commands(1).applyRunning('Crash Test', deploymentsOf(1));
    expect(deploy).toBeDefined();
    await engineRunning(1);
    const killed = shardPid(1);
    process.kill(killed, 'SIGKILL');
    await expect.poll(() => shardPid(1) !== killed, { timeout: 30_000 }).toBe(true);
    await expect
      .poll(() => server.channelMessages(CHANNEL[1]).filter((m) => JSON.stringify(m.embeds).includes('was interrupted')).length, { timeout: 60_000 })
      .toBe(1);
    await expect.poll(() => server.isReady(), { timeout: 30_000 }).toBe(true);
    const listing = await commands(1).run(ADMIN[1], 'cloud-projects');
    expect((await listing.waitForResponse()).type).toBeGreaterThan(0);
    // The other machine was never touched: its shard still runs and settled nothing.
    expect(alive(shardPid(0))).toBe(true);
    // Log lines go out in batches, up to a tenth of a second late (src/logging/logger.ts): wait for the line.
    const settledShards = () =>
      logLines(output())
        .filter((line) => line.msg === 'runs left unfinished by the last stop marked interrupted' && (line.runs as number) > 0)
        .map((line) => line.shard);
    await expect.poll(settledShards, { timeout: 5_000 }).toEqual([1]);
    const { rows } = await database.query<{ status: string }>("SELECT status FROM iac_runs WHERE kind = 'apply' AND guild_id = $1 ORDER BY id DESC LIMIT 1", [GUILDS[1]]);
    expect(rows[0]?.status).toBe('interrupted');
  }, 180_000);

  it('on SIGTERM each machine stops its shard gracefully: a running apply is stopped cleanly and its member told', async () => {
    const deploy = await commands(0).applyRunning('Shutdown Test', deploymentsOf(0));
    await engineRunning(0);
    for (const machine of machines) expect(await machine.stop()).toBe(0);
    expect(JSON.stringify(deploy.original())).toMatch(/restarting.*stopped cleanly/s);
    const { rows } = await database.query<{ status: string }>("SELECT status FROM iac_runs WHERE kind = 'apply' AND guild_id = $1 ORDER BY id DESC LIMIT 1", [GUILDS[0]]);
    expect(rows[0]?.status).toBe('interrupted');
    // Each shard's lock went with its connection: nothing of the bot is left connected.
    const { rows: left } = await database.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'chatops %'");
    expect(left[0]?.n).toBe(0);
  }, 120_000);
});
