/**
 * The sharding settings: one process unless SHARDS, SHARD_COUNT or SHARD_LIST say otherwise; a shard started by the
 * manager reads its shard from discord.js's own variables (where SHARDS is its id); every mistake is named.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/index.js';
import { parseShardingSettings } from '../src/config/sharding.js';

const problems = (env: NodeJS.ProcessEnv): string[] => {
  try {
    parseShardingSettings(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('sharding settings', () => {
  it('run one process when nothing is set (blank counts as unset)', () => {
    expect(parseShardingSettings({})).toEqual({ role: 'single' });
    expect(parseShardingSettings({ SHARDS: '', SHARD_LIST: ' ' })).toEqual({ role: 'single' });
  });

  it('run the manager with Discord’s recommended count, or a number, on this machine', () => {
    expect(parseShardingSettings({ SHARDS: 'auto' })).toEqual({ role: 'manager', totalShards: 'auto', shardList: 'auto' });
    expect(parseShardingSettings({ SHARDS: '4' })).toEqual({ role: 'manager', totalShards: 4, shardList: 'auto' });
    expect(parseShardingSettings({ SHARD_COUNT: '3' })).toEqual({ role: 'manager', totalShards: 3, shardList: 'auto' });
  });

  it('run some of the shards on this machine with SHARD_LIST and SHARD_COUNT', () => {
    expect(parseShardingSettings({ SHARD_COUNT: '4', SHARD_LIST: '2, 3,3' })).toEqual({ role: 'manager', totalShards: 4, shardList: [2, 3] });
    expect(parseShardingSettings({ SHARDS: '4', SHARD_LIST: '0' })).toEqual({ role: 'manager', totalShards: 4, shardList: [0] });
  });

  it('name each mistake without echoing the value', () => {
    expect(problems({ SHARDS: 'many' })).toEqual(['SHARDS: expected auto, or a whole number from 1 to 4096']);
    expect(problems({ SHARDS: '0' })).toEqual(['SHARDS: expected auto, or a whole number from 1 to 4096']);
    expect(problems({ SHARD_LIST: '0,1' })).toEqual(['SHARD_COUNT: expected the total number of shards on all machines, when SHARD_LIST is set']);
    expect(problems({ SHARDS: 'auto', SHARD_LIST: '0' })).toHaveLength(1);
    expect(problems({ SHARD_COUNT: '2', SHARD_LIST: '1,2,5' })).toEqual(['SHARD_LIST: expected shard ids below SHARD_COUNT (2); 2, 5 is not']);
    expect(problems({ SHARD_COUNT: '2', SHARD_LIST: 'one' })).toEqual(['SHARD_LIST: expected shard ids separated by commas, such as 0,1']);
    expect(problems({ SHARDS: '2', SHARD_COUNT: '3' })).toEqual(['SHARD_COUNT: expected the same number as SHARDS (2), or unset']);
  });

  it('read a shard’s id and count from what the ShardingManager sets, where SHARDS is the id', () => {
    expect(parseShardingSettings({ SHARDING_MANAGER: 'true', SHARDS: '1', SHARD_COUNT: '2', SHARD_LIST: '1' })).toEqual({ role: 'shard', shard: { id: 1, count: 2 } });
    expect(parseShardingSettings({ SHARDING_MANAGER: 'true', SHARDS: '0', SHARD_COUNT: '1' })).toEqual({ role: 'shard', shard: { id: 0, count: 1 } });
    expect(problems({ SHARDING_MANAGER: 'true', SHARDS: '2', SHARD_COUNT: '2' })[0]).toMatch(/started as a shard .*SHARDS: expected a shard id below SHARD_COUNT/);
  });
});
