/**
 * The shards benchmark's choices, without running it. Its guilds (bench/load/shard-guilds.ts): for every shard count
 * it measures, each shard must serve the same number of guilds, or the figure for N shards would be the busiest
 * shard's, not N shards'. Its databases (bench/load/bench-database.ts): SQLite, or a PostgreSQL server of its own,
 * seeded alike and counted alike.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { BenchmarkRefused } from '../bench/harness.js';
import { databaseKinds, openBenchDatabase, type DatabaseKind } from '../bench/load/bench-database.js';
import { benchWorld } from '../bench/load/scenarios.js';
import { findPostgresBinaries, postgresForTests } from './support/postgres-server.js';
import { makeTempDir } from './support/tmp.js';
import { evenGuildCount, guildIdsCoveringShards } from '../bench/load/shard-guilds.js';
import { shardOfGuild } from '../src/sharding/shard-scope.js';
import { isSnowflake } from '../src/shared/snowflake.js';

const guildsPerShard = (ids: string[], count: number) => {
  const perShard = Array.from({ length: count }, () => 0);
  for (const id of ids) perShard[shardOfGuild(id, count)]! += 1;
  return perShard;
};

describe('guild ids for the shards benchmark', () => {
  it('spread 8 guilds evenly over 1, 2 and 4 shards: every shard gets its share', () => {
    const ids = guildIdsCoveringShards([1, 2, 4], 8);
    expect(guildsPerShard(ids, 1)).toEqual([8]);
    expect(guildsPerShard(ids, 2)).toEqual([4, 4]);
    expect(guildsPerShard(ids, 4)).toEqual([2, 2, 2, 2]);
  });

  it('cover counts that are not powers of two, such as 3 and 6 shards', () => {
    const ids = guildIdsCoveringShards([3, 6], 12);
    expect(guildsPerShard(ids, 3)).toEqual([4, 4, 4]);
    expect(guildsPerShard(ids, 6)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('are distinct, valid Discord ids', () => {
    const ids = guildIdsCoveringShards([1, 2, 4], 8);
    expect(new Set(ids).size).toBe(8);
    for (const id of ids) expect(isSnowflake(id), id).toBe(true);
  });

  it('refuses a guild count that some shard count does not divide, and a shard count below 1', () => {
    expect(() => guildIdsCoveringShards([1, 2, 4], 6)).toThrow(/6 guilds do not divide evenly over 4 shards/);
    expect(() => guildIdsCoveringShards([0], 4)).toThrow(RangeError);
    expect(() => guildIdsCoveringShards([], 4)).toThrow(RangeError);
  });
});

describe('guild count for the shards benchmark', () => {
  it('is the fewest, from the minimum, that every shard count divides', () => {
    expect(evenGuildCount([1, 2, 4], 8)).toBe(8);
    expect(evenGuildCount([1, 2, 4], 5)).toBe(8);
    expect(evenGuildCount([3, 4], 8)).toBe(12);
    expect(evenGuildCount([8], 2)).toBe(8);
  });
});

describe('databases for the shards benchmark', () => {
  it('runs on SQLite by default', () => {
    expect(databaseKinds(undefined)).toEqual(['sqlite']);
  });

  it('refuses PostgreSQL without server binaries, saying what to install', () => {
    const none = { PATH: '/nonexistent', PG_BIN_DIR: '/nonexistent' };
    expect(() => databaseKinds('postgres', none)).toThrow(BenchmarkRefused);
    expect(() => databaseKinds('sqlite,postgres', none)).toThrow(/PG_BIN_DIR=\/nonexistent holds no initdb/);
  });

  it.skipIf('missing' in findPostgresBinaries())('takes PostgreSQL alone or beside SQLite, in the order given', () => {
    expect(databaseKinds('postgres')).toEqual(['postgres']);
    expect(databaseKinds('postgres,sqlite')).toEqual(['postgres', 'sqlite']);
  });

  const kinds: DatabaseKind[] = 'missing' in postgresForTests() ? ['sqlite'] : ['sqlite', 'postgres'];
  it.each(kinds)('on %s: seeds the world, takes the grants and counts the janitor’s progress alike', async (kind) => {
    const { dir, cleanup } = makeTempDir('chatops-bench-db-');
    onTestFinished(cleanup);
    const database = await openBenchDatabase(kind, dir);
    onTestFinished(() => database.close());
    const guilds = guildIdsCoveringShards([1, 2], 2);
    await database.seed(benchWorld(guilds));
    const now = Date.now();
    const grants = Array.from({ length: 1_500 }, (_, k) => ({
      guildId: guilds[k % 2] as string,
      userId: String(510000000000000000n + BigInt(k)),
      provider: 'aws' as const,
      level: 'deployer' as const,
      reason: null,
      grantedAt: now - 60_000,
      expiresAt: now - 1,
      grantedBy: '420000000000000001',
    }));
    await database.insertGrants(grants);
    expect(await database.janitorProgress()).toEqual({ grants: 1_500, revoked: 0, noticed: 0, notNoticed: 0, audited: 0 });
    expect(database.botEnv[kind === 'sqlite' ? 'DATABASE_PATH' : 'DATABASE_URL']).toBeDefined();
  }, 60_000);

  it('refuses an unknown database by name', () => {
    expect(() => databaseKinds('mysql')).toThrow(/unknown mysql; known: sqlite, postgres/);
  });
});
