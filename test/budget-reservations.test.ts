import { afterEach, describe, expect, it } from 'vitest';
import { BudgetReservations } from '../src/deploy/budget-reservations.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { FakeClock } from './support/clock.js';
import { PLANNED_VM } from './support/lease-race-child.js';
import { makeTestDatabase } from './support/tmp.js';
import { HEARTBEAT_EVERY_MS, LEASE_MS, LeaseHeartbeat } from '../src/shared/leases.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ADMIN = '333333333333333333';

describe('budget reservations', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function setup() {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const clock = new FakeClock();
    const policies = new PolicyService(database.db, PriceCatalogue.load(), clock);
    return { database, clock, policies, reservations: new BudgetReservations(database.db, clock, 'this-process') };
  }

  const vm = { provider: 'gcp' as const, resourceType: 'vm' as const, instanceType: 'e2-micro', diskSizeGb: 10 };

  it('counts a deployment that passed its check but has not started, so a second one cannot take the same budget', () => {
    const { policies, reservations } = setup();
    const cost = policies.validate(GUILD_A, vm).estimate.monthlyUsd;
    policies.update(GUILD_A, { maxBudgetMonthly: Math.ceil(cost * 1.5) }, ADMIN);

    expect(policies.validate(GUILD_A, vm, reservations.reservedFor(GUILD_A)).allowed).toBe(true);
    const release = reservations.hold(GUILD_A, 1, { monthlyUsd: cost, vms: 1 });
    const second = policies.validate(GUILD_A, vm, reservations.reservedFor(GUILD_A));
    expect(second.allowed).toBe(false);
    expect(second.violations.map((v) => v.rule)).toEqual(['budget']);

    release();
    expect(reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: 0, vms: 0 });
    expect(policies.validate(GUILD_A, vm, reservations.reservedFor(GUILD_A)).allowed).toBe(true);
  });

  it('counts reserved instances against the instance limit', () => {
    const { policies, reservations } = setup();
    policies.update(GUILD_A, { maxInstances: 1 }, ADMIN);
    reservations.hold(GUILD_A, 7, { monthlyUsd: 1, vms: 1 });
    expect(policies.validate(GUILD_A, vm, reservations.reservedFor(GUILD_A)).violations.map((v) => v.rule)).toEqual(['instances']);
  });

  it('keeps one guild’s reservations out of another guild’s checks', () => {
    const { reservations } = setup();
    reservations.hold(GUILD_A, 1, { monthlyUsd: 500, vms: 1 });
    expect(reservations.reservedFor(GUILD_B)).toEqual({ monthlyUsd: 0, vms: 0 });
    expect(reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: 500, vms: 1 });
  });

  it('holds a share only when the check inside the same transaction allows it', () => {
    const { policies, reservations } = setup();
    const check = (resourceId: number) =>
      reservations.reserveIfAllowed(GUILD_A, resourceId, (reserved) => policies.checkPlan({ guildId: GUILD_A, provider: 'gcp', planned: [PLANNED_VM], reserved }));
    const cost = policies.checkPlan({ guildId: GUILD_A, provider: 'gcp', planned: [PLANNED_VM] }).estimate.monthlyUsd;
    policies.update(GUILD_A, { maxBudgetMonthly: Math.ceil(cost * 1.5) }, ADMIN);

    const first = check(1);
    expect(first.release).toBeDefined();
    expect(reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: cost, vms: 1 });
    const second = check(2);
    expect(second.release).toBeUndefined();
    expect(second.decision.violations.map((v) => v.rule)).toEqual(['budget']);
    // A refusal holds nothing.
    expect(reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: cost, vms: 1 });
    first.release!();
    expect(check(2).release).toBeDefined();
  });

  it('a hold its process stopped renewing stops counting after LEASE_MS; a renewed one keeps counting', () => {
    const { database, clock, reservations } = setup();
    const crashed = new BudgetReservations(database.db, clock, 'crashed-process');
    crashed.hold(GUILD_A, 1, { monthlyUsd: 40, vms: 1 });
    reservations.hold(GUILD_A, 2, { monthlyUsd: 2, vms: 0 });
    const heartbeat = new LeaseHeartbeat([reservations], clock, (error) => {
      throw error;
    });
    for (let beat = 0; beat < 5; beat++) {
      clock.advance(HEARTBEAT_EVERY_MS);
      heartbeat.beat();
    }
    // Only this process beat: its own hold is renewed, the other one's lapsed.
    expect(reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: 2, vms: 0 });
    clock.advance(LEASE_MS);
    expect(reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: 0, vms: 0 });
  });

  it('releasing leaves another process’s hold of the same guild in place', () => {
    const { database, clock, reservations } = setup();
    const other = new BudgetReservations(database.db, clock, 'other-process');
    other.hold(GUILD_A, 1, { monthlyUsd: 10, vms: 1 });
    reservations.hold(GUILD_A, 2, { monthlyUsd: 5, vms: 1 })();
    expect(reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: 10, vms: 1 });
  });
});
