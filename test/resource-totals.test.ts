import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, openDatabase, RESOURCE_STATUSES, type ResourceStatus } from '../src/db/index.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { projectRepositoryFor } from '../src/projects/project-repository.js';
import { resourceRepositoryFor, type Resource } from '../src/projects/resource-repository.js';
import { SqliteResourceTotals } from '../src/projects/resource-totals.js';
import { FakeClock } from './support/clock.js';
import { makeTempDir, makeTestDatabase } from './support/tmp.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ALICE = '333333333333333333';

interface TotalRow {
  guild_id: string;
  status: string;
  resource_type: string;
  resources: number;
  monthly_usd: number;
  compute_instances: number;
}

/** What the totals must say: the same figures summed from every resource row. */
function summed(sqlite: Database.Database): TotalRow[] {
  return sqlite
    .prepare(
      `SELECT guild_id, status, resource_type, count(*) AS resources, sum(estimated_monthly_cost) AS monthly_usd,
         sum(compute_instances) AS compute_instances
       FROM cloud_resources GROUP BY guild_id, status, resource_type ORDER BY guild_id, status, resource_type`,
    )
    .all() as TotalRow[];
}

/** The totals table, without the rows back at zero (which stay, at $0). */
function kept(sqlite: Database.Database): TotalRow[] {
  return sqlite
    .prepare('SELECT * FROM guild_resource_totals WHERE resources > 0 ORDER BY guild_id, status, resource_type')
    .all() as TotalRow[];
}

function expectSame(actual: TotalRow[], expected: TotalRow[]) {
  expect(actual.map(({ monthly_usd: _, ...rest }) => rest)).toEqual(expected.map(({ monthly_usd: _, ...rest }) => rest));
  actual.forEach((row, i) => expect(row.monthly_usd).toBeCloseTo(expected[i]!.monthly_usd, 9));
}

describe('guild resource totals', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function setup() {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const clock = new FakeClock();
    const session = sqliteDataAccess(database).session;
    const projects = projectRepositoryFor(session, clock);
    const resources = resourceRepositoryFor(session, clock);
    const project = (guildId: string, name: string) => projects.create({ guildId, name, provider: 'gcp', region: 'us-central1', createdBy: ALICE });
    return { database, resources, project, totals: new SqliteResourceTotals(database) };
  }

  it('follow every create, status change and delete, through the repository or raw SQL, in every guild', async () => {
    const { database, resources, project } = setup();
    const a = await project(GUILD_A, 'web');
    const b = await project(GUILD_B, 'web');
    // A fixed walk through the lifecycle for 40 resources over two guilds, with a few costs that do not add up
    // exactly in binary (0.1, 0.2, 7.11): each step is checked against the rows themselves.
    const moves: Record<ResourceStatus, ResourceStatus | undefined> = {
      planned: 'applying',
      applying: 'active',
      active: 'destroying',
      failed: 'destroying',
      destroying: 'destroyed',
      destroyed: undefined,
      interrupted: 'destroying',
    };
    // Every fifth is a template deployment, whose plan makes 0, 1 or 2 compute instances.
    const created: Resource[] = [];
    for (let i = 0; i < 40; i++) {
      const where = { projectId: i % 3 === 0 ? b.id : a.id, guildId: i % 3 === 0 ? GUILD_B : GUILD_A };
      const estimatedMonthlyCost = [0.1, 0.2, 7.11, 0][i % 4]!;
      if (i % 5 === 4) {
        const deployment = await resources.createTemplateDeployment({ ...where, template: 'app', inputs: {}, sensitiveInputs: [], estimatedMonthlyCost: 0, createdBy: ALICE });
        created.push(await resources.setPlannedFigures(where.guildId, deployment.id, { monthlyUsd: estimatedMonthlyCost, computeInstances: i % 3 }));
        continue;
      }
      created.push(
        await resources.create({
          ...where,
          name: `r${i}`,
          resourceType: i % 2 === 0 ? 'vm' : 'bucket',
          ...(i % 2 === 0 ? { instanceType: 'e2-micro', diskSizeGb: 10 } : {}),
          estimatedMonthlyCost,
          createdBy: ALICE,
        }),
      );
    }
    expectSame(kept(database.sqlite), summed(database.sqlite));
    for (let round = 0; round < 5; round++) {
      for (const [i, resource] of created.entries()) {
        const now = (await resources.get(resource.guildId, resource.id)).status;
        const next = i % 7 === round ? (now === 'applying' ? 'failed' : now === 'destroying' ? 'interrupted' : moves[now]) : moves[now];
        if (next === undefined || (i + round) % 2 === 0) continue;
        if (i % 5 === 0) database.sqlite.prepare('UPDATE cloud_resources SET status = ? WHERE id = ?').run(next, resource.id);
        else await resources.setStatus(resource.guildId, resource.id, next);
      }
      expectSame(kept(database.sqlite), summed(database.sqlite));
    }
    // A cost changed in place, and rows deleted by hand (the bot never deletes one, an operator might).
    database.sqlite.prepare('UPDATE cloud_resources SET estimated_monthly_cost = estimated_monthly_cost * 3 WHERE id % 4 = 1').run();
    database.sqlite.prepare('UPDATE cloud_resources SET compute_instances = compute_instances + 2 WHERE id % 3 = 2').run();
    expectSame(kept(database.sqlite), summed(database.sqlite));
    database.sqlite.prepare('DELETE FROM cloud_resources WHERE id % 6 = 0').run();
    expectSame(kept(database.sqlite), summed(database.sqlite));
    expect(database.sqlite.prepare('SELECT status FROM cloud_resources').all().length).toBeGreaterThan(0);
  });

  it('count what may exist in the cloud for one guild only: VMs, spend, and VMs stopped runs left', async () => {
    const { resources, project, totals } = setup();
    const a = await project(GUILD_A, 'web');
    const b = await project(GUILD_B, 'api');
    const vm = (projectId: number, guildId: string, cost: number) =>
      resources.create({ projectId, guildId, name: 'vm', resourceType: 'vm', instanceType: 'e2-micro', diskSizeGb: 10, estimatedMonthlyCost: cost, createdBy: ALICE });
    const walk = async (guildId: string, id: number, ...statuses: ResourceStatus[]) => {
      for (const status of statuses) await resources.setStatus(guildId, id, status);
    };
    await walk(GUILD_A, (await vm(a.id, GUILD_A, 10)).id, 'applying', 'active');
    await walk(GUILD_A, (await vm(a.id, GUILD_A, 20)).id, 'applying', 'failed');
    await walk(GUILD_A, (await vm(a.id, GUILD_A, 40)).id, 'applying', 'active', 'destroying', 'destroyed');
    await vm(a.id, GUILD_A, 80); // planned: nothing in the cloud yet
    await walk(GUILD_B, (await vm(b.id, GUILD_B, 160)).id, 'applying', 'active');
    await resources.create({ projectId: a.id, guildId: GUILD_A, name: 'b', resourceType: 'bucket', estimatedMonthlyCost: 1.5, createdBy: ALICE });

    expect(await totals.inCloud(GUILD_A)).toEqual({ monthlyUsd: 30, vms: 2, vmsLeftByStoppedRuns: 1 });
    expect(await totals.inCloud(GUILD_B)).toEqual({ monthlyUsd: 160, vms: 1, vmsLeftByStoppedRuns: 0 });
    expect(await totals.inCloud('444444444444444444')).toEqual({ monthlyUsd: 0, vms: 0, vmsLeftByStoppedRuns: 0 });
  });

  it('count every compute instance a template deployment’s plan makes, with the built-in VMs, in its own guild only', async () => {
    const { resources, project, totals } = setup();
    const a = await project(GUILD_A, 'web');
    const b = await project(GUILD_B, 'api');
    const walk = async (guildId: string, id: number, ...statuses: ResourceStatus[]) => {
      for (const status of statuses) await resources.setStatus(guildId, id, status);
    };
    const deploy = async (projectId: number, guildId: string, computeInstances: number) => {
      const row = await resources.createTemplateDeployment({ projectId, guildId, template: 'pair', inputs: {}, sensitiveInputs: [], estimatedMonthlyCost: 0, createdBy: ALICE });
      return resources.setPlannedFigures(guildId, row.id, { monthlyUsd: 5 * computeInstances, computeInstances });
    };
    const pair = await deploy(a.id, GUILD_A, 2);
    // Planned: nothing is in the cloud yet, so nothing counts.
    expect(await totals.inCloud(GUILD_A)).toEqual({ monthlyUsd: 0, vms: 0, vmsLeftByStoppedRuns: 0 });
    await walk(GUILD_A, pair.id, 'applying');
    expect(await totals.inCloud(GUILD_A)).toEqual({ monthlyUsd: 10, vms: 2, vmsLeftByStoppedRuns: 0 });
    await walk(GUILD_A, (await deploy(a.id, GUILD_A, 3)).id, 'applying', 'failed');
    await walk(GUILD_A, (await deploy(a.id, GUILD_A, 0)).id, 'applying', 'active');
    const vm = await resources.create({ projectId: a.id, guildId: GUILD_A, name: 'vm', resourceType: 'vm', instanceType: 'e2-micro', diskSizeGb: 10, estimatedMonthlyCost: 1, createdBy: ALICE });
    expect(vm.computeInstances).toBe(1);
    await walk(GUILD_A, vm.id, 'applying', 'active');
    await walk(GUILD_B, (await deploy(b.id, GUILD_B, 4)).id, 'applying', 'active');

    expect(await totals.inCloud(GUILD_A)).toEqual({ monthlyUsd: 26, vms: 6, vmsLeftByStoppedRuns: 3 });
    expect(await totals.inCloud(GUILD_B)).toEqual({ monthlyUsd: 20, vms: 4, vmsLeftByStoppedRuns: 0 });
    await walk(GUILD_A, pair.id, 'active', 'destroying', 'destroyed');
    expect(await totals.inCloud(GUILD_A)).toEqual({ monthlyUsd: 16, vms: 4, vmsLeftByStoppedRuns: 3 });
    // Once applying, the figures it was approved with stand.
    await expect(resources.setPlannedFigures(GUILD_A, vm.id, { monthlyUsd: 0, computeInstances: 0 })).rejects.toThrow(/active/);
  });

  it('go back to exactly $0 when the last resource of a kind leaves a status', async () => {
    const { database, resources, project, totals } = setup();
    const a = await project(GUILD_A, 'web');
    const ids: number[] = [];
    for (const cost of [0.1, 0.2, 0.3]) {
      ids.push((await resources.create({ projectId: a.id, guildId: GUILD_A, name: 'b', resourceType: 'bucket', estimatedMonthlyCost: cost, createdBy: ALICE })).id);
    }
    const moveAll = async (status: ResourceStatus) => {
      for (const id of ids) await resources.setStatus(GUILD_A, id, status);
    };
    await moveAll('applying');
    await moveAll('active');
    // In binary, 0.1 + 0.2 + 0.3 - 0.1 - 0.2 - 0.3 is 5.6e-17, not 0: without the reset that remainder would stay for ever.
    await moveAll('destroying');
    expect((await totals.inCloud(GUILD_A)).monthlyUsd).toBeCloseTo(0.6, 12);
    await moveAll('destroyed');
    expect((await totals.inCloud(GUILD_A)).monthlyUsd).toBe(0);
    expect(database.sqlite.prepare("SELECT resources, monthly_usd FROM guild_resource_totals WHERE status = 'destroying'").get()).toEqual({
      resources: 0,
      monthly_usd: 0,
    });
  });

  /** A database file migrated up to (not including) the migration whose tag ends with `suffix`. */
  function databaseBefore(suffix: string): { path: string; old: Database.Database } {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const before = join(dir, 'drizzle-before');
    mkdirSync(join(before, 'meta'), { recursive: true });
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
    const upTo = journal.entries.findIndex((entry) => entry.tag.endsWith(suffix));
    expect(upTo).toBeGreaterThan(0);
    for (const entry of journal.entries.slice(0, upTo)) copyFileSync(join(MIGRATIONS_DIR, `${entry.tag}.sql`), join(before, `${entry.tag}.sql`));
    writeFileSync(join(before, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, upTo) }));
    const path = join(dir, 'old.db');
    const old = new Database(path);
    migrate(drizzle(old), { migrationsFolder: before });
    return { path, old };
  }

  it('count the instances of template deployments made before rows had a count, from the addresses their plans recorded', async () => {
    const { path, old } = databaseBefore('_template_instances');
    const insertProject = old.prepare(
      "INSERT INTO cloud_projects (guild_id, name, slug, provider, region, created_by, created_at, updated_at) VALUES (?, 'web', 'web', 'gcp', 'us-central1', ?, 1, 1)",
    );
    const projectA = Number(insertProject.run(GUILD_A, ALICE).lastInsertRowid);
    const projectB = Number(insertProject.run(GUILD_B, ALICE).lastInsertRowid);
    const insert = old.prepare(
      "INSERT INTO cloud_resources (project_id, guild_id, name, resource_type, template, addresses, estimated_monthly_cost, status, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, 1, 1)",
    );
    const addresses = ['google_compute_instance.web[0]', 'google_compute_instance.web[1]', 'module.db.aws_instance.main', 'google_storage_bucket.assets', 'terraform_data.seed', 'google_compute_instance_template.t'];
    insert.run(projectA, GUILD_A, 'app', 'template', 'app', JSON.stringify(addresses), 'active', ALICE);
    insert.run(projectA, GUILD_A, 'old', 'template', 'app', JSON.stringify(addresses), 'destroyed', ALICE);
    insert.run(projectA, GUILD_A, 'broken', 'template', 'app', 'not json', 'active', ALICE);
    insert.run(projectA, GUILD_A, 'vm', 'vm', 'vm', '["google_compute_instance.vm_4"]', 'failed', ALICE);
    insert.run(projectA, GUILD_A, 'bucket', 'bucket', 'bucket', '["google_storage_bucket.bucket_5"]', 'active', ALICE);
    insert.run(projectB, GUILD_B, 'app', 'template', 'app', JSON.stringify(['azurerm_linux_virtual_machine.a']), 'active', ALICE);
    old.close();

    const upgraded = openDatabase(path);
    cleanups.unshift(() => upgraded.close());
    const counts = upgraded.sqlite.prepare('SELECT name, compute_instances FROM cloud_resources WHERE guild_id = ? ORDER BY id').all(GUILD_A);
    expect(counts).toEqual([
      { name: 'app', compute_instances: 3 },
      { name: 'old', compute_instances: 3 },
      { name: 'broken', compute_instances: 0 },
      { name: 'vm', compute_instances: 1 },
      { name: 'bucket', compute_instances: 0 },
    ]);
    expectSame(kept(upgraded.sqlite), summed(upgraded.sqlite));
    expect(await new SqliteResourceTotals(upgraded).inCloud(GUILD_A)).toEqual({ monthlyUsd: 4, vms: 4, vmsLeftByStoppedRuns: 1 });
    expect(await new SqliteResourceTotals(upgraded).inCloud(GUILD_B)).toEqual({ monthlyUsd: 1, vms: 1, vmsLeftByStoppedRuns: 0 });
  });

  it('are filled from the resources a database already has when it is upgraded', async () => {
    const { path, old } = databaseBefore('_resource_totals');
    const insertProject = old.prepare(
      "INSERT INTO cloud_projects (guild_id, name, slug, provider, region, created_by, created_at, updated_at) VALUES (?, ?, ?, 'gcp', 'us-central1', ?, 1, 1)",
    );
    const projectA = Number(insertProject.run(GUILD_A, 'web', 'web', ALICE).lastInsertRowid);
    const projectB = Number(insertProject.run(GUILD_B, 'web', 'web', ALICE).lastInsertRowid);
    const insertResource = old.prepare(
      'INSERT INTO cloud_resources (project_id, guild_id, name, resource_type, estimated_monthly_cost, status, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1)',
    );
    RESOURCE_STATUSES.forEach((status, i) => {
      insertResource.run(projectA, GUILD_A, `a${i}`, 'vm', 10 + i, status, ALICE);
      insertResource.run(projectA, GUILD_A, `b${i}`, 'bucket', 0.5, status, ALICE);
      insertResource.run(projectB, GUILD_B, `c${i}`, 'vm', 100, status, ALICE);
    });
    old.close();

    const upgraded = openDatabase(path);
    cleanups.unshift(() => upgraded.close());
    expectSame(kept(upgraded.sqlite), summed(upgraded.sqlite));
    // applying 11 + active 12 + failed 13 + destroying 14 + interrupted 16, and a $0.50 bucket in each of those five.
    expect(await new SqliteResourceTotals(upgraded).inCloud(GUILD_A)).toEqual({ monthlyUsd: 68.5, vms: 5, vmsLeftByStoppedRuns: 3 });
  });
});
