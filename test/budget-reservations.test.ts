import { afterEach, describe, expect, it } from 'vitest';
import { BudgetReservations } from '../src/deploy/budget-reservations.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ADMIN = '333333333333333333';

describe('budget reservations', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function setup() {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const policies = new PolicyService(database.db, PriceCatalogue.load(), new FakeClock());
    return { policies, reservations: new BudgetReservations() };
  }

  const vm = { provider: 'gcp' as const, resourceType: 'vm' as const, instanceType: 'e2-micro', diskSizeGb: 10 };

  it('counts a deployment that passed its check but has not started, so a second one cannot take the same budget', () => {
    const { policies, reservations } = setup();
    const cost = policies.validate(GUILD_A, vm).estimate.monthlyUsd;
    policies.update(GUILD_A, { maxBudgetMonthly: Math.ceil(cost * 1.5) }, ADMIN);

    expect(policies.validate(GUILD_A, vm, reservations.reservedFor(GUILD_A)).allowed).toBe(true);
    const release = reservations.hold(GUILD_A, 1, { monthlyUsd: cost, vm: true });
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
    reservations.hold(GUILD_A, 7, { monthlyUsd: 1, vm: true });
    expect(policies.validate(GUILD_A, vm, reservations.reservedFor(GUILD_A)).violations.map((v) => v.rule)).toEqual(['instances']);
  });

  it('keeps one guild’s reservations out of another guild’s checks', () => {
    const { reservations } = setup();
    reservations.hold(GUILD_A, 1, { monthlyUsd: 500, vm: true });
    expect(reservations.reservedFor(GUILD_B)).toEqual({ monthlyUsd: 0, vms: 0 });
    expect(reservations.reservedFor(GUILD_A)).toEqual({ monthlyUsd: 500, vms: 1 });
  });
});
