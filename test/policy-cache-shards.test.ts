/**
 * The policy cache with shards: a shard also reads other shards' guilds' policies (for a press in a DM, which Discord
 * sends to shard 0), which the other shard may change at any moment. The cache notices another connection's commit
 * (SQLite's data_version, src/db/guild-cache.ts) from the next interaction on. Two connections on one file stand for
 * two shards.
 */
import { sqliteDataAccess } from '../src/db/data-access.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { shardOfGuild } from '../src/sharding/shard-scope.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const SHARD0_GUILD = '320000000000000002';
const SHARD1_GUILD = '310000000000000001';
const ADMIN = '222222222222222222';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).reverse().forEach((cleanup) => cleanup()));

function shardPolicies(path: string) {
  const handle = openDatabase(path);
  cleanups.push(handle.close);
  return new PolicyService(sqliteDataAccess(handle), PriceCatalogue.load(), new FakeClock());
}

const nextInteraction = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('guild policies read by two shards', () => {
  // Each interaction is its own turn of the event loop (it arrives as I/O): the awaits stand for the next one.
  it('see another shard’s guild as it is now, and their own guilds’ changes at once', async () => {
    expect([shardOfGuild(SHARD0_GUILD, 2), shardOfGuild(SHARD1_GUILD, 2)]).toEqual([0, 1]);
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const shard0 = shardPolicies(database.path);
    const shard1 = shardPolicies(database.path);

    const before = (await shard0.get(SHARD1_GUILD)).maxBudgetMonthly;
    await nextInteraction();
    await shard1.update(SHARD1_GUILD, { maxBudgetMonthly: before + 7 }, ADMIN);
    await nextInteraction();
    expect((await shard0.get(SHARD1_GUILD)).maxBudgetMonthly).toBe(before + 7);

    // Its own guild: changed through itself, forgotten by the write itself.
    const own = (await shard0.get(SHARD0_GUILD)).maxBudgetMonthly;
    await shard0.update(SHARD0_GUILD, { maxBudgetMonthly: own + 3 }, ADMIN);
    expect((await shard0.get(SHARD0_GUILD)).maxBudgetMonthly).toBe(own + 3);
  });
});
