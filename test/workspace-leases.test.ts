/**
 * Workspace leases (src/engine/workspace-leases.ts) on SQLite and PostgreSQL: one holder per (guild, workspace)
 * across processes, the holder named to whoever is refused, a crashed holder's lease taken over once it expires, and
 * the run's own row written in the claim's unit of work. Two real SQLite processes race in shared-state-processes.test.ts.
 */
import { expect, it } from 'vitest';
import type { DataAccess } from '../src/db/data-access.js';
import type { WorkspaceHolder } from '../src/engine/errors.js';
import { runStoreFor } from '../src/engine/run-store.js';
import { WorkspaceLeases } from '../src/engine/workspace-leases.js';
import { HEARTBEAT_EVERY_MS, LEASE_MS, LeaseHeartbeat } from '../src/shared/leases.js';
import { FakeClock } from './support/clock.js';
import { describeOnBothDialects } from './support/dialects.js';
import { emptyRunTables, insertProject } from './support/run-tables.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ALICE = '333333333333333333';
const BOB = '444444444444444444';

describeOnBothDialects('workspace leases', (open) => {
  async function setup() {
    const d = await open();
    await emptyRunTables(d);
    const clock = new FakeClock();
    const leasesOf = (owner: string, data: DataAccess = d.data) => new WorkspaceLeases(data, clock, owner);
    const holder =
      (runId: number, startedBy = ALICE) =>
      async (): Promise<WorkspaceHolder> => ({ runId, kind: 'apply', since: clock.now(), startedBy });
    return { d, clock, leases: leasesOf('this-process'), leasesOf, holder };
  }

  it('refuses a second claim on a workspace and names the holder; other workspaces and guilds are free', async () => {
    const { clock, leases, holder } = await setup();
    const first = await leases.claim(GUILD_A, 'web', holder(5));
    expect(first.claimed).toBe(true);
    expect(await leases.claim(GUILD_A, 'web', holder(6, BOB))).toEqual({ claimed: false, holder: { runId: 5, kind: 'apply', since: clock.now(), startedBy: ALICE } });
    expect((await leases.claim(GUILD_A, 'web/site', holder(7))).claimed).toBe(true);
    expect((await leases.claim(GUILD_B, 'web', holder(1))).claimed).toBe(true);
    expect(await leases.holderOf(GUILD_B, 'web')).toMatchObject({ runId: 1 });
    if (first.claimed) await first.release();
    expect(await leases.holderOf(GUILD_A, 'web')).toBeUndefined();
    // Another guild's lease on a workspace of the same name is untouched by this one's release.
    expect(await leases.holderOf(GUILD_B, 'web')).toMatchObject({ runId: 1 });
    expect((await leases.claim(GUILD_A, 'web', holder(8))).claimed).toBe(true);
  });

  it('asks for the holder only when the workspace is free, and keeps no lease when that fails', async () => {
    const { leases, holder } = await setup();
    await leases.claim(GUILD_A, 'web', holder(5));
    let asked = false;
    await leases.claim(GUILD_A, 'web', async () => {
      asked = true;
      return holder(6)();
    });
    expect(asked).toBe(false);
    await expect(
      leases.claim(GUILD_A, 'api', async () => {
        throw new Error('the run could not be recorded');
      }),
    ).rejects.toThrow('the run could not be recorded');
    expect(await leases.holderOf(GUILD_A, 'api')).toBeUndefined();
    expect((await leases.claim(GUILD_A, 'api', holder(7))).claimed).toBe(true);
  });

  it('writes the run’s own row in the claim’s unit of work: kept with the lease, rolled back with a failed claim', async () => {
    const { d, clock, leases } = await setup();
    const projectId = await insertProject(d, GUILD_A, 'web');
    const runs = runStoreFor(d.data, clock);
    const newRun = async (): Promise<WorkspaceHolder> => {
      const row = await runs.create({ guildId: GUILD_A, projectId, resourceId: null, kind: 'apply', startedBy: ALICE });
      return { runId: row.guild_run_number, kind: 'apply', since: clock.now(), startedBy: ALICE };
    };
    await expect(
      leases.claim(GUILD_A, 'web', async () => {
        await newRun();
        throw new Error('the audit entry could not be written');
      }),
    ).rejects.toThrow('the audit entry could not be written');
    expect(await runs.recent(GUILD_A, 10)).toEqual([]);
    expect(await leases.holderOf(GUILD_A, 'web')).toBeUndefined();

    expect(await leases.claim(GUILD_A, 'web', newRun)).toMatchObject({ claimed: true });
    expect(await leases.holderOf(GUILD_A, 'web')).toMatchObject({ runId: 1, startedBy: ALICE });
    // A workspace found busy leaves no run behind.
    expect(await leases.claim(GUILD_A, 'web', newRun)).toMatchObject({ claimed: false, holder: { runId: 1 } });
    expect((await runs.recent(GUILD_A, 10)).map((run) => run.guild_run_number)).toEqual([1]);
  });

  it('the heartbeat keeps a live holder’s lease past LEASE_MS; without it another process takes the workspace over', async () => {
    const { clock, leases, leasesOf, holder } = await setup();
    const other = leasesOf('other-process');
    await leases.claim(GUILD_A, 'web', holder(5));
    await other.claim(GUILD_A, 'api', holder(6));
    const heartbeat = new LeaseHeartbeat([leases], clock, (error) => {
      throw error;
    });
    for (let beat = 0; beat < 8; beat++) {
      clock.advance(HEARTBEAT_EVERY_MS);
      await heartbeat.beat();
    }
    expect(clock.now()).toBeGreaterThan(LEASE_MS);
    expect((await other.claim(GUILD_A, 'web', holder(9, BOB))).claimed).toBe(false);
    // The other process never beat: its lease has expired, and this one takes it over.
    expect(await other.holderOf(GUILD_A, 'api')).toBeUndefined();
    expect((await leases.claim(GUILD_A, 'api', holder(10, BOB))).claimed).toBe(true);
    expect(await leases.holderOf(GUILD_A, 'api')).toMatchObject({ runId: 10, startedBy: BOB });
  });

  it('a holder whose lease was taken over cannot release the new holder’s', async () => {
    const { clock, leases, leasesOf, holder } = await setup();
    const slow = leasesOf('slow-process');
    const stale = await slow.claim(GUILD_A, 'web', holder(5));
    clock.advance(LEASE_MS);
    expect((await leases.claim(GUILD_A, 'web', holder(6, BOB))).claimed).toBe(true);
    if (stale.claimed) await stale.release();
    expect(await leases.holderOf(GUILD_A, 'web')).toMatchObject({ runId: 6, startedBy: BOB });
  });

  it('frees at once the workspaces of runs marked interrupted at start-up, and only those', async () => {
    const { leases, leasesOf, holder } = await setup();
    const crashed = leasesOf('crashed-process');
    await crashed.claim(GUILD_A, 'web', holder(5));
    await crashed.claim(GUILD_B, 'web', holder(5));
    await leases.releaseRuns([{ guildId: GUILD_A, runNumber: 5 }]);
    expect(await leases.holderOf(GUILD_A, 'web')).toBeUndefined();
    expect(await leases.holderOf(GUILD_B, 'web')).toMatchObject({ runId: 5 });
  });

  it('two processes claiming one workspace at once: exactly one wins, the other is told who holds it, also over an expired lease', async () => {
    const { d, clock, leasesOf, holder } = await setup();
    // Two SQLite connections in one process would block each other's BEGIN (see the file's comment for real processes).
    const second = d.dialect === 'postgres' ? await d.another() : d.data;
    const mine = leasesOf('shard-0');
    const theirs = leasesOf('shard-1', second);
    for (let round = 0; round < 10; round++) {
      const workspace = `web-${round}`;
      // Every other round the workspace is held by a crashed process whose lease has just expired.
      if (round % 2 === 1) {
        await leasesOf('crashed').claim(GUILD_A, workspace, holder(99));
        clock.advance(LEASE_MS);
      }
      const outcomes = await Promise.all([mine.claim(GUILD_A, workspace, holder(1, ALICE)), theirs.claim(GUILD_A, workspace, holder(2, BOB))]);
      expect(outcomes.filter((outcome) => outcome.claimed)).toHaveLength(1);
      const winner = outcomes.findIndex((outcome) => outcome.claimed);
      expect(outcomes[1 - winner]).toEqual({ claimed: false, holder: { runId: winner + 1, kind: 'apply', since: clock.now(), startedBy: [ALICE, BOB][winner] } });
      expect(await mine.holderOf(GUILD_A, workspace)).toMatchObject({ runId: winner + 1 });
    }
    expect(await d.rows(`SELECT CAST(count(*) AS INTEGER) AS n FROM workspace_leases WHERE guild_id = '${GUILD_A}'`)).toEqual([{ n: 10 }]);
  });
});
