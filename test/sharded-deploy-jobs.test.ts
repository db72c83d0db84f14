/**
 * Two shards on one SQLite file, the janitor jobs of deployments: approvals' expiry, TTL reminders, the destroy at a
 * TTL's end, and drift checks. Each shard's janitor acts only on the guilds it serves ((guild_id >> 22) % 2), so with
 * both janitors ticking at once every row is acted on once, by the process that holds its guild's vault session,
 * workspace locks and runs, and every notice goes once, from that shard. Real cores (the composition root with a
 * shard scope) over one folder, the stand-in engine, a fake clock; each guild set up through its own shard, as its
 * interactions would be.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { plain } from '../src/shared/text.js';
import { shardOfGuild, type ShardScope } from '../src/sharding/shard-scope.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { FakeClock } from './support/clock.js';
import { bootApp } from './support/jit-request-app.js';
import { RecordingNotifier } from './support/recording-notifier.js';
import { STAND_IN_SANDBOX_ENV } from './support/sandbox-env.js';
import { makeTempDir } from './support/tmp.js';

/** One guild served by each shard of two (checked below). */
const GUILDS = ['320000000000000002', '310000000000000001'] as const;
const CHANNEL: Record<string, string> = { [GUILDS[0]]: '400000000000000010', [GUILDS[1]]: '400000000000000011' };
const NOTICES: Record<string, string> = { [GUILDS[0]]: '400000000000000020', [GUILDS[1]]: '400000000000000021' };
/** Each guild's admin, who deploys there (and so is reminded and told). */
const ADMIN: Record<string, Actor> = {
  [GUILDS[0]]: { id: '300000000000000010', displayName: 'alice', isBot: false, isGuildAdmin: true },
  [GUILDS[1]]: { id: '300000000000000011', displayName: 'bea', isBot: false, isGuildAdmin: true },
};
const bucket = { project: 'web', resource_type: 'bucket', disk_size: 5 };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Shard = { scope: ShardScope; notifier: RecordingNotifier; bot: Awaited<ReturnType<typeof bootApp>> };

/** Both shards over one folder, each guild's project `web` initialised (vault session, notification channel) by its own shard. */
async function twoShards(env: Record<string, string> = {}) {
  expect(GUILDS.map((guildId) => shardOfGuild(guildId, 2))).toEqual([0, 1]);
  const { dir, cleanup } = makeTempDir('chatops-shard-jobs-');
  cleanups.push(cleanup);
  const clock = new FakeClock();
  const shards: Shard[] = [];
  for (const id of [0, 1]) {
    const notifier = new RecordingNotifier({ [GUILDS[0]]: 'Guild zero', [GUILDS[1]]: 'Guild one' });
    const scope = { id, count: 2 };
    // Sessions last the whole test: the janitor's destroys and checks use the project's vault session.
    const bot = await bootApp(dir, clock, notifier, { IAC_BIN_DIR: FAKE_ENGINE_BIN, VAULT_TTL_MINUTES: '1440', ...STAND_IN_SANDBOX_ENV, ...env }, scope);
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await bot.stop();
      stopped = true;
    });
    shards.push({ scope, notifier, bot });
  }
  const owner = (guildId: string) => shards[shardOfGuild(guildId, 2)]!;
  const say = (guildId: string, name: string, options: Record<string, string | number | boolean>, answers: Parameters<Shard['bot']['say']>[5] = {}) =>
    owner(guildId).bot.say(ADMIN[guildId]!, name, options, guildId, CHANNEL[guildId], answers);
  for (const guildId of GUILDS) {
    const init = await say(guildId, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, { modal: { project_id: `web-${guildId.slice(-4)}` } });
    expect(init.text()).toMatch(/initialised/);
    expect((await say(guildId, 'cloud-guild-policy', { action: 'update', notification_channel: NOTICES[guildId]! })).text()).toMatch(/Notification channel/i);
  }
  /** Both janitors tick in turn, each waiting for what its tick started (destroys, drift checks). */
  const raceTicks = async (times = 2) => {
    for (let i = 0; i < times; i += 1) {
      // One shard after the other, each settled: two SQLite connections in one process would block each other's
      // BEGIN now that a workspace claim's unit of work spans a few microtasks (shards are processes in production;
      // two processes racing for a lease: shared-state-processes.test.ts).
      for (const shard of shards) {
        await shard.bot.tick();
        await Promise.all([shard.bot.app.deploymentTtls.settled(), shard.bot.core.driftChecks.idle()]);
      }
    }
  };
  const sqlite = () => {
    const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
    cleanups.push(() => {
      db.close();
    });
    return db;
  };
  for (const shard of shards) shard.notifier.sent.length = 0;
  return { dir, clock, shards, owner, say, raceTicks, sqlite };
}

/** What one shard sent: its DMs (by recipient) and its posts (by channel), as titles. */
function sentBy(shard: Shard) {
  return {
    dms: (userId: string) => shard.notifier.dmsTo(userId).map((notice) => plain(notice.title)),
    posts: (channelId: string) => shard.notifier.postsIn(channelId).map((notice) => plain(notice.title)),
    all: () => shard.notifier.sent.map((sent) => ({ to: sent.to, title: plain(sent.notice.title) })),
  };
}

/** Every notice shard `shard` sent was about its own guild: to its admin, or in its channels. */
function expectOnlyOwnGuild(shard: Shard) {
  const own = GUILDS.filter((guildId) => shardOfGuild(guildId, 2) === shard.scope.id);
  const allowed = new Set(own.flatMap((guildId) => [ADMIN[guildId]!.id, CHANNEL[guildId]!, NOTICES[guildId]!]));
  for (const sent of sentBy(shard).all()) expect(allowed.has('user' in sent.to ? sent.to.user : sent.to.channel), JSON.stringify(sent)).toBe(true);
}

describe('two shards’ janitors on one database, deployments’ jobs', () => {
  it('expire each deployment approval once, in its own shard: one audit entry, its plan discarded, the requester told once', async () => {
    const { clock, shards, owner, say, raceTicks, sqlite, dir } = await twoShards({ DEPLOY_APPROVAL_TTL_MINUTES: '60' });
    for (const guildId of GUILDS) {
      await say(guildId, 'cloud-guild-policy', { action: 'update', require_approval: true });
      const reply = await say(guildId, 'cloud-deploy', bucket, { buttons: [{ buttonId: 'apply', by: ADMIN[guildId]! }] });
      expect(reply.text()).toMatch(/Waiting for an admin’s approval/);
    }
    const approvals = await Promise.all(GUILDS.map(async (guildId) => (await owner(guildId).bot.app.deployApprovals.records.findInGuild(guildId, guildId === GUILDS[0] ? 1 : 2))!));
    expect(approvals.map((approval) => approval.status)).toEqual(['pending', 'pending']);
    for (const shard of shards) shard.notifier.sent.length = 0;

    clock.advanceMinutes(61);
    await raceTicks();
    for (const [index, guildId] of GUILDS.entries()) {
      const mine = owner(guildId);
      expect((await mine.bot.app.deployApprovals.records.findInGuild(guildId, approvals[index]!.id))?.status).toBe('expired');
      expect(sentBy(mine).dms(ADMIN[guildId]!.id)).toEqual(['Deployment approval expired']);
      const plan = join(dir, 'deployments', `guild_${guildId}`, 'web', '.plans', `run-${approvals[index]!.planRunId}.tfplan`);
      expect(existsSync(plan)).toBe(false);
    }
    for (const shard of shards) expectOnlyOwnGuild(shard);
    const audited = sqlite()
      .prepare("SELECT guild_id, COUNT(*) AS n FROM audit_log WHERE action = 'deploy.approval' AND json_extract(details, '$.answer') = 'expired' GROUP BY guild_id ORDER BY guild_id")
      .all();
    expect(audited).toEqual([...GUILDS].sort().map((guild_id) => ({ guild_id, n: 1 })));
  }, 90_000);

  it('remind of each TTL once and destroy each deployment at its end once, each from its own shard with its own vault session', async () => {
    const { clock, shards, owner, say, raceTicks, sqlite } = await twoShards();
    for (const guildId of GUILDS) {
      const deployed = await say(guildId, 'cloud-deploy', { ...bucket, ttl: '3h' }, { buttons: [{ buttonId: 'apply', by: ADMIN[guildId]! }] });
      expect(deployed.text()).toMatch(/Deployed bucket/);
    }
    for (const shard of shards) shard.notifier.sent.length = 0;

    // Into the last hour: each deployer is reminded by DM and in the channel once, by the shard of its guild.
    clock.advanceMinutes(2 * 60 + 1);
    await raceTicks();
    for (const guildId of GUILDS) {
      const mine = sentBy(owner(guildId));
      expect(mine.dms(ADMIN[guildId]!.id)).toEqual(['Deployment ending soon']);
      expect(mine.posts(NOTICES[guildId]!)).toEqual(['Deployment ending soon']);
    }
    for (const shard of shards) expectOnlyOwnGuild(shard);
    const reminded = sqlite().prepare('SELECT guild_id, COUNT(*) AS n FROM deployment_ttl_reminders GROUP BY guild_id ORDER BY guild_id').all();
    expect(reminded).toEqual([...GUILDS].sort().map((guild_id) => ({ guild_id, n: 1 })));

    // Past the end: a shard destroying another's deployment would have no vault session for it (a failed try, told).
    for (const shard of shards) shard.notifier.sent.length = 0;
    clock.advanceMinutes(60);
    await raceTicks();
    for (const guildId of GUILDS) {
      const mine = owner(guildId);
      expect((await mine.bot.app.resources.listByGuild(guildId)).map((resource) => resource.status)).toEqual(['destroyed']);
      expect(sentBy(mine).dms(ADMIN[guildId]!.id)).toEqual(['Deployment expired and destroyed']);
    }
    for (const shard of shards) expectOnlyOwnGuild(shard);
    const rows = sqlite().prepare('SELECT guild_id, ttl_attempts, ttl_notice_status, ttl_last_error FROM cloud_resources ORDER BY guild_id').all();
    expect(rows).toEqual([...GUILDS].sort().map((guild_id) => ({ guild_id, ttl_attempts: 1, ttl_notice_status: 'sent', ttl_last_error: null })));
    const destroys = sqlite().prepare("SELECT guild_id, COUNT(*) AS n FROM iac_runs WHERE kind = 'destroy' GROUP BY guild_id ORDER BY guild_id").all();
    expect(destroys).toEqual([...GUILDS].sort().map((guild_id) => ({ guild_id, n: 1 })));
  }, 120_000);

  it('Destroy now pressed in a DM (which Discord sends to shard 0) about a guild of shard 1: destroyed by shard 1, not in shard 0', async () => {
    const { shards, owner, say, raceTicks, sqlite } = await twoShards();
    const guildId = GUILDS[1];
    const deployer = ADMIN[guildId]!;
    expect((await say(guildId, 'cloud-deploy', { ...bucket, ttl: '3h' }, { buttons: [{ buttonId: 'apply', by: deployer }] })).text()).toMatch(/Deployed bucket/);
    // In a DM there are no server permissions: the deployer's Admin grant is what allows Destroy now there.
    await owner(guildId).bot.app.jit.grant({ guildId, granteeId: deployer.id, granteeIsBot: false, grantedBy: '300000000000000099', provider: 'gcp', level: 'admin', durationMinutes: 480, reason: 'cleanup' });
    const [resource] = await owner(guildId).bot.app.resources.listByGuild(guildId);
    for (const shard of shards) shard.notifier.sent.length = 0;

    const pressed = await shards[0]!.bot.press({ ...deployer, isGuildAdmin: false }, `ttl:destroy:${resource!.id}`, { guildId: null });
    expect(pressed.text()).toMatch(/pressed Destroy now: deployment #\d+ .* is destroyed within about 1 min, by the bot's process that serves its server/);
    // Shard 0 has no vault session and no workspace lock of that guild: it started nothing.
    const destroys = () => sqlite().prepare("SELECT guild_id, status FROM iac_runs WHERE kind = 'destroy'").all();
    expect(destroys()).toEqual([]);
    expect((await owner(guildId).bot.app.resources.get(guildId, resource!.id)).status).toBe('active');

    await raceTicks(1);
    expect((await owner(guildId).bot.app.resources.get(guildId, resource!.id)).status).toBe('destroyed');
    expect(destroys()).toEqual([{ guild_id: guildId, status: 'succeeded' }]);
    expect(sentBy(owner(guildId)).dms(deployer.id)).toEqual(['Deployment expired and destroyed']);
    expect(shards[0]!.notifier.sent).toEqual([]);
  }, 120_000);

  it('run each due drift check once, in its own shard, and post each report once', async () => {
    const { clock, shards, owner, say, raceTicks, sqlite, dir } = await twoShards();
    for (const guildId of GUILDS) {
      const deployed = await say(guildId, 'cloud-deploy', bucket, { buttons: [{ buttonId: 'apply', by: ADMIN[guildId]! }] });
      expect(deployed.text()).toMatch(/Deployed bucket/);
      expect((await say(guildId, 'cloud-drift', { subcommand: 'enable', project: 'web', schedule: '*/5 * * * *' })).text()).toMatch(/enabled|Drift check/i);
      const [resource] = await owner(guildId).bot.app.resources.listByGuild(guildId);
      const knobs = { drift: { [resource!.addresses[0]!]: { attributes: { storage_class: 'COLDLINE' }, sensitive: [] } } };
      writeFileSync(join(dir, 'deployments', `guild_${guildId}`, 'web', 'fake-engine.json'), JSON.stringify(knobs));
    }
    for (const shard of shards) shard.notifier.sent.length = 0;

    clock.advanceMinutes(5);
    await raceTicks(1);
    for (const guildId of GUILDS) {
      const posts = sentBy(owner(guildId)).posts(NOTICES[guildId]!);
      expect(posts).toHaveLength(1);
      expect(posts[0]).toMatch(/Drift in web/);
      expect((await owner(guildId).bot.app.drift.deps.checks.list(guildId))[0]).toMatchObject({ lastStatus: 'drifted', lastCheckedAt: clock.now() });
    }
    for (const shard of shards) expectOnlyOwnGuild(shard);
    const checks = sqlite().prepare("SELECT guild_id, COUNT(*) AS n FROM iac_runs WHERE kind = 'drift' GROUP BY guild_id ORDER BY guild_id").all();
    expect(checks).toEqual([...GUILDS].sort().map((guild_id) => ({ guild_id, n: 1 })));
  }, 120_000);
});
