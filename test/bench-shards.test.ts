/**
 * The shards benchmark's choices, without running it. Its guilds (bench/load/shard-guilds.ts): for every shard count
 * it measures, each shard must serve the same number of guilds, or the figure for N shards would be the busiest
 * shard's, not N shards'. Its databases (bench/load/bench-database.ts): PostgreSQL is refused with the reason.
 */
import { describe, expect, it } from 'vitest';
import { BenchmarkRefused } from '../bench/harness.js';
import { databaseKinds } from '../bench/load/bench-database.js';
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

  it('refuses PostgreSQL, saying the bot cannot run on it yet, alone or beside SQLite', () => {
    for (const flag of ['postgres', 'sqlite,postgres']) {
      expect(() => databaseKinds(flag)).toThrow(BenchmarkRefused);
      expect(() => databaseKinds(flag)).toThrow(/bot cannot run on PostgreSQL/);
    }
  });

  it('refuses an unknown database by name', () => {
    expect(() => databaseKinds('mysql')).toThrow(/unknown mysql; known: sqlite, postgres/);
  });
});
