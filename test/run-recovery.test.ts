/**
 * Start-up recovery's database side (src/engine/orphans.ts) on SQLite and PostgreSQL: the runs a stopped bot left
 * queued or running are marked interrupted, with what became of their engines, and the resources it left being
 * changed are handed to the repository; only the shard's own guilds. Real engine processes: orphans.test.ts.
 */
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { recoverUnfinishedRuns } from '../src/engine/orphans.js';
import { currentBootId } from '../src/engine/process-identity.js';
import { runStoreFor } from '../src/engine/run-store.js';
import type { Resource } from '../src/projects/index.js';
import type { ResourceRepository } from '../src/projects/resource-repository.js';
import { shardOfGuild, type ShardScope } from '../src/sharding/shard-scope.js';
import { FakeClock } from './support/clock.js';
import { describeOnBothDialects } from './support/dialects.js';
import { memoryLogger } from './support/engine-env.js';
import { emptyRunTables, insertProject } from './support/run-tables.js';

/** Guilds served by shard 0 and shard 1 of two. */
const MINE = '320000000000000002';
const THEIRS = '310000000000000001';
const USER = '333333333333333333';

describeOnBothDialects('recovery of runs left by a stopped bot', (open) => {
  async function setup() {
    const d = await open();
    await emptyRunTables(d);
    const clock = new FakeClock();
    const runs = runStoreFor(d.data, clock);
    const interrupted: Array<[string, number]> = [];
    // The repository (SQLite's for now) applies its own transition rules; here only what recovery asks of it counts.
    const resources: Pick<ResourceRepository, 'setStatus'> = {
      setStatus: async (guildId, id) => {
        interrupted.push([guildId, id]);
        return { id, guildId } as Resource;
      },
    };
    const { logger } = memoryLogger();
    const recover = (shard?: ShardScope) => recoverUnfinishedRuns({ data: d.data, resources, clock, logger, graceMs: 50, ...(shard ? { shard } : {}) });
    const resourceIn = async (guildId: string, projectId: number, status: string): Promise<number> => {
      await d.rows(
        `INSERT INTO cloud_resources (project_id, guild_id, name, resource_type, status, created_by, created_at, updated_at) VALUES (${projectId}, '${guildId}', '${status}', 'bucket', '${status}', 'x', 1, 1)`,
      );
      const [row] = await d.rows(`SELECT CAST(max(id) AS INTEGER) AS id FROM cloud_resources`);
      return Number(row?.id);
    };
    return { d, runs, recover, interrupted, resourceIn };
  }

  it('marks queued and running runs interrupted, says what became of their engines, and leaves ended runs alone', async () => {
    const { d, runs, recover } = await setup();
    const project = await insertProject(d, MINE, 'web');
    await runs.create({ guildId: MINE, projectId: project, resourceId: null, kind: 'plan', startedBy: USER, channelId: '444444444444444444' });
    await runs.create({ guildId: MINE, projectId: project, resourceId: null, kind: 'apply', startedBy: USER });
    await runs.markRunning(MINE, 2, 'terraform', '1.9.8');
    // An engine that has ended since: a real pid, now gone, recorded with start ticks past 2^31.
    const ended = execa(process.execPath, ['-e', '']);
    const pid = ended.pid!;
    await ended;
    await runs.recordEngineProcess(MINE, 2, { pid, startTicks: 5_000_000_000, bootId: currentBootId(), stopsWithBot: true });
    await runs.create({ guildId: MINE, projectId: project, resourceId: null, kind: 'plan', startedBy: USER });
    await runs.finish(MINE, 3, 'succeeded');

    const first = await recover();
    expect(first.runs.map((run) => [run.runNumber, run.kind, run.engine, run.channelId])).toEqual([
      [1, 'plan', 'not_started', '444444444444444444'],
      [2, 'apply', 'gone', null],
    ]);
    expect(await runs.get(MINE, 1)).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/before this run started its engine/) });
    expect(await runs.get(MINE, 2)).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/had ended by the next start/) });
    expect(await runs.get(MINE, 3)).toMatchObject({ status: 'succeeded', error: null });
    expect(await recover()).toEqual({ runs: [], resources: 0 });
  });

  it('in one shard of several, settles only its own guilds’ runs and resources left applying or destroying', async () => {
    const { d, runs, recover, interrupted, resourceIn } = await setup();
    expect([shardOfGuild(MINE, 2), shardOfGuild(THEIRS, 2)]).toEqual([0, 1]);
    const left: Record<string, number> = {};
    for (const guildId of [MINE, THEIRS]) {
      const project = await insertProject(d, guildId, 'web');
      left[guildId] = await resourceIn(guildId, project, 'applying');
      await runs.create({ guildId, projectId: project, resourceId: left[guildId]!, kind: 'apply', startedBy: USER });
    }
    const destroying = await resourceIn(MINE, await insertProject(d, MINE, 'api'), 'destroying');
    await resourceIn(MINE, 1, 'active');

    const recovered = await recover({ id: 0, count: 2 });
    expect(recovered.runs.map((run) => run.guildId)).toEqual([MINE]);
    expect(recovered.resources).toBe(2);
    expect(interrupted).toEqual([
      [MINE, left[MINE]],
      [MINE, destroying],
    ]);
    expect(await runs.get(MINE, 1)).toMatchObject({ status: 'interrupted' });
    // Shard 1's run may be running right now in its own process: shard 0 must not touch it.
    expect(await runs.get(THEIRS, 1)).toMatchObject({ status: 'queued' });
  });
});
