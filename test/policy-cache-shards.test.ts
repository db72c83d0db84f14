/**
 * The policy cache with shards: a shard caches only its own guilds' policies, since only it receives their admins'
 * changes. Another guild's policy (read for a press in a DM, which Discord sends to shard 0) is read afresh each time,
 * so a change the other shard just saved holds at once. Two connections on one file stand for two shards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { servesGuild, shardOfGuild } from '../src/sharding/shard-scope.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const SHARD0_GUILD = '320000000000000002';
const SHARD1_GUILD = '310000000000000001';
const ADMIN = '222222222222222222';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).reverse().forEach((cleanup) => cleanup()));

function shardPolicies(path: string, id: number) {
  const handle = openDatabase(path);
  cleanups.push(handle.close);
  const shard = { id, count: 2 };
  return new PolicyService(handle.db, PriceCatalogue.load(), new FakeClock(), undefined, { cacheGuild: (guildId) => servesGuild(shard, guildId) });
}

describe('guild policies read by two shards', () => {
  it('see another shard’s guild as it is now, while their own guilds stay cached', () => {
    expect([shardOfGuild(SHARD0_GUILD, 2), shardOfGuild(SHARD1_GUILD, 2)]).toEqual([0, 1]);
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const shard0 = shardPolicies(database.path, 0);
    const shard1 = shardPolicies(database.path, 1);

    const before = shard0.get(SHARD1_GUILD).maxBudgetMonthly;
    shard1.update(SHARD1_GUILD, { maxBudgetMonthly: before + 7 }, ADMIN);
    expect(shard0.get(SHARD1_GUILD).maxBudgetMonthly).toBe(before + 7);

    // Its own guild: cached, and changed only through itself (the guild's interactions all arrive at it).
    const own = shard0.get(SHARD0_GUILD).maxBudgetMonthly;
    shard0.update(SHARD0_GUILD, { maxBudgetMonthly: own + 3 }, ADMIN);
    expect(shard0.get(SHARD0_GUILD).maxBudgetMonthly).toBe(own + 3);
  });
});
