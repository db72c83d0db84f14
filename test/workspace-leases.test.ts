import { afterEach, describe, expect, it } from 'vitest';
import { WorkspaceLeases } from '../src/engine/workspace-leases.js';
import { HEARTBEAT_EVERY_MS, LEASE_MS, LeaseHeartbeat } from '../src/shared/leases.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ALICE = '333333333333333333';
const BOB = '444444444444444444';

describe('workspace leases', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function setup() {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const clock = new FakeClock();
    const leasesOf = (owner: string) => new WorkspaceLeases(database.db, clock, owner);
    const holder = (runId: number, startedBy = ALICE) => () => ({ runId, kind: 'apply' as const, since: clock.now(), startedBy });
    return { database, clock, leases: leasesOf('this-process'), leasesOf, holder };
  }

  it('refuses a second claim on a workspace and names the holder; other workspaces and guilds are free', () => {
    const { clock, leases, holder } = setup();
    const first = leases.claim(GUILD_A, 'web', holder(5));
    expect(first.claimed).toBe(true);
    expect(leases.claim(GUILD_A, 'web', holder(6, BOB))).toEqual({ claimed: false, holder: { runId: 5, kind: 'apply', since: clock.now(), startedBy: ALICE } });
    expect(leases.claim(GUILD_A, 'web/site', holder(7)).claimed).toBe(true);
    expect(leases.claim(GUILD_B, 'web', holder(1)).claimed).toBe(true);
    if (first.claimed) first.release();
    expect(leases.holderOf(GUILD_A, 'web')).toBeUndefined();
    expect(leases.claim(GUILD_A, 'web', holder(8)).claimed).toBe(true);
  });

  it('asks for the holder only when the workspace is free, and keeps no lease when that fails', () => {
    const { leases, holder } = setup();
    leases.claim(GUILD_A, 'web', holder(5));
    let asked = false;
    leases.claim(GUILD_A, 'web', () => {
      asked = true;
      return holder(6)();
    });
    expect(asked).toBe(false);
    expect(() =>
      leases.claim(GUILD_A, 'api', () => {
        throw new Error('the run could not be recorded');
      }),
    ).toThrow('the run could not be recorded');
    expect(leases.holderOf(GUILD_A, 'api')).toBeUndefined();
  });

  it('the heartbeat keeps a live holder’s lease past LEASE_MS; without it another process takes the workspace over', () => {
    const { clock, leases, leasesOf, holder } = setup();
    const other = leasesOf('other-process');
    leases.claim(GUILD_A, 'web', holder(5));
    other.claim(GUILD_A, 'api', holder(6));
    const heartbeat = new LeaseHeartbeat([leases], clock, (error) => {
      throw error;
    });
    for (let beat = 0; beat < 8; beat++) {
      clock.advance(HEARTBEAT_EVERY_MS);
      heartbeat.beat();
    }
    expect(clock.now()).toBeGreaterThan(LEASE_MS);
    expect(other.claim(GUILD_A, 'web', holder(9, BOB)).claimed).toBe(false);
    // The other process never beat: its lease has expired, and this one takes it over.
    expect(other.holderOf(GUILD_A, 'api')).toBeUndefined();
    expect(leases.claim(GUILD_A, 'api', holder(10, BOB)).claimed).toBe(true);
    expect(leases.holderOf(GUILD_A, 'api')).toMatchObject({ runId: 10, startedBy: BOB });
  });

  it('a holder whose lease was taken over cannot release the new holder’s', () => {
    const { clock, leases, leasesOf, holder } = setup();
    const slow = leasesOf('slow-process');
    const stale = slow.claim(GUILD_A, 'web', holder(5));
    clock.advance(LEASE_MS);
    expect(leases.claim(GUILD_A, 'web', holder(6, BOB)).claimed).toBe(true);
    if (stale.claimed) stale.release();
    expect(leases.holderOf(GUILD_A, 'web')).toMatchObject({ runId: 6, startedBy: BOB });
  });

  it('frees at once the workspaces of runs marked interrupted at start-up, and only those', () => {
    const { leases, leasesOf, holder } = setup();
    const crashed = leasesOf('crashed-process');
    crashed.claim(GUILD_A, 'web', holder(5));
    crashed.claim(GUILD_B, 'web', holder(5));
    leases.releaseRuns([{ guildId: GUILD_A, runNumber: 5 }]);
    expect(leases.holderOf(GUILD_A, 'web')).toBeUndefined();
    expect(leases.holderOf(GUILD_B, 'web')).toMatchObject({ runId: 5 });
  });
});
