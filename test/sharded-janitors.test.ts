/**
 * Several shards on one SQLite file: each shard's janitor acts only on the rows of the guilds it serves (the shard
 * formula, in SQL), so two janitors racing on one database revoke each expired grant once, remind of it once, expire
 * each request once, and tell each member exactly once, from the shard that serves the member's guild. Real cores
 * (the composition root with a shard scope), one database folder, a fake clock; the ticks of both run at once.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { shardCondition, shardOfGuild, servesGuild, type ShardScope } from '../src/sharding/shard-scope.js';
import { bootApp } from './support/jit-request-app.js';
import { FakeClock } from './support/clock.js';
import { RecordingNotifier, type SentNotice } from './support/recording-notifier.js';
import { makeTempDir } from './support/tmp.js';

const ADMIN = '222222222222222222';
const CHANNEL = '400000000000000001';
/** Guild ids spread over both shards of two (checked in the test). */
const GUILDS = Array.from({ length: 8 }, (_, i) => String(310000000000000001n + BigInt(i) * 987654321987n));
const memberOf = (guildIndex: number, n: number) => String(500000000000000000n + BigInt(guildIndex * 10 + n));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const titleOf = (sent: SentNotice) => sent.notice.title;
const dmsTitled = (notifier: RecordingNotifier, title: string) =>
  notifier.sent.filter((sent) => 'user' in sent.to && titleOf(sent) === title).map((sent) => (sent.to as { user: string }).user);

async function twoShards(env: Record<string, string> = {}) {
  const { dir, cleanup } = makeTempDir('chatops-shards-');
  cleanups.push(cleanup);
  const clock = new FakeClock();
  const shards = [] as { scope: ShardScope; notifier: RecordingNotifier; app: Awaited<ReturnType<typeof bootApp>> }[];
  for (const id of [0, 1]) {
    const notifier = new RecordingNotifier();
    const scope = { id, count: 2 };
    // Both start on one folder: each holds only its own shard's lock.
    const app = await bootApp(dir, clock, notifier, env, scope);
    cleanups.push(() => app.stop());
    shards.push({ scope, notifier, app });
  }
  const owner = (guildId: string) => shards[shardOfGuild(guildId, 2)]!;
  /** Both janitors tick at the same time, `times` times. */
  const raceTicks = async (times = 3) => {
    for (let i = 0; i < times; i += 1) await Promise.all(shards.map((shard) => shard.app.tick()));
  };
  return { dir, clock, shards, owner, raceTicks };
}

describe('the shard formula in SQL', () => {
  it('picks exactly the guilds the JavaScript formula gives the shard, for any snowflake', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (guild_id TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    const ids = ['0', '4194303', '4194304', '9223372036854775807', ...GUILDS];
    for (let i = 0; i < 500; i += 1) ids.push(String(BigInt(Math.floor(Math.random() * 2 ** 52)) * 2048n + BigInt(i)));
    for (const id of ids) insert.run(id);
    for (const count of [1, 2, 3, 7]) {
      for (let id = 0; id < count; id += 1) {
        const scope = { id, count };
        const inSql = (db.prepare(`SELECT guild_id FROM t WHERE 1 = 1${shardCondition(scope)}`).all() as { guild_id: string }[]).map((row) => row.guild_id);
        expect(inSql.sort()).toEqual(ids.filter((guildId) => servesGuild(scope, guildId)).sort());
      }
    }
    db.close();
  });

  it('refuses a shard outside its count rather than write it into SQL', () => {
    expect(() => shardCondition({ id: 2, count: 2 })).toThrow(/invalid shard/);
    expect(() => shardCondition({ id: 0.5, count: 2 })).toThrow(/invalid shard/);
    expect(shardCondition({ id: 0, count: 1 })).toBe('');
  });
});

describe('two shards’ janitors racing on one database', () => {
  it('revoke and tell each expired grant exactly once, each from the shard that serves its guild', async () => {
    const { clock, shards, owner, raceTicks } = await twoShards();
    expect(new Set(GUILDS.map((guildId) => shardOfGuild(guildId, 2)))).toEqual(new Set([0, 1]));
    const expected: Record<string, string[]> = { 0: [], 1: [] };
    for (const [g, guildId] of GUILDS.entries()) {
      for (const n of [1, 2]) {
        const member = memberOf(g, n);
        // Granted through the shard that serves the guild, as its interaction would be.
        const result = await owner(guildId).app.app.jit.grant({ guildId, granteeId: member, granteeIsBot: false, grantedBy: ADMIN, provider: 'aws', level: 'deployer', durationMinutes: 30 });
        expect(result.grant.guildId).toBe(guildId);
        expected[shardOfGuild(guildId, 2)]!.push(member);
      }
    }
    // Into the reminder window (10 minutes before the end): each holder is reminded once, by its own shard.
    clock.advance(21 * 60_000);
    await raceTicks();
    for (const shard of shards) expect(dmsTitled(shard.notifier, 'JIT permission ending soon').sort()).toEqual(expected[shard.scope.id]!.sort());

    // Past the end: both janitors race over the same due grants.
    clock.advance(10 * 60_000);
    await raceTicks();
    for (const shard of shards) expect(dmsTitled(shard.notifier, 'JIT permission expired').sort()).toEqual(expected[shard.scope.id]!.sort());

    const db = shards[0]!.app.core.database.sqlite!.sqlite;
    const rows = db.prepare("SELECT revoked, revoke_reason, notice_status, notice_attempts FROM jit_permissions").all() as Record<string, unknown>[];
    expect(rows).toHaveLength(GUILDS.length * 2);
    expect(rows.every((row) => row.revoked === 1 && row.revoke_reason === 'expired' && row.notice_status === 'sent' && row.notice_attempts === 1)).toBe(true);
    const audited = db.prepare("SELECT json_extract(details, '$.grantId') AS grant_id, COUNT(*) AS n FROM audit_log WHERE action = 'jit.expire' GROUP BY grant_id").all() as { n: number }[];
    expect(audited).toHaveLength(GUILDS.length * 2);
    expect(audited.every((row) => row.n === 1)).toBe(true);
  }, 30_000);

  it('expire each undecided request once and tell its requester once, from its own shard', async () => {
    const { clock, shards, owner, raceTicks } = await twoShards({ JIT_REQUEST_TTL_MINUTES: '60' });
    const expected: Record<string, string[]> = { 0: [], 1: [] };
    for (const [g, guildId] of GUILDS.entries()) {
      const requester = memberOf(g, 3);
      await owner(guildId).app.app.jitRequests.ask({ guildId, channelId: CHANNEL, requesterId: requester, requesterIsBot: false, provider: 'aws', level: 'deployer', durationMinutes: 30, reason: 'incident' });
      expected[shardOfGuild(guildId, 2)]!.push(requester);
    }
    clock.advance(61 * 60_000);
    await raceTicks();
    for (const shard of shards) expect(dmsTitled(shard.notifier, 'JIT request expired').sort()).toEqual(expected[shard.scope.id]!.sort());
    const db = shards[1]!.app.core.database.sqlite!.sqlite;
    const rows = db.prepare("SELECT status, notice_status FROM jit_requests").all();
    expect(rows).toEqual(GUILDS.map(() => ({ status: 'expired', notice_status: 'sent' })));
    const audited = db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'jit.request.expire'").get() as { n: number };
    expect(audited.n).toBe(GUILDS.length);
  }, 30_000);

  it('leave another shard’s rows alone while it is down: they wait for it, not for a stranger', async () => {
    const { clock, shards } = await twoShards();
    const guildOf1 = GUILDS.find((guildId) => shardOfGuild(guildId, 2) === 1)!;
    await shards[1]!.app.app.jit.grant({ guildId: guildOf1, granteeId: memberOf(0, 9), granteeIsBot: false, grantedBy: ADMIN, provider: 'aws', level: 'deployer', durationMinutes: 30 });
    await shards[1]!.app.stop();
    clock.advance(31 * 60_000);
    await shards[0]!.app.tick();
    expect(shards[0]!.notifier.sent).toEqual([]);
    const db = shards[0]!.app.core.database.sqlite!.sqlite;
    expect(db.prepare('SELECT revoked FROM jit_permissions').get()).toEqual({ revoked: 0 });
    // The access itself is over at its end whoever revokes it: the check at use compares the time.
    expect(await shards[0]!.app.app.jit.effectiveLevel({ guildId: guildOf1, userId: memberOf(0, 9), provider: 'aws', isGuildAdmin: false })).toBeNull();
  }, 30_000);
});
