/**
 * The run store (src/engine/run-store.ts) on SQLite and PostgreSQL: runs numbered per guild (never shared, even by
 * two processes creating at once), a guild never reaching another's run, and what recovery and the tiers read.
 */
import { expect, it } from 'vitest';
import { runStoreFor, type NewRun } from '../src/engine/run-store.js';
import { FakeClock } from './support/clock.js';
import { describeOnBothDialects } from './support/dialects.js';
import { emptyRunTables, insertProject } from './support/run-tables.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ALICE = '333333333333333333';

describeOnBothDialects('the run store', (open) => {
  async function setup() {
    const d = await open();
    await emptyRunTables(d);
    const clock = new FakeClock();
    const runs = runStoreFor(d.data, clock);
    const projects: Record<string, number> = { [GUILD_A]: await insertProject(d, GUILD_A, 'web'), [GUILD_B]: await insertProject(d, GUILD_B, 'web') };
    const newRun = (guildId: string, values: Partial<NewRun> = {}): NewRun => ({ guildId, projectId: projects[guildId]!, resourceId: null, kind: 'plan', startedBy: ALICE, ...values });
    return { d, clock, runs, newRun };
  }

  it('numbers each guild’s runs on their own, and a guild reaches only its own by number', async () => {
    const { runs, newRun } = await setup();
    const a1 = await runs.create(newRun(GUILD_A, { channelId: '555555555555555555' }));
    const b1 = await runs.create(newRun(GUILD_B));
    const a2 = await runs.create(newRun(GUILD_A, { kind: 'apply' }));
    expect([a1.guild_run_number, b1.guild_run_number, a2.guild_run_number]).toEqual([1, 1, 2]);
    expect(a1).toMatchObject({ guild_id: GUILD_A, status: 'queued', channel_id: '555555555555555555', engine: null, finished_at: null });
    expect(await runs.get(GUILD_A, 2)).toMatchObject({ id: a2.id, kind: 'apply' });
    expect(await runs.get(GUILD_B, 2)).toBeUndefined();
    expect(await runs.get(GUILD_B, 1)).toMatchObject({ id: b1.id });
    // Numbers no run can have: never a query PostgreSQL's integer column would refuse.
    for (const number of [0, -1, 1.5, 2 ** 31, 2 ** 53, Number.NaN]) expect(await runs.get(GUILD_A, number)).toBeUndefined();
  });

  it('lists a guild’s recent runs newest first, 1 to 50 of them, none of another guild’s', async () => {
    const { runs, newRun } = await setup();
    for (let n = 0; n < 52; n++) await runs.create(newRun(GUILD_A));
    await runs.create(newRun(GUILD_B));
    expect((await runs.recent(GUILD_A, 3)).map((run) => run.guild_run_number)).toEqual([52, 51, 50]);
    expect(await runs.recent(GUILD_A, 500)).toHaveLength(50);
    expect(await runs.recent(GUILD_A, 0)).toHaveLength(1);
    expect((await runs.recent(GUILD_B, 10)).map((run) => run.guild_id)).toEqual([GUILD_B]);
  });

  it('records the engine and its process, and how the run ended, bounded', async () => {
    const { clock, runs, newRun } = await setup();
    const run = await runs.create(newRun(GUILD_A));
    clock.advance(1_000);
    await runs.markRunning(GUILD_A, 1, 'tofu', '1.8.0');
    // Start ticks past 2^31 (a long uptime) and a boolean: PostgreSQL's bigint and boolean columns.
    await runs.recordEngineProcess(GUILD_A, 1, { pid: 4242, startTicks: 5_000_000_000, bootId: 'boot-1', stopsWithBot: true });
    expect(await runs.get(GUILD_A, 1)).toMatchObject({ status: 'running', engine: 'tofu', engine_version: '1.8.0', started_at: run.created_at + 1_000, engine_pid: 4242, engine_start_ticks: 5_000_000_000, engine_boot_id: 'boot-1', engine_stops_with_bot: true });
    // The same number in another guild is another run: untouched.
    await runs.create(newRun(GUILD_B));
    await runs.finish(GUILD_B, 1, 'cancelled');
    expect(await runs.get(GUILD_A, 1)).toMatchObject({ status: 'running', finished_at: null });
    await runs.finish(GUILD_A, 1, 'failed', { summary: { changes: 2 }, error: 'x'.repeat(5_000) });
    const ended = await runs.get(GUILD_A, 1);
    expect(ended).toMatchObject({ status: 'failed', summary: '{"changes":2}', finished_at: clock.now() });
    expect(ended?.error).toHaveLength(2_000);
  });

  it('counts each guild’s running and queued runs, and finds every guild’s unfinished ones, oldest first', async () => {
    const { runs, newRun } = await setup();
    for (const guildId of [GUILD_A, GUILD_A, GUILD_B, GUILD_A]) await runs.create(newRun(guildId));
    await runs.markRunning(GUILD_A, 1, 'terraform', '1.9.8');
    await runs.finish(GUILD_A, 2, 'succeeded');
    expect(await runs.activeCounts(GUILD_A)).toEqual({ running: 1, queued: 1 });
    expect(await runs.activeCounts(GUILD_B)).toEqual({ running: 0, queued: 1 });
    expect(await runs.activeCounts('999999999999999999')).toEqual({ running: 0, queued: 0 });
    const unfinished = await runs.unfinished();
    expect(unfinished.map((run) => [run.guild_id, run.guild_run_number])).toEqual([
      [GUILD_A, 1],
      [GUILD_B, 1],
      [GUILD_A, 3],
    ]);
    // The last resort: fails those under way, by id, unless they ended meanwhile; an interrupted one is failed too.
    await runs.finish(GUILD_A, 3, 'interrupted');
    const ids = [...unfinished.map((run) => run.id)].reverse();
    await runs.finish(GUILD_B, 1, 'succeeded');
    const failed = await runs.failUnlessEnded(ids, 'internal error');
    expect(failed).toEqual([unfinished[0]!.id, unfinished[2]!.id]);
    expect(await runs.get(GUILD_B, 1)).toMatchObject({ status: 'succeeded', error: null });
    expect(await runs.get(GUILD_A, 3)).toMatchObject({ status: 'failed', error: 'internal error' });
    expect(await runs.activeCounts(GUILD_A)).toEqual({ running: 0, queued: 0 });
    expect(await runs.failUnlessEnded([], 'nothing')).toEqual([]);
  });

  it('two processes creating one guild’s runs at once never share a number', async () => {
    const { d, clock, runs, newRun } = await setup();
    const theirs = runStoreFor(await d.another(), clock);
    const created = await Promise.all(Array.from({ length: 20 }, (_, n) => (n % 2 === 0 ? runs : theirs).create(newRun(n % 4 === 3 ? GUILD_B : GUILD_A))));
    const numbersOf = (guildId: string) =>
      created
        .filter((run) => run.guild_id === guildId)
        .map((run) => run.guild_run_number)
        .sort((a, b) => a - b);
    expect(numbersOf(GUILD_A)).toEqual(Array.from({ length: 15 }, (_, n) => n + 1));
    expect(numbersOf(GUILD_B)).toEqual([1, 2, 3, 4, 5]);
  });
});
