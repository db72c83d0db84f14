/**
 * The per-guild policy cache: an update is seen at once by the same process, a rolled-back write is never kept,
 * memory is bounded, and a write by another process is seen at once, with the cache on or off.
 */
import { sqliteDataAccess } from '../src/db/data-access.js';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqlitePolicyRepository } from '../src/policy/policy-repository.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const GUILD_C = '444444444444444444';
const ADMIN = '333333333333333333';

describe('policy cache', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function setup(cacheGuilds?: number) {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const clock = new FakeClock();
    const policies = new PolicyService(sqliteDataAccess(database), PriceCatalogue.load(), clock, undefined, { cacheGuilds });
    // Another process on the same file: a connection of its own, writing behind this one's back.
    const other = new Database(database.path);
    cleanups.unshift(() => other.close());
    const writeBehind = (guildId: string, budget: number) =>
      other
        .prepare(
          'INSERT INTO guild_policies (guild_id, max_budget_monthly, created_at, updated_at) VALUES (?, ?, 1, 1) ON CONFLICT (guild_id) DO UPDATE SET max_budget_monthly = excluded.max_budget_monthly',
        )
        .run(guildId, budget);
    return { database, policies, writeBehind };
  }

  it('shows an update at once, to the policy view and to the next deployment check', async () => {
    const { policies } = setup();
    const smallVm = { provider: 'gcp', resourceType: 'vm', instanceType: 'e2-micro', diskSizeGb: 10 } as const;
    expect((await policies.get(GUILD_A)).maxInstances).toBe(10);
    expect((await policies.validate(GUILD_A, smallVm)).allowed).toBe(true);
    await policies.update(GUILD_A, { maxInstances: 0 }, ADMIN);
    expect((await policies.get(GUILD_A)).maxInstances).toBe(0);
    expect((await policies.validate(GUILD_A, smallVm)).violations.map((v) => v.rule)).toEqual(['instances']);
    // The guild that did not change keeps its defaults.
    expect((await policies.get(GUILD_B)).maxInstances).toBe(10);
  });

  it('never keeps a write that was rolled back, even one read inside its transaction', async () => {
    const { database } = setup();
    const data = sqliteDataAccess(database);
    const repository = new SqlitePolicyRepository(database);
    const values = (budget: number) => ({ max_budget_monthly: budget, updated_at: 1 });
    await repository.save(GUILD_A, values(100), 1);
    expect((await repository.find(GUILD_A))?.maxBudgetMonthly).toBe(100);
    await expect(
      data.transaction(async () => {
        await repository.save(GUILD_A, values(999), 2);
        // Inside the transaction its own write is what it reads...
        expect((await repository.find(GUILD_A))?.maxBudgetMonthly).toBe(999);
        throw new Error('something later in the transaction failed');
      }),
    ).rejects.toThrow(/later in the transaction/);
    // ...and after the rollback, what was committed.
    expect((await repository.find(GUILD_A))?.maxBudgetMonthly).toBe(100);
  });

  it('hands out a frozen policy, so no caller can change what the next one reads', async () => {
    const { policies } = setup();
    await policies.update(GUILD_A, { allowedInstanceTypes: ['e2-micro'] }, ADMIN);
    const policy = await policies.get(GUILD_A);
    expect(() => policy.allowedInstanceTypes.push('n1-standard-32')).toThrow(TypeError);
    expect(() => Object.assign(policy, { maxBudgetMonthly: 1 })).toThrow(TypeError);
    expect((await policies.get(GUILD_A)).allowedInstanceTypes).toEqual(['e2-micro']);
  });

  it('keeps at most the guilds it was sized for, forgetting the least recently used first', async () => {
    const { policies, writeBehind } = setup(2);
    writeBehind(GUILD_A, 100);
    writeBehind(GUILD_B, 200);
    writeBehind(GUILD_C, 300);
    expect((await policies.get(GUILD_A)).maxBudgetMonthly).toBe(100);
    expect((await policies.get(GUILD_B)).maxBudgetMonthly).toBe(200);
    expect((await policies.get(GUILD_A)).maxBudgetMonthly).toBe(100); // A is now the most recently used
    expect((await policies.get(GUILD_C)).maxBudgetMonthly).toBe(300); // B, the least recently used, goes
    writeBehind(GUILD_A, 101);
    writeBehind(GUILD_B, 201);
    // Another process's commit empties the cache (data_version, asked once per synchronous stretch): both are read again.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect((await policies.get(GUILD_A)).maxBudgetMonthly).toBe(101);
    expect((await policies.get(GUILD_B)).maxBudgetMonthly).toBe(201);
  });

  it('with the cache off (cacheGuilds: 0), sees another process’s write at once', async () => {
    const { policies, writeBehind } = setup(0);
    expect((await policies.get(GUILD_A)).maxBudgetMonthly).toBe(1000);
    writeBehind(GUILD_A, 2500);
    expect((await policies.get(GUILD_A)).maxBudgetMonthly).toBe(2500);
    writeBehind(GUILD_A, 10);
    expect((await policies.get(GUILD_A)).maxBudgetMonthly).toBe(10);
  });
});
