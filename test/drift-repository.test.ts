/**
 * The drift-check repository on both dialects (issue 16), on real databases with their migrations: the schedules a
 * guild's admins enable, each read scoped to the guild, what the janitor is offered (one check per guild, earliest
 * first, only its shard's guilds: with several shards on one database each check is offered to one process), what
 * a finished check leaves, and a reconcile plan taken once by two presses racing from two processes.
 */
import { expect, it } from 'vitest';
import { driftRepositoryFor, type DriftCheckSchedule, type DriftRepository } from '../src/drift/drift-repository.js';
import { shardOfGuild } from '../src/sharding/shard-scope.js';
import { describeOnBothDialects, type DialectUnderTest } from './support/dialects.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '222222222222222222';
const ADMIN = '333333333333333333';
const report = { resources: [{ address: 'google_storage_bucket.b', action: 'update' as const, attributes: [], moreAttributes: 0 }], moreResources: 0 };

describeOnBothDialects('the drift-check repository', (open) => {
  async function setup(): Promise<{ db: DialectUnderTest; checks: DriftRepository; project: (guildId: string) => Promise<number> }> {
    const db = await open();
    if (db.dialect === 'postgres') await db.rows('TRUNCATE drift_checks, cloud_projects RESTART IDENTITY CASCADE');
    let made = 0;
    const project = async (guildId: string): Promise<number> => {
      made++;
      const [row] = await db.rows(
        `INSERT INTO cloud_projects (guild_id, name, slug, provider, region, created_by, created_at, updated_at)
         VALUES ('${guildId}', 'p${made}', 'p${made}', 'gcp', 'us-central1', '${ADMIN}', 0, 0) RETURNING id`,
      );
      return Number(row?.id);
    };
    return { db, checks: driftRepositoryFor(db.data.session), project };
  }

  const schedule = (guildId: string, projectId: number, deploymentId: number | null, nextCheckAt: number): DriftCheckSchedule => ({
    guildId,
    projectId,
    deploymentId,
    schedule: '* * * * *',
    enabledBy: ADMIN,
    channelId: null,
    nextCheckAt,
    now: 0,
  });

  it('offers the janitor the first due check of each guild, earliest first, and scopes every other read to a guild', async () => {
    const { checks, project } = await setup();
    const projectA = await project(GUILD);
    const projectB = await project(OTHER_GUILD);
    const a1 = await checks.upsert(schedule(GUILD, projectA, null, 300));
    await checks.upsert(schedule(GUILD, projectA, 7, 100));
    await checks.upsert(schedule(GUILD, projectA, 8, 100));
    const b1 = await checks.upsert(schedule(OTHER_GUILD, projectB, null, 200));
    await checks.upsert(schedule(OTHER_GUILD, projectB, 9, 5_000));
    expect((await checks.due(1_000, 10)).map((c) => [c.guildId, c.deploymentId])).toEqual([
      [GUILD, 7],
      [OTHER_GUILD, null],
    ]);
    expect(await checks.due(1_000, 1)).toHaveLength(1);
    expect(await checks.due(50, 10)).toEqual([]);
    // Enabling again reschedules the same row, keeping what it found.
    await checks.recordOutcome(GUILD, a1.id, { status: 'failed', failure: 'vault.none' }, 10, 300);
    const again = await checks.upsert({ ...schedule(GUILD, projectA, null, 400), schedule: '0 * * * *' });
    expect(again).toMatchObject({ id: a1.id, schedule: '0 * * * *', nextCheckAt: 400, lastStatus: 'failed', lastFailure: 'vault.none' });
    expect(await checks.find(GUILD, projectA, null)).toEqual(again);
    expect(await checks.find(GUILD, projectA, 7)).toMatchObject({ deploymentId: 7 });
    expect(await checks.find(OTHER_GUILD, projectA, null)).toBeUndefined();
    // Another guild's check is not found, not removed, not changed.
    expect(await checks.get(GUILD, b1.id)).toBeUndefined();
    expect(await checks.remove(GUILD, b1.id)).toBe(false);
    await checks.recordOutcome(GUILD, b1.id, { status: 'clean' }, 20, 9_000);
    await checks.markAccepted(GUILD, b1.id, 20);
    expect(await checks.get(OTHER_GUILD, b1.id)).toEqual(b1);
    expect((await checks.list(OTHER_GUILD)).map((c) => c.deploymentId)).toEqual([null, 9]);
    expect((await checks.list(GUILD)).map((c) => c.deploymentId)).toEqual([null, 7, 8]);
    expect(await checks.remove(OTHER_GUILD, b1.id)).toBe(true);
    expect(await checks.list(OTHER_GUILD)).toHaveLength(1);
  });

  it('records what a check found: drift and its report, a failure that leaves the report standing, clean, accepted', async () => {
    const { checks, project } = await setup();
    const check = await checks.upsert(schedule(GUILD, await project(GUILD), null, 100));
    expect(check).toMatchObject({ lastStatus: 'never', lastCheckedAt: null, report: null, driftRunId: null });
    await checks.recordOutcome(GUILD, check.id, { status: 'drifted', runId: 12, report }, 150, 200);
    expect(await checks.get(GUILD, check.id)).toMatchObject({ lastStatus: 'drifted', lastCheckedAt: 150, nextCheckAt: 200, driftRunId: 12, report });
    await checks.recordOutcome(GUILD, check.id, { status: 'failed', failure: 'engine.failed' }, 250, 300);
    expect(await checks.get(GUILD, check.id)).toMatchObject({ lastStatus: 'failed', lastFailure: 'engine.failed', driftRunId: 12, report });
    await checks.setReconcilePlan(GUILD, check.id, 13, 260, '[]');
    expect(await checks.get(GUILD, check.id)).toMatchObject({ reconcilePlanRunId: 13, reconcilePlanned: '[]' });
    await checks.markAccepted(GUILD, check.id, 270);
    expect(await checks.get(GUILD, check.id)).toMatchObject({ lastStatus: 'clean', driftRunId: null, report: null, reconcilePlanRunId: null });
    await checks.recordOutcome(GUILD, check.id, { status: 'drifted', runId: 14, report }, 350, 400);
    await checks.markReconciled(GUILD, check.id, 360);
    expect(await checks.get(GUILD, check.id)).toMatchObject({ lastStatus: 'clean', driftRunId: null, report: null, lastCheckedAt: 350 });
  });

  it('offers each shard only its own guilds’ checks, so two shards on one database never both start one', async () => {
    const { checks, db, project } = await setup();
    const guilds = ['111111111111111111', '222222222222222222', '333333333333333333', '444444444444444444', '555555555555555555', 'console'];
    for (const guildId of guilds) await checks.upsert(schedule(guildId, await project(guildId), null, 100));
    const other = await db.another();
    const shards = [driftRepositoryFor(db.data.session, { shard: { id: 0, count: 2 } }), driftRepositoryFor(other.session, { shard: { id: 1, count: 2 } })];
    const offered = await Promise.all(shards.map(async (shard) => (await shard.due(1_000, 50)).map((c) => c.guildId)));
    // The console's made-up guild belongs to shard 0, as servesGuild says.
    const owner = (guildId: string) => (guildId === 'console' ? 0 : shardOfGuild(guildId, 2));
    expect(offered[0]).toEqual(guilds.filter((g) => owner(g) === 0));
    expect(offered[1]).toEqual(guilds.filter((g) => owner(g) === 1));
    expect(offered[0]!.length).toBeGreaterThan(0);
    expect(offered[1]!.length).toBeGreaterThan(0);
  });

  it('hands a reconcile plan to one of two presses racing from two processes', async () => {
    const { checks, db, project } = await setup();
    const check = await checks.upsert(schedule(GUILD, await project(GUILD), null, 100));
    await checks.setReconcilePlan(GUILD, check.id, 21, 10, '[]');
    const other = driftRepositoryFor((await db.another()).session);
    expect(await other.takeReconcilePlan(OTHER_GUILD, check.id, 21, 11)).toBe(false);
    expect(await checks.takeReconcilePlan(GUILD, check.id, 20, 11)).toBe(false);
    const taken = await Promise.all([checks.takeReconcilePlan(GUILD, check.id, 21, 11), other.takeReconcilePlan(GUILD, check.id, 21, 11)]);
    expect(taken.filter(Boolean)).toHaveLength(1);
    expect(await checks.get(GUILD, check.id)).toMatchObject({ reconcilePlanRunId: null, reconcilePlanned: null });
  });
});
