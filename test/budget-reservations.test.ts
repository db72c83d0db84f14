/**
 * Budget holds on both dialects: a hold counts in the next check, in every process, until released or lapsed; one
 * guild's never count for another; and two processes reserving at once cannot both fit one budget (on PostgreSQL
 * from two connection pools; on SQLite test/shared-state-processes.test.ts races two real processes).
 */
import { expect, it } from 'vitest';
import type { DataAccess } from '../src/db/data-access.js';
import { BudgetReservations } from '../src/deploy/budget-reservations.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { HEARTBEAT_EVERY_MS, LEASE_MS, LeaseHeartbeat } from '../src/shared/leases.js';
import { FakeClock } from './support/clock.js';
import { describeOnBothDialects } from './support/dialects.js';
import { PLANNED_VM } from './support/lease-race-child.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ADMIN = '333333333333333333';

const vm = { provider: 'gcp' as const, resourceType: 'vm' as const, instanceType: 'e2-micro', diskSizeGb: 10 };

/** Resolves once `parties` have arrived, or after `timeoutMs` (when the others cannot arrive: they wait for a lock). */
function barrier(parties: number, timeoutMs: number): () => Promise<void> {
  let arrived = 0;
  let open = () => {};
  const all = new Promise<void>((resolve) => (open = resolve));
  return async () => {
    arrived += 1;
    if (arrived >= parties) open();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  };
}

describeOnBothDialects('budget reservations', (open) => {
  async function setup() {
    const db = await open();
    if (db.dialect === 'postgres') await db.rows('TRUNCATE guild_policies, budget_holds');
    const clock = new FakeClock();
    const processOn = (data: DataAccess, owner: string) => ({
      policies: new PolicyService(data, PriceCatalogue.load(), clock),
      reservations: new BudgetReservations(data, clock, owner),
    });
    return { db, clock, processOn, ...processOn(db.data, 'this-process') };
  }

  const planFor = (guildId: string, reserved?: { monthlyUsd: number; vms: number }) => ({ guildId, provider: 'gcp' as const, planned: [PLANNED_VM], ...(reserved ? { reserved } : {}) });

  it('counts a deployment that passed its check but has not started, so a second one cannot take the same budget', async () => {
    const { policies, reservations } = await setup();
    const cost = (await policies.validate(GUILD_A, vm)).estimate.monthlyUsd;
    await policies.update(GUILD_A, { maxBudgetMonthly: Math.ceil(cost * 1.5) }, ADMIN);

    expect((await policies.validate(GUILD_A, vm, await reservations.reservedFor(GUILD_A))).allowed).toBe(true);
    const release = await reservations.hold(GUILD_A, 1, { monthlyUsd: cost, vms: 1 });
    const second = await policies.validate(GUILD_A, vm, await reservations.reservedFor(GUILD_A));
    expect(second.allowed).toBe(false);
    expect(second.violations.map((v) => v.rule)).toEqual(['budget']);

    await release();
    expect(await reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: 0, vms: 0 });
    expect((await policies.validate(GUILD_A, vm, await reservations.reservedFor(GUILD_A))).allowed).toBe(true);
  });

  it('counts reserved instances against the instance limit', async () => {
    const { policies, reservations } = await setup();
    await policies.update(GUILD_A, { maxInstances: 1 }, ADMIN);
    await reservations.hold(GUILD_A, 7, { monthlyUsd: 1, vms: 1 });
    expect((await policies.validate(GUILD_A, vm, await reservations.reservedFor(GUILD_A))).violations.map((v) => v.rule)).toEqual(['instances']);
  });

  it('keeps one guild’s reservations out of another guild’s checks', async () => {
    const { policies, reservations } = await setup();
    await reservations.hold(GUILD_A, 1, { monthlyUsd: 500.25, vms: 3 });
    await reservations.hold(GUILD_A, 2, { monthlyUsd: 0.5, vms: 1 });
    expect(await reservations.reservedFor(GUILD_B)).toEqual({ monthlyUsd: 0, vms: 0 });
    expect(await reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: 500.75, vms: 4 });
    // Guild B's budget is its own: A's holds fill A's.
    await policies.update(GUILD_B, { maxBudgetMonthly: 600 }, ADMIN);
    expect((await reservations.reserveIfAllowed(GUILD_B, 3, async (reserved) => policies.checkPlan(planFor(GUILD_B, reserved)))).release).toBeDefined();
  });

  it('holds a share only when the check inside the same transaction allows it', async () => {
    const { policies, reservations } = await setup();
    const check = (resourceId: number) => reservations.reserveIfAllowed(GUILD_A, resourceId, (reserved) => policies.checkPlan(planFor(GUILD_A, reserved)));
    const cost = (await policies.checkPlan(planFor(GUILD_A))).estimate.monthlyUsd;
    await policies.update(GUILD_A, { maxBudgetMonthly: Math.ceil(cost * 1.5) }, ADMIN);

    const first = await check(1);
    expect(first.release).toBeDefined();
    expect(await reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: cost, vms: 1 });
    const second = await check(2);
    expect(second.release).toBeUndefined();
    expect(second.decision.violations.map((v) => v.rule)).toEqual(['budget']);
    // A refusal holds nothing.
    expect(await reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: cost, vms: 1 });
    await first.release!();
    await first.release!();
    expect((await check(2)).release).toBeDefined();
  });

  it('two processes reserving at once, together over the budget: exactly one holds, the other is refused on the budget', async () => {
    const { db, policies, reservations, processOn } = await setup();
    // Two SQLite connections in one process would block each other's BEGIN: there the second is this one again.
    const other = db.dialect === 'postgres' ? processOn(await db.another(), 'other-process') : { policies, reservations };
    const cost = (await policies.checkPlan(planFor(GUILD_A))).estimate.monthlyUsd;
    await policies.update(GUILD_A, { maxBudgetMonthly: Math.ceil(cost * 1.5) }, ADMIN);
    // On PostgreSQL each check waits for the other to have read what is reserved as well: without the guild's lock
    // both would read no hold and both would hold. With it the second reads only after the first committed.
    const bothRead = barrier(2, 300);
    const reserve = (side: typeof other, resourceId: number) =>
      side.reservations.reserveIfAllowed(GUILD_A, resourceId, async (reserved) => {
        if (db.dialect === 'postgres') await bothRead();
        return side.policies.checkPlan(planFor(GUILD_A, reserved));
      });
    const outcomes = await Promise.all([reserve({ policies, reservations }, 1), reserve(other, 2)]);
    expect(outcomes.filter((outcome) => outcome.release !== undefined)).toHaveLength(1);
    const refused = outcomes.find((outcome) => outcome.release === undefined)!;
    expect(refused.decision.violations.map((v) => v.rule)).toEqual(['budget']);
    expect(await reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: cost, vms: 1 });
    expect(await db.rows('SELECT CAST(count(*) AS INTEGER) AS n FROM budget_holds')).toEqual([{ n: 1 }]);
  });

  it('a hold its process stopped renewing stops counting after LEASE_MS; a renewed one keeps counting', async () => {
    const { db, clock, reservations } = await setup();
    const crashed = new BudgetReservations(db.data, clock, 'crashed-process');
    await crashed.hold(GUILD_A, 1, { monthlyUsd: 40, vms: 1 });
    await reservations.hold(GUILD_A, 2, { monthlyUsd: 2, vms: 0 });
    const heartbeat = new LeaseHeartbeat([reservations], clock, (error) => {
      throw error;
    });
    for (let beat = 0; beat < 5; beat++) {
      clock.advance(HEARTBEAT_EVERY_MS);
      await heartbeat.beat();
    }
    // Only this process beat: its own hold is renewed, the other one's lapsed.
    expect(await reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: 2, vms: 0 });
    expect(await reservations.renewOwn(clock.now() + LEASE_MS)).toBe(1);
    clock.advance(LEASE_MS);
    expect(await reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: 0, vms: 0 });
  });

  it('releasing leaves another process’s hold of the same guild in place', async () => {
    const { db, clock, reservations } = await setup();
    const other = new BudgetReservations(db.data, clock, 'other-process');
    await other.hold(GUILD_A, 1, { monthlyUsd: 10, vms: 1 });
    await (await reservations.hold(GUILD_A, 2, { monthlyUsd: 5, vms: 1 }))();
    expect(await reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: 10, vms: 1 });
  });
});
