import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { projectOverviewsFor } from '../src/projects/project-overview.js';
import { projectRepositoryFor } from '../src/projects/project-repository.js';
import { resourceRepositoryFor } from '../src/projects/resource-repository.js';
import { resourceTotalsFor } from '../src/projects/resource-totals.js';
import { ttlRepositoryFor } from '../src/ttl/ttl-repository.js';
import type { ResourceStatus } from '../src/db/schema.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ALICE = '333333333333333333';

/** Moves a resource along the lifecycle to `status`, as runs would. */
const PATH: Record<ResourceStatus, ResourceStatus[]> = {
  planned: [],
  applying: ['applying'],
  active: ['applying', 'active'],
  failed: ['applying', 'failed'],
  destroying: ['applying', 'active', 'destroying'],
  destroyed: ['applying', 'active', 'destroying', 'destroyed'],
  interrupted: ['applying', 'interrupted'],
};

type TestDatabase = Pick<ReturnType<typeof makeTestDatabase>, 'db' | 'sqlite'>;
const overviewsOf = (database: TestDatabase) => {
  const session = sqliteDataAccess(database).session;
  return projectOverviewsFor(session, resourceTotalsFor(session));
};

function seed(database: TestDatabase, clock = new FakeClock()) {
  const session = sqliteDataAccess(database).session;
  const projects = projectRepositoryFor(session, clock);
  const resources = resourceRepositoryFor(session, clock);
  const project = (guildId: string, name: string) => projects.create({ guildId, name, provider: 'gcp', region: 'us-central1', createdBy: ALICE });
  const resource = async (guildId: string, projectId: number, status: ResourceStatus, cost: number) => {
    const { id } = await resources.create({ projectId, guildId, name: 'b', resourceType: 'bucket', estimatedMonthlyCost: cost, createdBy: ALICE });
    for (const step of PATH[status]) await resources.setStatus(guildId, id, step);
    return id;
  };
  return { projects, resources, project, resource };
}

/** Lets the synchronous stretch end: another connection's commit is seen from the next one (guild-cache.ts). */
const nextStretch = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('a guild’s projects at a glance', () => {
  const cleanups: Array<() => void | Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('gives the first projects by name, each with its resources that are not destroyed, and the whole guild’s totals', async () => {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const { projects, project, resource } = seed(database);
    const web = await project(GUILD_A, 'web');
    const api = await project(GUILD_A, 'api');
    const zeta = await project(GUILD_A, 'zeta');
    await project(GUILD_A, 'empty');
    await projects.archive(GUILD_A, (await project(GUILD_A, 'forgotten')).id);
    const other = await project(GUILD_B, 'aaa');
    await resource(GUILD_B, other.id, 'active', 1000);
    const webIds: number[] = [];
    for (const [i, s] of (['active', 'failed', 'planned', 'destroyed', 'interrupted', 'active'] as const).entries()) webIds.push(await resource(GUILD_A, web.id, s, i + 1));
    await resource(GUILD_A, api.id, 'destroyed', 50);
    await resource(GUILD_A, zeta.id, 'active', 100); // beyond the page: not shown, but counted in the guild's total

    const overview = await overviewsOf(database).of(GUILD_A, { projects: 3, resourcesPerProject: 3 });
    expect(overview.projects.map((p) => p.project.name)).toEqual(['api', 'empty', 'web']);
    expect(overview.projectCount).toBe(4);
    const [apiSummary, emptySummary, webSummary] = overview.projects;
    expect(apiSummary).toMatchObject({ resources: [], resourceCount: 0, monthlyUsd: 0 });
    expect(emptySummary).toMatchObject({ resources: [], resourceCount: 0, monthlyUsd: 0 });
    // Oldest first, destroyed left out, the first three shown; the planned one costs nothing yet.
    expect(webSummary!.resources.map((r) => r.id)).toEqual([webIds[0], webIds[1], webIds[2]]);
    expect(webSummary!.resourceCount).toBe(5);
    expect(webSummary!.monthlyUsd).toBe(1 + 2 + 5 + 6);
    // What the budget counts: every project's resources that may exist in the cloud, this guild only.
    expect(overview.inCloud).toEqual({ monthlyUsd: 1 + 2 + 5 + 6 + 100, vms: 0, vmsLeftByStoppedRuns: 0 });
    expect(await overviewsOf(database).of('444444444444444444', { projects: 3, resourcesPerProject: 3 })).toEqual({
      projects: [],
      projectCount: 0,
      inCloud: { monthlyUsd: 0, vms: 0, vmsLeftByStoppedRuns: 0 },
    });
  });

  it('/cloud-projects says how many projects it leaves out, and its estimate is the one the budget is checked against', async () => {
    const harness = await startAppHarness();
    cleanups.push(() => harness.stop());
    const { project, resource } = seed(harness.core.database.sqlite!, harness.clock);
    for (let i = 0; i < 27; i++) await resource(HARNESS_GUILD, (await project(HARNESS_GUILD, `p${String(i).padStart(2, '0')}`)).id, 'active', 10);
    const member: Actor = { id: ALICE, displayName: 'alice', isBot: false, isGuildAdmin: false };
    const shown = (await harness.say(member, 'cloud-projects')).text();
    expect(shown).toContain('Running estimate $270.00/month of a $1,000.00 budget. Showing the first 25 of 27 projects, by name.');
    expect(shown).toContain('p24');
    expect(shown).not.toContain('p25');
    expect(shown).toContain('🔐 vault expired');
  });

  it('keeps a guild’s page until a row it shows changes, whoever writes it: a repository, the TTL janitor, raw SQL or another connection', async () => {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const clock = new FakeClock();
    const { projects, resources, project, resource } = seed(database, clock);
    const session = sqliteDataAccess(database).session;
    const ttls = ttlRepositoryFor(session);
    const other = new Database(database.path);
    cleanups.unshift(() => void other.close());
    const limits = { projects: 5, resourcesPerProject: 5 };
    const overviews = overviewsOf(database);
    const page = async (guildId = GUILD_A) => (await overviews.of(guildId, limits)).projects;

    const web = await project(GUILD_A, 'web');
    const elsewhere = await project(GUILD_B, 'other');
    const planned = await resources.create({ projectId: web.id, guildId: GUILD_A, name: 'b', resourceType: 'bucket', estimatedMonthlyCost: 4, createdBy: ALICE });
    await ttls.setTtl(GUILD_A, planned.id, 3_600_000);
    await resources.setStatus(GUILD_A, planned.id, 'applying');
    await resources.setStatus(GUILD_A, planned.id, 'active');
    const first = await page();
    expect(first[0]!.resources).toEqual([expect.objectContaining({ id: planned.id, status: 'active', expiresAt: null })]);
    // Nothing changed: the very same page, not read again; and it cannot be changed by whoever reads it.
    expect((await page())[0]).toBe(first[0]);
    expect(() => (first[0]!.resources as unknown[]).push('x')).toThrow(TypeError);
    // Down to a resource's inputs, which the next interaction would otherwise see changed.
    expect(() => Object.assign(first[0]!.resources[0]!.inputs, { size: 'huge' })).toThrow(TypeError);

    // The TTL janitor's repository writes the expiry: seen at the next read.
    await ttls.start(GUILD_A, planned.id, clock.now());
    const started = await page();
    expect(started[0]!.resources[0]!.expiresAt).toBe(clock.now() + 3_600_000);
    // A write of a column the page does not show (a retry counter), or another guild's rows, keeps it.
    database.sqlite.prepare('UPDATE cloud_resources SET ttl_attempts = ttl_attempts + 1 WHERE id = ?').run(planned.id);
    await resource(GUILD_B, elsewhere.id, 'active', 7);
    expect((await page())[0]).toBe(started[0]);
    expect((await page(GUILD_B))[0]!.project.name).toBe('other');

    // Raw SQL on the bot's own connection (which data_version does not see) is seen too.
    database.sqlite.prepare("UPDATE cloud_resources SET status = 'destroyed' WHERE id = ?").run(planned.id);
    expect((await page())[0]!.resources).toEqual([]);
    // So is a commit by another connection, from the next stretch of work.
    other.prepare("UPDATE cloud_projects SET name = 'renamed' WHERE id = ?").run(web.id);
    await nextStretch();
    expect((await page()).map((p) => p.project.name)).toEqual(['renamed']);
    await projects.archive(GUILD_A, web.id);
    expect(await page()).toEqual([]);
    expect((await page(GUILD_B)).map((p) => p.project.name)).toEqual(['other']);
  });

  it('keeps nothing read inside a transaction, which may roll back', async () => {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const { project } = seed(database);
    const data = sqliteDataAccess(database);
    const overviews = overviewsOf(database);
    const limits = { projects: 5, resourcesPerProject: 5 };
    await expect(
      data.transaction(async () => {
        await project(GUILD_A, 'doomed');
        expect((await overviews.of(GUILD_A, limits)).projects.map((p) => p.project.name)).toEqual(['doomed']);
        throw new Error('a later step failed');
      }),
    ).rejects.toThrow(/later step/);
    expect((await overviews.of(GUILD_A, limits)).projects).toEqual([]);
  });
});
