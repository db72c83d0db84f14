/**
 * The project and resource repositories, and /cloud-projects' overview, on both dialects (issue 16): the same
 * behaviour on SQLite and PostgreSQL, another guild's rows never seen, and two processes racing one name.
 */
import { expect, it } from 'vitest';
import { projectOverviewsFor } from '../src/projects/project-overview.js';
import { projectRepositoryFor } from '../src/projects/project-repository.js';
import { resourceRepositoryFor } from '../src/projects/resource-repository.js';
import { IllegalStatusTransition, ProjectExists, ProjectNotFound, ResourceNotFound } from '../src/projects/errors.js';
import type { InCloudTotals } from '../src/projects/resource-totals.js';
import { FakeClock } from './support/clock.js';
import { describeOnBothDialects, type DialectUnderTest } from './support/dialects.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ALICE = '333333333333333333';

async function opened(open: () => Promise<DialectUnderTest>) {
  const under = await open();
  if (under.dialect === 'postgres') await under.rows('TRUNCATE cloud_projects, cloud_resources, cloud_credentials, guild_resource_totals RESTART IDENTITY CASCADE');
  const clock = new FakeClock();
  const session = under.data.session;
  return { under, clock, projects: projectRepositoryFor(session, clock), resources: resourceRepositoryFor(session, clock) };
}

/** The guild's totals as the triggers keep them, read with the test's own SQL (the policy slice owns ResourceTotals). */
const totalsFrom = (under: DialectUnderTest) => ({
  async inCloud(guildId: string): Promise<InCloudTotals> {
    const rows = await under.rows(
      `SELECT coalesce(sum(monthly_usd), 0) AS usd, coalesce(sum(compute_instances), 0) AS vms FROM guild_resource_totals
        WHERE guild_id = '${guildId}' AND status IN ('applying', 'active', 'failed', 'destroying', 'interrupted')`,
    );
    return { monthlyUsd: Number(rows[0]?.usd ?? 0), vms: Number(rows[0]?.vms ?? 0), vmsLeftByStoppedRuns: 0 };
  },
});

const base = { guildId: GUILD_A, name: 'Production API', provider: 'gcp', region: 'us-central1', createdBy: ALICE } as const;

describeOnBothDialects('project and resource repositories', (open) => {
  it('creates, finds by name or slug, lists by bytewise name, archives; another guild sees none of it', async () => {
    const { projects } = await opened(open);
    const created = await projects.create(base);
    await projects.create({ ...base, name: 'alpha' });
    await projects.create({ ...base, name: 'Zeta' });
    await projects.create({ ...base, guildId: GUILD_B, name: 'Theirs' });

    expect((await projects.get(GUILD_A, 'production-api')).id).toBe(created.id);
    expect((await projects.get(GUILD_A, ' Production API ')).id).toBe(created.id);
    expect((await projects.getById(GUILD_A, created.id)).name).toBe('Production API');
    // Bytewise, as SQLite sorts: capitals before lower case, whatever PostgreSQL's collation.
    expect((await projects.list(GUILD_A)).map((p) => p.name)).toEqual(['Production API', 'Zeta', 'alpha']);
    expect((await projects.search(GUILD_A, 'A', 10)).map((p) => p.name)).toEqual(['Production API', 'Zeta', 'alpha']);

    await expect(projects.get(GUILD_B, 'production-api')).rejects.toBeInstanceOf(ProjectNotFound);
    await expect(projects.getById(GUILD_B, created.id)).rejects.toBeInstanceOf(ProjectNotFound);
    await expect(projects.archive(GUILD_B, created.id)).rejects.toBeInstanceOf(ProjectNotFound);
    expect((await projects.list(GUILD_B)).map((p) => p.name)).toEqual(['Theirs']);

    await expect(projects.create({ ...base, name: 'production api' })).rejects.toBeInstanceOf(ProjectExists);
    await projects.archive(GUILD_A, created.id);
    await expect(projects.get(GUILD_A, 'Production API')).rejects.toBeInstanceOf(ProjectNotFound);
    expect((await projects.get(GUILD_A, 'Production API', { includeArchived: true })).status).toBe('archived');
    // The name is free again, and a live project wins over the forgotten one.
    const again = await projects.create(base);
    expect((await projects.get(GUILD_A, 'Production API', { includeArchived: true })).id).toBe(again.id);
    await expect(projects.getById(GUILD_A, Number.MAX_SAFE_INTEGER + 2)).rejects.toBeInstanceOf(ProjectNotFound);
  });

  it('two processes creating one name: one project, the other told it exists', async () => {
    const { under, clock } = await opened(open);
    const other = projectRepositoryFor((await under.another()).session, clock);
    const mine = projectRepositoryFor(under.data.session, clock);
    const results = await Promise.allSettled([mine.create(base), other.create({ ...base, name: 'production-api' })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected');
    expect(refused?.reason).toBeInstanceOf(ProjectExists);
    expect(await mine.list(GUILD_A)).toHaveLength(1);
  });

  it('records resources, moves them compare-and-set, and keeps them from other guilds', async () => {
    const { projects, resources } = await opened(open);
    const project = await projects.create(base);
    const vm = await resources.create({ projectId: project.id, guildId: GUILD_A, name: 'web', resourceType: 'vm', instanceType: 'e2-small', estimatedMonthlyCost: 12, createdBy: ALICE });
    const deployment = await resources.createTemplateDeployment({ projectId: project.id, guildId: GUILD_A, template: 'static-site', inputs: { name: 'x' }, sensitiveInputs: [], estimatedMonthlyCost: 1, createdBy: ALICE });
    expect(deployment.workspace).toBe(`static-site-${deployment.id}`);
    expect(deployment.inputs).toEqual({ name: 'x' });
    await expect(resources.create({ projectId: project.id, guildId: GUILD_B, name: 'x', resourceType: 'bucket', estimatedMonthlyCost: 0, createdBy: ALICE })).rejects.toBeInstanceOf(ProjectNotFound);
    await expect(resources.get(GUILD_B, vm.id)).rejects.toBeInstanceOf(ResourceNotFound);
    await expect(resources.setStatus(GUILD_B, vm.id, 'applying')).rejects.toBeInstanceOf(ResourceNotFound);
    expect(await resources.listByGuild(GUILD_B)).toEqual([]);

    expect((await resources.setPlannedFigures(GUILD_A, vm.id, { monthlyUsd: 20, computeInstances: 2 })).estimatedMonthlyCost).toBe(20);
    const applying = await resources.setStatus(GUILD_A, vm.id, 'applying', { addresses: ['google_compute_instance.web'] });
    expect(applying.addresses).toEqual(['google_compute_instance.web']);
    await expect(resources.setPlannedFigures(GUILD_A, vm.id, { monthlyUsd: 1, computeInstances: 0 })).rejects.toBeInstanceOf(IllegalStatusTransition);
    await expect(resources.setStatus(GUILD_A, vm.id, 'planned')).rejects.toBeInstanceOf(IllegalStatusTransition);
    await resources.setStatus(GUILD_A, vm.id, 'active');
    expect((await resources.listByGuild(GUILD_A, ['active'])).map((r) => r.id)).toEqual([vm.id]);
    expect((await resources.listByProject(GUILD_A, project.id)).map((r) => r.id)).toEqual([vm.id, deployment.id]);
    await resources.setTemplateRevision(GUILD_A, deployment.id, 'abc123');
    expect((await resources.get(GUILD_A, deployment.id)).templateRevision).toBe('abc123');
  });

  it('two processes moving one resource from the same status: exactly one moves it', async () => {
    const { under, clock, projects, resources } = await opened(open);
    const project = await projects.create(base);
    const vm = await resources.create({ projectId: project.id, guildId: GUILD_A, name: 'web', resourceType: 'vm', instanceType: 'e2-small', estimatedMonthlyCost: 12, createdBy: ALICE });
    const other = resourceRepositoryFor((await under.another()).session, clock);
    const results = await Promise.allSettled([resources.setStatus(GUILD_A, vm.id, 'applying'), other.setStatus(GUILD_A, vm.id, 'applying')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')?.reason).toBeInstanceOf(IllegalStatusTransition);
  });

  it('shows a guild its page of projects with their resources and totals, and nothing of another guild', async () => {
    const { under, projects, resources } = await opened(open);
    const web = await projects.create({ ...base, name: 'web' });
    await projects.create({ ...base, name: 'Api' });
    await projects.create({ ...base, guildId: GUILD_B, name: 'theirs' });
    const vm = await resources.create({ projectId: web.id, guildId: GUILD_A, name: 'vm', resourceType: 'vm', instanceType: 'e2-small', estimatedMonthlyCost: 12.5, createdBy: ALICE });
    await resources.setStatus(GUILD_A, vm.id, 'applying');
    const overviews = projectOverviewsFor(under.data.session, totalsFrom(under));

    const page = await overviews.of(GUILD_A, { projects: 5, resourcesPerProject: 3 });
    expect(page.projectCount).toBe(2);
    expect(page.projects.map((p) => p.project.name)).toEqual(['Api', 'web']);
    const shown = page.projects[1]!;
    expect(shown).toMatchObject({ resourceCount: 1, monthlyUsd: 12.5 });
    expect(shown.resources.map((r) => [r.id, r.status, r.instanceType])).toEqual([[vm.id, 'applying', 'e2-small']]);
    expect(page.inCloud.monthlyUsd).toBe(12.5);
    expect((await overviews.of(GUILD_A, { projects: 1, resourcesPerProject: 1 })).projects).toHaveLength(1);

    const theirs = await overviews.of(GUILD_B, { projects: 5, resourcesPerProject: 3 });
    expect(theirs.projects.map((p) => p.project.name)).toEqual(['theirs']);
    expect(theirs.inCloud.monthlyUsd).toBe(0);
    await expect(overviews.of(GUILD_A, { projects: 0, resourcesPerProject: 1 })).rejects.toBeInstanceOf(RangeError);
  });
});
