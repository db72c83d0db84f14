/**
 * What the policy reads, on both dialects (issue 16): the guild's own policy (guild_policies), its tier
 * (guild_tiers) and what it has in the cloud (guild_resource_totals, kept by each dialect's triggers). Every value
 * survives the round trip (booleans, nulls, lists), another guild's rows never answer for this one, and two admins
 * changing one guild's policy at once (on PostgreSQL from two connection pools) both keep their change.
 */
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { DataAccess } from '../src/db/data-access.js';
import { guildLockKey } from '../src/db/guild-lock.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { resourceTotalsFor } from '../src/projects/resource-totals.js';
import { TierService } from '../src/tiers/tier-service.js';
import { FakeClock } from './support/clock.js';
import { describeOnBothDialects } from './support/dialects.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
/** Sorts before GUILD_A bytewise but not by number of digits: the listing's order must be the same on both. */
const GUILD_C = '1000000000000000000';
const ADMIN = '333333333333333333';
const T = 1_796_000_000_000;

const smallVm = { provider: 'gcp', resourceType: 'vm', instanceType: 'e2-micro', diskSizeGb: 10 } as const;

describeOnBothDialects('policy, tier and totals repositories', (open) => {
  async function setup() {
    const db = await open();
    if (db.dialect === 'postgres') {
      await db.rows('TRUNCATE guild_policies, guild_tiers, budget_holds, cloud_resources, cloud_projects, guild_resource_totals RESTART IDENTITY CASCADE');
    }
    const clock = new FakeClock(T);
    const servicesOn = (data: DataAccess) => {
      const tiers = new TierService(data, clock);
      const policies = new PolicyService(data, PriceCatalogue.load(), clock, async (guildId) => (await tiers.get(guildId)).limits);
      return { tiers, policies };
    };
    let nextResource = 1;
    /** A resource of `guildId` in `status`, written as plain SQL (the triggers of either dialect keep the totals). */
    const resource = async (guildId: string, status: string, cost: number, computeInstances: number) => {
      const projectId = guildId === GUILD_A ? 1 : 2;
      await db.rows(
        `INSERT INTO cloud_projects (id, guild_id, name, slug, provider, region, created_by, created_at, updated_at)
         VALUES (${projectId}, '${guildId}', 'web', 'web', 'gcp', 'us-central1', 'u', ${T}, ${T}) ON CONFLICT DO NOTHING`,
      );
      const id = nextResource++;
      await db.rows(
        `INSERT INTO cloud_resources (id, project_id, guild_id, name, resource_type, estimated_monthly_cost, compute_instances, status, created_by, created_at, updated_at)
         VALUES (${id}, ${projectId}, '${guildId}', 'r${id}', 'vm', ${cost}, ${computeInstances}, '${status}', 'u', ${T}, ${T})`,
      );
    };
    /**
     * A statement of another process's, seen from the next interaction on (a turn of the event loop later): SQLite's
     * caches see another connection's commit through data_version; PostgreSQL's read every time.
     */
    const byAnotherProcess = async (statement: string) => {
      const other = await db.another();
      if (other.session.dialect === 'sqlite') other.session.sqlite.exec(statement);
      else await other.session.db.execute(sql.raw(statement));
      await new Promise<void>((resolve) => setImmediate(resolve));
    };
    return { db, clock, servicesOn, resource, byAnotherProcess, ...servicesOn(db.data) };
  }

  it('keeps every setting of a guild’s policy, to itself, and reads the defaults for a guild that set none', async () => {
    const { policies, clock } = await setup();
    const set = {
      maxBudgetMonthly: 1234.56,
      maxInstances: 3,
      maxDiskSizeGb: 40,
      allowedInstanceTypes: ['e2-micro', 't3.micro'],
      allowedResourceTypes: ['vm', 'google_storage_bucket'],
      requireApproval: true,
      unpricedResources: 'refuse',
      enginePreference: 'tofu',
      maxJitMinutes: 90,
      jitSelfExtendMinutes: 15,
      defaultTtlMinutes: 60,
      maxTtlMinutes: 600,
      notificationChannelId: '555555555555555555',
    } as const;
    const { before, after } = await policies.update(GUILD_A, set, ADMIN);
    expect(before.updatedAt).toBeNull();
    expect(after).toEqual({ guildId: GUILD_A, ...set, updatedAt: clock.now(), updatedBy: ADMIN });
    expect(await policies.get(GUILD_A)).toEqual(after);
    // Back to false and null: PostgreSQL's booleans and SQLite's integers both read back as what was written.
    clock.advance(1000);
    await policies.update(GUILD_A, { requireApproval: false, defaultTtlMinutes: null, notificationChannelId: null }, ADMIN);
    expect(await policies.get(GUILD_A)).toMatchObject({ requireApproval: false, defaultTtlMinutes: null, notificationChannelId: null, maxTtlMinutes: 600, updatedAt: clock.now() });
    expect(await policies.get(GUILD_B)).toMatchObject({ guildId: GUILD_B, maxBudgetMonthly: 1000, requireApproval: false, allowedInstanceTypes: [], updatedAt: null });
  });

  it('two admins changing different settings of one guild at once both keep their change', async () => {
    const { db, policies, servicesOn } = await setup();
    // Two SQLite connections in one process would block each other's BEGIN: there the second is this one again.
    const other = db.dialect === 'postgres' ? servicesOn(await db.another()).policies : policies;
    await policies.update(GUILD_A, { maxInstances: 4 }, ADMIN);
    await Promise.all([policies.update(GUILD_A, { maxBudgetMonthly: 77 }, ADMIN), other.update(GUILD_A, { maxDiskSizeGb: 33 }, ADMIN)]);
    expect(await policies.get(GUILD_A)).toMatchObject({ maxBudgetMonthly: 77, maxDiskSizeGb: 33, maxInstances: 4 });
  });

  it('assigns, lists and removes tiers per guild; the tier’s ceilings lower the policy in force at once', async () => {
    const { tiers, policies, clock, byAnotherProcess } = await setup();
    await policies.update(GUILD_A, { maxBudgetMonthly: 900, maxInstances: 9 }, ADMIN);
    expect(await tiers.get(GUILD_A)).toEqual({ guildId: GUILD_A, tier: 'standard', limits: expect.objectContaining({ maxBudgetMonthly: null }), assignedAt: null, assignedBy: null });
    expect(await tiers.set(GUILD_A, 'free', 'ops')).toMatchObject({ tier: 'free', assignedAt: clock.now(), assignedBy: 'ops' });
    await tiers.set(GUILD_C, 'team', null);
    expect((await tiers.get(GUILD_B)).tier).toBe('standard');
    expect(await policies.get(GUILD_A)).toMatchObject({ maxBudgetMonthly: 100, maxInstances: 2 });
    expect(await policies.get(GUILD_B)).toMatchObject({ maxBudgetMonthly: 1000, maxInstances: 10 });
    // In id order as text, byte by byte, on both dialects.
    expect((await tiers.list()).map((tier) => [tier.guildId, tier.tier])).toEqual([
      [GUILD_C, 'team'],
      [GUILD_A, 'free'],
    ]);
    // A tier the catalogue no longer has (a downgrade of the bot, here another process) is the most restrictive one.
    await byAnotherProcess(`UPDATE guild_tiers SET tier = 'platinum' WHERE guild_id = '${GUILD_C}'`);
    expect((await tiers.get(GUILD_C)).tier).toBe('free');
    // Standard is no row at all; the guild's own policy is in force again.
    await tiers.set(GUILD_A, 'standard', 'ops');
    expect((await tiers.list()).map((tier) => tier.guildId)).toEqual([GUILD_C]);
    expect(await policies.get(GUILD_A)).toMatchObject({ maxBudgetMonthly: 900, maxInstances: 9 });
  });

  it('sums what may exist in the cloud of one guild only, and checks the policy against it', async () => {
    const { db, policies, resource } = await setup();
    await resource(GUILD_A, 'active', 100.25, 1);
    await resource(GUILD_A, 'applying', 0.5, 2);
    await resource(GUILD_A, 'failed', 3, 1);
    await resource(GUILD_A, 'planned', 10_000, 5);
    await resource(GUILD_A, 'destroyed', 10_000, 5);
    await resource(GUILD_B, 'active', 900, 7);
    const totals = resourceTotalsFor(db.data.session);
    expect(await totals.inCloud(GUILD_A)).toEqual({ monthlyUsd: 103.75, vms: 4, vmsLeftByStoppedRuns: 1 });
    expect(await totals.inCloud(GUILD_B)).toEqual({ monthlyUsd: 900, vms: 7, vmsLeftByStoppedRuns: 0 });
    expect(await totals.inCloud('444444444444444444')).toEqual({ monthlyUsd: 0, vms: 0, vmsLeftByStoppedRuns: 0 });

    await policies.update(GUILD_A, { maxInstances: 4 }, ADMIN);
    const refused = await policies.validate(GUILD_A, smallVm);
    expect(refused.violations.map((v) => v.rule)).toEqual(['instances']);
    expect(refused.projectedMonthlyUsd).toBeCloseTo(103.75 + refused.estimate.monthlyUsd, 2);
    expect((await policies.validate(GUILD_B, smallVm)).allowed).toBe(true);
  });

  it('refuses a guild id that is not a snowflake before reading anything', async () => {
    const { tiers, policies } = await setup();
    await expect(policies.get("1' OR '1'='1")).rejects.toThrow(TypeError);
    await expect(tiers.set('guild', 'free', null)).rejects.toThrow(TypeError);
    expect(guildLockKey(GUILD_A)).toBe(guildLockKey(GUILD_A));
    expect(guildLockKey(GUILD_A)).not.toBe(guildLockKey(GUILD_B));
  });
});
