/**
 * The per-guild caches of what every interaction reads (tier, policy, project names): a write through the
 * repositories is seen at once, so is a commit by another connection or another process (SQLite's data_version),
 * nothing read inside a transaction is kept, and one guild's entry never answers for another's.
 */
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { GuildCache } from '../src/db/guild-cache.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { ProjectNotFound } from '../src/projects/errors.js';
import { projectRepositoryFor } from '../src/projects/project-repository.js';
import { runStoreFor } from '../src/engine/run-store.js';
import { resourceRepositoryFor } from '../src/projects/resource-repository.js';
import { SqliteResourceTotals } from '../src/projects/resource-totals.js';
import { TierService } from '../src/tiers/tier-service.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ALICE = '333333333333333333';

/**
 * Lets the current synchronous stretch of work end: the caches ask data_version once per stretch, as a commit by
 * another process can only ever be seen between two of them (it cannot be told apart from one just after).
 */
const nextStretch = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('per-guild caches', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function setup() {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const clock = new FakeClock();
    const data = sqliteDataAccess(database);
    const tiers = new TierService(data, clock);
    const policies = new PolicyService(data, PriceCatalogue.load(), clock, async (guildId) => (await tiers.get(guildId)).limits);
    const projects = projectRepositoryFor(data.session, clock);
    // Another connection on the same file, as another process (the tier CLI) has.
    const other = new Database(database.path);
    cleanups.unshift(() => other.close());
    const newProject = (guildId: string, name: string) => projects.create({ guildId, name, provider: 'gcp', region: 'us-central1', createdBy: ALICE });
    const names = async (guildId: string, typed = '') => (await projects.search(guildId, typed, 25)).map((p) => p.name);
    return { database, data, tiers, policies, projects, other, newProject, names };
  }

  it('sees a tier change made through the service, and one committed by another connection, at the next read', async () => {
    const { tiers, policies, other } = setup();
    expect((await tiers.get(GUILD_A)).tier).toBe('standard');
    expect((await policies.get(GUILD_A)).maxInstances).toBe(10);
    await tiers.set(GUILD_A, 'free', 'ops');
    expect((await tiers.get(GUILD_A)).tier).toBe('free');
    // The free tier's ceiling lowers the policy in force at once.
    expect((await policies.get(GUILD_A)).maxInstances).toBeLessThan(10);
    other.prepare('UPDATE guild_tiers SET tier = ? WHERE guild_id = ?').run('enterprise', GUILD_A);
    await nextStretch();
    expect((await tiers.get(GUILD_A)).tier).toBe('enterprise');
    expect((await policies.get(GUILD_A)).maxInstances).toBe(10);
    other.prepare('DELETE FROM guild_tiers WHERE guild_id = ?').run(GUILD_A);
    await nextStretch();
    expect(await tiers.get(GUILD_A)).toMatchObject({ tier: 'standard', assignedBy: null });
  });

  it('sees a policy written by another connection, though the guild was cached', async () => {
    const { policies, other } = setup();
    await policies.update(GUILD_A, { maxBudgetMonthly: 200 }, ALICE);
    expect((await policies.get(GUILD_A)).maxBudgetMonthly).toBe(200);
    expect((await policies.get(GUILD_B)).maxBudgetMonthly).toBe(1000);
    other.prepare('UPDATE guild_policies SET max_budget_monthly = 75 WHERE guild_id = ?').run(GUILD_A);
    await nextStretch();
    expect((await policies.get(GUILD_A)).maxBudgetMonthly).toBe(75);
    expect((await policies.get(GUILD_B)).maxBudgetMonthly).toBe(1000);
  });

  it('offers a project in autocomplete as soon as it is created, and no longer once it is forgotten', async () => {
    const { projects, newProject, names } = setup();
    expect(await names(GUILD_A)).toEqual([]);
    const web = await newProject(GUILD_A, 'web');
    expect(await names(GUILD_A)).toEqual(['web']);
    await newProject(GUILD_A, 'api');
    expect(await names(GUILD_A)).toEqual(['api', 'web']);
    expect(await names(GUILD_A, 'WE')).toEqual(['web']);
    await projects.archive(GUILD_A, web.id);
    expect(await names(GUILD_A)).toEqual(['api']);
  });

  it('never answers one guild with another guild’s cached projects', async () => {
    const { newProject, names } = setup();
    await newProject(GUILD_A, 'alpha-secret');
    expect(await names(GUILD_A)).toEqual(['alpha-secret']);
    expect(await names(GUILD_B)).toEqual([]);
    expect(await names(GUILD_B, 'alpha')).toEqual([]);
    await newProject(GUILD_B, 'beta');
    expect(await names(GUILD_B)).toEqual(['beta']);
    expect(await names(GUILD_A)).toEqual(['alpha-secret']);
  });

  it('forgets a write made through another instance of the repository on the same connection', async () => {
    const { database, tiers, names } = setup();
    const otherProjects = projectRepositoryFor(sqliteDataAccess(database).session);
    const otherTiers = new TierService(sqliteDataAccess(database));
    expect(await names(GUILD_A)).toEqual([]);
    expect((await tiers.get(GUILD_A)).tier).toBe('standard');
    // Our own connection's writes never change data_version: the instances must share what they forget.
    await otherProjects.create({ guildId: GUILD_A, name: 'web', provider: 'gcp', region: 'us-central1', createdBy: ALICE });
    await otherTiers.set(GUILD_A, 'team', 'ops');
    expect(await names(GUILD_A)).toEqual(['web']);
    expect((await tiers.get(GUILD_A)).tier).toBe('team');
  });

  it('sees a project another connection added or archived', async () => {
    const { other, projects, newProject, names } = setup();
    await newProject(GUILD_A, 'web');
    expect(await names(GUILD_A)).toEqual(['web']);
    expect((await projects.get(GUILD_A, 'web')).name).toBe('web');
    other
      .prepare(
        "INSERT INTO cloud_projects (guild_id, name, slug, provider, region, backend_settings, created_by, created_at, updated_at) VALUES (?, 'db', 'db', 'aws', 'us-east-1', '{}', ?, 1, 1)",
      )
      .run(GUILD_A, ALICE);
    await nextStretch();
    expect(await names(GUILD_A)).toEqual(['db', 'web']);
    other.prepare("UPDATE cloud_projects SET status = 'archived' WHERE guild_id = ? AND name = 'web'").run(GUILD_A);
    await nextStretch();
    expect(await names(GUILD_A)).toEqual(['db']);
    // The lookup by name, kept since the first one, is forgotten too.
    await expect(projects.get(GUILD_A, 'web')).rejects.toThrow(ProjectNotFound);
    expect((await projects.get(GUILD_A, 'db')).provider).toBe('aws');
  });

  it('sees a commit by another process', async () => {
    const { database, tiers, projects, newProject, names } = setup();
    await newProject(GUILD_A, 'web');
    expect(await names(GUILD_A)).toEqual(['web']);
    expect((await projects.get(GUILD_A, 'web')).name).toBe('web');
    expect((await tiers.get(GUILD_A)).tier).toBe('standard');
    const script = `
      const Database = require('better-sqlite3');
      const db = new Database(process.argv[1]);
      db.prepare("INSERT INTO guild_tiers (guild_id, tier, assigned_by, assigned_at) VALUES (?, 'team', 'cli', 1)").run(process.argv[2]);
      db.prepare("UPDATE cloud_projects SET name = 'web-2', slug = 'web-2' WHERE guild_id = ?").run(process.argv[2]);
      db.close();`;
    await execa('node', ['-e', script, database.path, GUILD_A]);
    expect(await tiers.get(GUILD_A)).toMatchObject({ tier: 'team', assignedBy: 'cli' });
    expect(await names(GUILD_A)).toEqual(['web-2']);
    await expect(projects.get(GUILD_A, 'web')).rejects.toThrow(ProjectNotFound);
    expect((await projects.get(GUILD_A, 'web-2')).name).toBe('web-2');
  });

  it('asks data_version once per synchronous stretch: a commit made during one is seen from the next', async () => {
    const { tiers, other } = setup();
    expect((await tiers.get(GUILD_A)).tier).toBe('standard');
    other.prepare("INSERT INTO guild_tiers (guild_id, tier, assigned_by, assigned_at) VALUES (?, 'free', 'cli', 1)").run(GUILD_A);
    // Still the same stretch of work: the answer is the database as it was when the stretch began.
    expect((await tiers.get(GUILD_A)).tier).toBe('standard');
    await nextStretch();
    expect((await tiers.get(GUILD_A)).tier).toBe('free');
  });

  it('counts a guild\u2019s active runs again after each write of iac_runs, here or by another connection', async () => {
    const { database, other, newProject } = setup();
    const clock = new FakeClock();
    const data = sqliteDataAccess(database);
    const runs = runStoreFor(data, clock);
    // The engine's recovery builds its own store on the same connection: what one forgets, the other must too.
    const recovery = runStoreFor(data, clock);
    const web = await newProject(GUILD_A, 'web');
    const api = await newProject(GUILD_B, 'api');
    expect(await runs.activeCounts(GUILD_A)).toEqual({ running: 0, queued: 0 });
    const first = await runs.create({ guildId: GUILD_A, projectId: web.id, resourceId: null, kind: 'plan', startedBy: ALICE });
    await runs.create({ guildId: GUILD_A, projectId: web.id, resourceId: null, kind: 'plan', startedBy: ALICE });
    expect(await runs.activeCounts(GUILD_A)).toEqual({ running: 0, queued: 2 });
    // Another guild's runs never count for this one.
    await runs.create({ guildId: GUILD_B, projectId: api.id, resourceId: null, kind: 'plan', startedBy: ALICE });
    expect(await runs.activeCounts(GUILD_A)).toEqual({ running: 0, queued: 2 });
    expect(await runs.activeCounts(GUILD_B)).toEqual({ running: 0, queued: 1 });
    await runs.markRunning(GUILD_A, first.guild_run_number, 'tofu', '1.8.0');
    expect(await runs.activeCounts(GUILD_A)).toEqual({ running: 1, queued: 1 });
    await runs.finish(GUILD_A, first.guild_run_number, 'succeeded');
    expect(await runs.activeCounts(GUILD_A)).toEqual({ running: 0, queued: 1 });
    // Failed by id, guilds unknown: every guild is counted again.
    await recovery.failUnlessEnded((await recovery.unfinished()).map((run) => run.id), 'the bot stopped');
    expect(await runs.activeCounts(GUILD_A)).toEqual({ running: 0, queued: 0 });
    expect(await runs.activeCounts(GUILD_B)).toEqual({ running: 0, queued: 0 });
    other
      .prepare("INSERT INTO iac_runs (guild_id, guild_run_number, project_id, kind, status, started_by, created_at) VALUES (?, 9, ?, 'apply', 'running', ?, 1)")
      .run(GUILD_A, web.id, ALICE);
    await nextStretch();
    expect(await runs.activeCounts(GUILD_A)).toEqual({ running: 1, queued: 0 });
  });

  it('sums a guild\u2019s resources again after each write of cloud_resources, here or by another connection', async () => {
    const { database, other, newProject } = setup();
    const clock = new FakeClock();
    const resources = resourceRepositoryFor(sqliteDataAccess(database).session, clock);
    const totals = new SqliteResourceTotals(database);
    const web = await newProject(GUILD_A, 'web');
    const api = await newProject(GUILD_B, 'api');
    const vm = (guildId: string, projectId: number, cost: number) =>
      resources.create({ guildId, projectId, name: `vm-${cost}`, resourceType: 'vm', instanceType: 'e2-small', estimatedMonthlyCost: cost, createdBy: ALICE });
    expect(await totals.inCloud(GUILD_A)).toEqual({ monthlyUsd: 0, vms: 0, vmsLeftByStoppedRuns: 0 });
    const first = await vm(GUILD_A, web.id, 10);
    await vm(GUILD_B, api.id, 99);
    // Planned is not in the cloud yet; applying may be.
    expect((await totals.inCloud(GUILD_A)).monthlyUsd).toBe(0);
    await resources.setStatus(GUILD_A, first.id, 'applying');
    expect(await totals.inCloud(GUILD_A)).toEqual({ monthlyUsd: 10, vms: 1, vmsLeftByStoppedRuns: 0 });
    // Another guild's resources never count for this one.
    expect((await totals.inCloud(GUILD_B)).monthlyUsd).toBe(0);
    // Through another repository instance on the same connection (the engine's recovery builds its own).
    await resourceRepositoryFor(sqliteDataAccess(database).session, clock).setStatus(GUILD_A, first.id, 'interrupted');
    expect(await totals.inCloud(GUILD_A)).toMatchObject({ vms: 1, vmsLeftByStoppedRuns: 1 });
    other.prepare("UPDATE cloud_resources SET status = 'destroyed' WHERE id = ?").run(first.id);
    await nextStretch();
    expect(await totals.inCloud(GUILD_A)).toEqual({ monthlyUsd: 0, vms: 0, vmsLeftByStoppedRuns: 0 });
  });

  it('keeps nothing read inside a transaction, which may roll back', async () => {
    const { data, tiers, newProject, names } = setup();
    await expect(
      data.transaction(async () => {
        await newProject(GUILD_A, 'doomed');
        await tiers.set(GUILD_A, 'team', 'ops');
        expect(await names(GUILD_A)).toEqual(['doomed']);
        expect((await tiers.get(GUILD_A)).tier).toBe('team');
        throw new Error('a later step failed');
      }),
    ).rejects.toThrow(/later step/);
    expect(await names(GUILD_A)).toEqual([]);
    expect((await tiers.get(GUILD_A)).tier).toBe('standard');
  });

  it('reads once while nothing changes, and keeps at most the guilds it was sized for', async () => {
    const { database } = setup();
    const cache = new GuildCache<string>(database.sqlite, 'test rows', 2);
    let loads = 0;
    const load = (guildId: string) => () => {
      loads += 1;
      return `row of ${guildId}`;
    };
    expect(cache.get(GUILD_A, load(GUILD_A))).toBe(`row of ${GUILD_A}`);
    expect(cache.get(GUILD_A, load(GUILD_A))).toBe(`row of ${GUILD_A}`);
    expect(loads).toBe(1);
    cache.get(GUILD_B, load(GUILD_B));
    cache.get(GUILD_A, load(GUILD_A)); // A is now the most recently used
    cache.get('444444444444444444', load('444444444444444444')); // B goes
    expect(loads).toBe(3);
    cache.get(GUILD_A, load(GUILD_A));
    expect(loads).toBe(3);
    cache.get(GUILD_B, load(GUILD_B));
    expect(loads).toBe(4);
    cache.forget(GUILD_B);
    cache.get(GUILD_B, load(GUILD_B));
    expect(loads).toBe(5);
  });

  it('forgets a guild on a watched write by this connection, for every cache watching the table, and takes only plain SQL names', () => {
    const { database } = setup();
    const sqlite = database.sqlite;
    sqlite.exec('CREATE TABLE watched (id INTEGER PRIMARY KEY, guild_id TEXT NOT NULL, shown TEXT, hidden TEXT)');
    const names = new GuildCache<string>(sqlite, 'test.names').forgetOnWrites([{ table: 'watched', columns: ['shown'] }]);
    const counts = new GuildCache<string>(sqlite, 'test.counts').forgetOnWrites([{ table: 'watched', columns: ['shown', 'hidden'] }]);
    let loads = 0;
    const load = () => `load ${++loads}`;
    const insert = sqlite.prepare('INSERT INTO watched (guild_id, shown, hidden) VALUES (?, ?, ?)');
    const { lastInsertRowid: row } = insert.run(GUILD_A, 'a', 'x');
    expect(names.get(GUILD_A, load)).toBe('load 1');
    expect(counts.get(GUILD_A, load)).toBe('load 2');
    sqlite.prepare('UPDATE watched SET hidden = ? WHERE id = ?').run('y', row);
    expect(names.get(GUILD_A, load)).toBe('load 1'); // not a column it shows
    expect(counts.get(GUILD_A, load)).toBe('load 3');
    insert.run(GUILD_B, 'b', 'x');
    expect(names.get(GUILD_A, load)).toBe('load 1'); // another guild's row
    sqlite.prepare('DELETE FROM watched WHERE id = ?').run(row);
    expect(names.get(GUILD_A, load)).toBe('load 4');
    expect(() => new GuildCache(sqlite, "x'); DROP TABLE watched; --").forgetOnWrites([{ table: 'watched', columns: ['shown'] }])).toThrow(RangeError);
    expect(() => new GuildCache(sqlite, 'test.bad').forgetOnWrites([{ table: 'watched; DROP TABLE watched', columns: ['shown'] }])).toThrow(RangeError);
    expect(() => new GuildCache(sqlite, 'test.none').forgetOnWrites([{ table: 'watched', columns: [] }])).toThrow(RangeError);
    expect(sqlite.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'watched'").get()).toEqual({ n: 1 });
  });
});
