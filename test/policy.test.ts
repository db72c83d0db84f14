import { sqliteDataAccess } from '../src/db/data-access.js';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidDeploymentRequest, InvalidPolicy } from '../src/policy/errors.js';
import { DEFAULT_POLICY, PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { UnknownInstanceType } from '../src/pricing/errors.js';
import { projectRepositoryFor } from '../src/projects/project-repository.js';
import { resourceRepositoryFor } from '../src/projects/resource-repository.js';
import type { ResourceStatus, ResourceType } from '../src/db/schema.js';
import { FakeClock } from './support/clock.js';
import { toMarkdown } from '../src/discord/markdown.js';
import type { PolicyViolation } from '../src/policy/policy-service.js';

/** Violations with their message as Discord shows it, for exact comparison. */
const shownViolations = (violations: PolicyViolation[]) => violations.map((v) => ({ rule: v.rule, message: toMarkdown(v.message) }));
import { makeTestDatabase } from './support/tmp.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ADMIN = '333333333333333333';
const CHANNEL = '555555555555555555';

describe('guild policies', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function setup() {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const clock = new FakeClock();
    const pricing = PriceCatalogue.load();
    const data = sqliteDataAccess(database);
    const policies = new PolicyService(data, pricing, clock);
    const projects = projectRepositoryFor(data.session, clock);
    const resources = resourceRepositoryFor(data.session, clock);
    const projectIds = new Map<string, number>();
    /** Puts a resource of `guildId` straight into `status`, as a finished run would leave it. */
    const existing = async (guildId: string, status: ResourceStatus, cost: number, resourceType: ResourceType = 'vm') => {
      let projectId = projectIds.get(guildId);
      if (projectId === undefined) {
        projectId = (await projects.create({ guildId, name: 'web', provider: 'gcp', region: 'us-central1', createdBy: ADMIN })).id;
        projectIds.set(guildId, projectId);
      }
      const { id } = await resources.create({
        projectId,
        guildId,
        name: 'r',
        resourceType,
        instanceType: resourceType === 'vm' ? 'e2-micro' : undefined,
        estimatedMonthlyCost: cost,
        createdBy: ADMIN,
      });
      database.sqlite.prepare('UPDATE cloud_resources SET status = ? WHERE id = ?').run(status, id);
    };
    return { policies, pricing, clock, existing };
  }

  const smallVm = { provider: 'gcp', resourceType: 'vm', instanceType: 'e2-micro', diskSizeGb: 10 } as const;
  const bigVm = { provider: 'gcp', resourceType: 'vm', instanceType: 'n1-standard-32', diskSizeGb: 100 } as const;

  describe('view and update', () => {
    it('gives a guild that set nothing seed 003\'s defaults', async () => {
      const { policies } = setup();
      expect(await policies.get(GUILD_A)).toEqual({
        guildId: GUILD_A,
        maxBudgetMonthly: 1000,
        maxInstances: 10,
        maxDiskSizeGb: 500,
        allowedInstanceTypes: [],
        allowedResourceTypes: [],
        requireApproval: false,
        // Issue 12: a plan holding resources the catalogue cannot price waits for an admin by default.
        unpricedResources: 'require_approval',
        enginePreference: 'terraform',
        maxJitMinutes: 480,
        jitSelfExtendMinutes: 0,
        // Issue 14: no time to live by default, so nothing changes for a guild that sets none.
        defaultTtlMinutes: null,
        maxTtlMinutes: null,
        notificationChannelId: null,
        updatedAt: null,
        updatedBy: null,
      });
      expect(DEFAULT_POLICY.maxJitMinutes).toBe(480);
    });

    it('updates only what is given and returns before and after', async () => {
      const { policies, clock } = setup();
      const { before, after } = await policies.update(GUILD_A, { maxBudgetMonthly: 2000, enginePreference: 'tofu' }, ADMIN);
      expect(before.maxBudgetMonthly).toBe(1000);
      expect(after).toMatchObject({ maxBudgetMonthly: 2000, enginePreference: 'tofu', maxInstances: 10, updatedBy: ADMIN, updatedAt: clock.now() });
      expect(await policies.get(GUILD_A)).toEqual(after);
      const second = await policies.update(
        GUILD_A,
        { allowedInstanceTypes: ['e2-micro', 't3.micro', 'e2-micro'], allowedResourceTypes: ['vm'], notificationChannelId: CHANNEL, requireApproval: true },
        ADMIN,
      );
      expect(second.before).toEqual(after);
      expect(second.after).toMatchObject({ maxBudgetMonthly: 2000, allowedInstanceTypes: ['e2-micro', 't3.micro'], allowedResourceTypes: ['vm'], notificationChannelId: CHANNEL, requireApproval: true });
      expect((await policies.update(GUILD_A, { notificationChannelId: null }, ADMIN)).after.notificationChannelId).toBeNull();
    });

    it('keeps each guild\'s policy to itself', async () => {
      const { policies } = setup();
      await policies.update(GUILD_A, { maxBudgetMonthly: 50 }, ADMIN);
      expect((await policies.get(GUILD_B)).maxBudgetMonthly).toBe(1000);
    });

    it('rejects bad values, listing every problem with the allowed range or values, and saves nothing', async () => {
      const { policies } = setup();
      let error: InvalidPolicy | undefined;
      try {
        await policies.update(
          GUILD_A,
          {
            maxBudgetMonthly: -5,
            maxInstances: 1_000_000,
            maxDiskSizeGb: 2.5,
            maxJitMinutes: 0,
            allowedInstanceTypes: ['e2-micro', 'z9.mega'],
            allowedResourceTypes: ['vm', 'database'],
            enginePreference: 'pulumi',
            notificationChannelId: '#general',
            colour: 'blue',
          },
          ADMIN,
        );
      } catch (e) {
        error = e as InvalidPolicy;
      }
      expect(error).toBeInstanceOf(InvalidPolicy);
      const message = error!.message;
      expect(message).toMatch(/budget must be from \$0 to \$1,000,000/);
      expect(message).toMatch(/instance limit must be a whole number from 0 to 1,000/);
      expect(message).toMatch(/disk limit must be a whole number from 1 to 65,536 GB/);
      expect(message).toMatch(/JIT grant must be a whole number from 1 to 10,080 minutes/);
      expect(message).toMatch(/unknown instance type "z9.mega"/);
      expect(message).toMatch(/resource types must be among: vm, bucket/);
      expect(message).toMatch(/engine must be one of: terraform, tofu/);
      expect(message).toMatch(/channel must be a channel id/);
      expect(message).toMatch(/unknown setting "colour"/);
      expect(error!.problems).toHaveLength(9);
      expect((await policies.get(GUILD_A)).updatedAt).toBeNull();
    });

    it('rejects an empty update and non-numbers', async () => {
      const { policies } = setup();
      await expect(policies.update(GUILD_A, {}, ADMIN)).rejects.toThrow(/nothing to change/);
      await expect(policies.update(GUILD_A, { maxBudgetMonthly: Number.NaN }, ADMIN)).rejects.toThrow(InvalidPolicy);
      await expect(policies.update(GUILD_A, { maxBudgetMonthly: Infinity }, ADMIN)).rejects.toThrow(InvalidPolicy);
      await expect(policies.update(GUILD_A, { maxInstances: '5' }, ADMIN)).rejects.toThrow(InvalidPolicy);
      await expect(policies.update(GUILD_A, { maxBudgetMonthly: 1 }, 'not-a-user')).rejects.toThrow(TypeError);
    });
  });

  describe('validate', () => {
    it('allows a small VM under the defaults and returns the estimate', async () => {
      const { policies, pricing } = setup();
      const decision = await policies.validate(GUILD_A, smallVm);
      expect(decision).toMatchObject({ allowed: true, violations: [], requiresApproval: false });
      expect(decision.estimate).toEqual(pricing.estimate(smallVm));
      expect(decision.projectedMonthlyUsd).toBe(decision.estimate.monthlyUsd);
    });

    it('budget: counts everything that may exist in the cloud (applying, active, failed, destroying, interrupted), not planned, destroyed or other guilds\'', async () => {
      const { policies, existing } = setup();
      await policies.update(GUILD_A, { maxBudgetMonthly: 500 }, ADMIN);
      await existing(GUILD_A, 'active', 100);
      await existing(GUILD_A, 'applying', 50);
      // What a failed, cancelled or interrupted run left behind may still be billed.
      await existing(GUILD_A, 'failed', 60);
      await existing(GUILD_A, 'destroying', 70);
      await existing(GUILD_A, 'interrupted', 80);
      for (const status of ['planned', 'destroyed'] as const) await existing(GUILD_A, status, 10_000);
      await existing(GUILD_B, 'active', 10_000);
      const small = await policies.validate(GUILD_A, { provider: 'gcp', resourceType: 'vm', instanceType: 'e2-micro' });
      expect(small.allowed).toBe(true);
      expect(small.projectedMonthlyUsd).toBeCloseTo(360 + small.estimate.monthlyUsd, 2);

      await existing(GUILD_A, 'failed', 140);
      const decision = await policies.validate(GUILD_A, { provider: 'gcp', resourceType: 'vm', instanceType: 'e2-micro' });
      expect(decision.allowed).toBe(false);
      expect(decision.violations.map((v) => v.rule)).toEqual(['budget']);
      expect(decision.projectedMonthlyUsd).toBeCloseTo(500 + decision.estimate.monthlyUsd, 2);
    });

    it('budget: says what the new resource costs, where it would bring the guild, and the limit', async () => {
      const { policies, existing } = setup();
      await policies.update(GUILD_A, { maxBudgetMonthly: 500 }, ADMIN);
      await existing(GUILD_A, 'active', 80.4);
      // n1-standard-32 (built-in $1,109.60) + 100 GB pd-balanced ($10.00)
      expect(shownViolations((await policies.validate(GUILD_A, bigVm)).violations)).toEqual([
        {
          rule: 'budget',
          message: 'Estimated monthly cost ($1,119.60) would bring the guild to $1,200.00, over its budget limit ($500.00).',
        },
      ]);
    });

    it('budget: exactly reaching the limit is allowed', async () => {
      const { policies, existing, pricing } = setup();
      const cost = pricing.estimate(smallVm).monthlyUsd;
      await existing(GUILD_A, 'active', 100);
      await policies.update(GUILD_A, { maxBudgetMonthly: 100 + cost }, ADMIN);
      expect((await policies.validate(GUILD_A, smallVm)).allowed).toBe(true);
    });

    it('instances: counts VMs that may exist in the cloud, and buckets are not instances', async () => {
      const { policies, existing } = setup();
      await policies.update(GUILD_A, { maxInstances: 2 }, ADMIN);
      await existing(GUILD_A, 'active', 1);
      await existing(GUILD_A, 'destroyed', 1);
      await existing(GUILD_A, 'planned', 1);
      await existing(GUILD_A, 'active', 1, 'bucket');
      await existing(GUILD_B, 'active', 1);
      await existing(GUILD_B, 'active', 1);
      expect((await policies.validate(GUILD_A, smallVm)).allowed).toBe(true);
      await existing(GUILD_A, 'applying', 1);
      const decision = await policies.validate(GUILD_A, smallVm);
      expect(shownViolations(decision.violations)).toEqual([
        { rule: 'instances', message: 'The guild already runs 2 of its 2 allowed instances; destroy one first.' },
      ]);
      expect((await policies.validate(GUILD_A, { provider: 'gcp', resourceType: 'bucket' })).allowed).toBe(true);
    });

    it('instances: a VM left by a failed, cancelled or interrupted run counts, and the refusal says where it is', async () => {
      for (const status of ['failed', 'interrupted', 'destroying'] as const) {
        const { policies, existing } = setup();
        await policies.update(GUILD_A, { maxInstances: 1 }, ADMIN);
        await existing(GUILD_A, status, 1);
        expect(shownViolations((await policies.validate(GUILD_A, smallVm)).violations)).toEqual([
          {
            rule: 'instances',
            message:
              'The guild already runs 1 of its 1 allowed instances (1 of them failed, interrupted or being destroyed, and may still exist in the cloud: `/cloud-projects` lists them, `/cloud-destroy` removes them); destroy one first.',
          },
        ]);
      }
    });

    it('disk: over the limit is refused, at the limit is fine', async () => {
      const { policies } = setup();
      await policies.update(GUILD_A, { maxDiskSizeGb: 100 }, ADMIN);
      expect((await policies.validate(GUILD_A, { ...smallVm, diskSizeGb: 100 })).allowed).toBe(true);
      expect(shownViolations((await policies.validate(GUILD_A, { ...smallVm, diskSizeGb: 101 })).violations)).toEqual([
        { rule: 'disk', message: 'Disk size (101 GB) exceeds the guild limit (100 GB).' },
      ]);
    });

    it('instance type: only listed types when a list is set', async () => {
      const { policies } = setup();
      await policies.update(GUILD_A, { allowedInstanceTypes: ['e2-micro', 't3.micro'] }, ADMIN);
      expect((await policies.validate(GUILD_A, smallVm)).allowed).toBe(true);
      const decision = await policies.validate(GUILD_A, { provider: 'gcp', resourceType: 'vm', instanceType: 'e2-small' });
      expect(shownViolations(decision.violations)).toEqual([
        { rule: 'instance_type', message: 'Instance type "e2-small" is not allowed in this guild; allowed: e2-micro, t3.micro.' },
      ]);
    });

    it('resource type: only listed types when a list is set', async () => {
      const { policies } = setup();
      await policies.update(GUILD_A, { allowedResourceTypes: ['bucket'] }, ADMIN);
      expect((await policies.validate(GUILD_A, { provider: 'aws', resourceType: 'bucket' })).allowed).toBe(true);
      expect((await policies.validate(GUILD_A, smallVm)).violations.map((v) => v.rule)).toEqual(['resource_type']);
    });

    it('reports every broken rule at once, and whether approval is required', async () => {
      const { policies, existing } = setup();
      await policies.update(
        GUILD_A,
        { maxBudgetMonthly: 500, maxInstances: 1, maxDiskSizeGb: 50, allowedInstanceTypes: ['e2-micro'], allowedResourceTypes: ['bucket'], requireApproval: true },
        ADMIN,
      );
      await existing(GUILD_A, 'active', 10);
      const decision = await policies.validate(GUILD_A, bigVm);
      expect(decision.allowed).toBe(false);
      expect(decision.requiresApproval).toBe(true);
      expect(decision.violations.map((v) => v.rule)).toEqual(['budget', 'instances', 'disk', 'instance_type', 'resource_type']);
      expect(await policies.validate(GUILD_A, { provider: 'gcp', resourceType: 'bucket' })).toMatchObject({ allowed: true, requiresApproval: true });
    });

    it('refuses malformed requests and unknown instance types instead of guessing', async () => {
      const { policies } = setup();
      await expect(policies.validate(GUILD_A, { provider: 'aws', resourceType: 'vm', instanceType: 'e2-micro' })).rejects.toThrow(UnknownInstanceType);
      await expect(policies.validate(GUILD_A, { ...smallVm, diskSizeGb: -1 })).rejects.toThrow(InvalidDeploymentRequest);
      await expect(policies.validate(GUILD_A, { ...smallVm, resourceType: 'database' as 'vm' })).rejects.toThrow(InvalidDeploymentRequest);
      await expect(policies.validate(GUILD_A, { ...smallVm, instanceType: '../x' })).rejects.toThrow(InvalidDeploymentRequest);
      await expect(policies.validate('x', smallVm)).rejects.toThrow(TypeError);
    });
  });
});

describe('a budget is set in whole cents', () => {
  it('refuses a sub-cent budget such as 0.001 (it would read "$0.00"), accepts 0, 0.07 and 25.50', async () => {
    const database = makeTestDatabase();
    try {
      const policies = new PolicyService(sqliteDataAccess(database), PriceCatalogue.load(), new FakeClock());
      for (const usd of [0.001, 12.345, 0.005]) {
        await expect(policies.update(GUILD_A, { maxBudgetMonthly: usd }, ADMIN)).rejects.toThrow(/whole cents, such as 25 or 25\.50/);
      }
      expect((await policies.get(GUILD_A)).maxBudgetMonthly).toBe(1000);
      for (const usd of [0, 0.07, 25.5, 1999.99]) expect((await policies.update(GUILD_A, { maxBudgetMonthly: usd }, ADMIN)).after.maxBudgetMonthly).toBe(usd);
    } finally {
      database.cleanup();
    }
  });
});
