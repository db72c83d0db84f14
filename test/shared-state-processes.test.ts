/**
 * What several bot processes on one database share through it (issue 16), on a SQLite file and on a PostgreSQL server: a budget only one deployment fits, a
 * workspace only one run may hold, and what a process killed with SIGKILL leaves behind. Each racer is a real OS
 * process (test/support/lease-race-child.ts); they start together on a `go` sent to all of them at once.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresDataAccess, sqliteDataAccess, type DataAccess } from '../src/db/data-access.js';
import { openPostgres } from '../src/db/postgres.js';
import { BudgetReservations } from '../src/deploy/budget-reservations.js';
import { WorkspaceBusy } from '../src/engine/errors.js';
import { WorkspaceLeases } from '../src/engine/workspace-leases.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { LEASE_MS } from '../src/shared/leases.js';
import { FakeClock } from './support/clock.js';
import { PLANNED_VM, RACED_WORKSPACE } from './support/lease-race-child.js';
import { describeWithPostgres, type TestPostgresServer } from './support/postgres-server.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD = '111111111111111111';
const ADMIN = '333333333333333333';
const MEMBERS = ['444444444444444444', '555555555555555555', '666666666666666666'];

interface Racer {
  child: ChildProcessWithoutNullStreams;
  lines: Interface;
  nextLine(): Promise<string>;
}

function startRacer(path: string, mode: 'budget' | 'workspace', owner: string, env: Record<string, string>): Racer {
  const child = spawn('node', ['--import', 'tsx', 'test/support/lease-race-child.ts', path, mode, owner], { env: { ...process.env, ...env } });
  const lines = createInterface({ input: child.stdout });
  const queued: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => (waiting.shift() ?? ((l: string) => queued.push(l)))(line));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const nextLine = (): Promise<string> =>
    queued.length > 0
      ? Promise.resolve(queued.shift()!)
      : new Promise((resolve, reject) => {
          waiting.push(resolve);
          child.once('exit', (code) => reject(new Error(`racer ${owner} exited (${code}): ${stderr}`)));
        });
  return { child, lines, nextLine };
}

/** Starts the racers, lets them all go at once, and returns each one's outcome (in the order they were started). */
async function race<T>(racers: Racer[]): Promise<T[]> {
  await Promise.all(racers.map(async (racer) => expect(await racer.nextLine()).toBe('ready')));
  for (const racer of racers) racer.child.stdin.write('go\n');
  return Promise.all(racers.map(async (racer) => JSON.parse(await racer.nextLine()) as T));
}

function exited(racer: Racer): Promise<NodeJS.Signals | null> {
  if (racer.child.exitCode !== null || racer.child.signalCode !== null) return Promise.resolve(racer.child.signalCode);
  return new Promise((resolve) => racer.child.once('exit', (_code, signal) => resolve(signal)));
}

/** A fresh, migrated database the racers reach at `where` (a file or a URL), and this process's way onto it. */
interface SharedDatabase {
  where: string;
  /** Another process's view of it, as far as the database can tell. */
  open(): Promise<DataAccess>;
}
type Databases = (cleanups: Array<() => void | Promise<unknown>>) => Promise<SharedDatabase>;

const onSqlite: Databases = async (cleanups) => {
  const database = makeTestDatabase();
  cleanups.push(database.cleanup);
  return { where: database.path, open: async () => sqliteDataAccess(database) };
};

const onPostgres =
  (server: () => TestPostgresServer): Databases =>
  async (cleanups) => {
    const url = await server().createDatabase();
    return {
      where: url,
      open: async () => {
        const handle = await openPostgres(url);
        cleanups.push(() => handle.close());
        return postgresDataAccess(handle);
      },
    };
  };

describe('state shared by processes on one SQLite file', () => sharedStateSuite(onSqlite));
describeWithPostgres('state shared by processes on one PostgreSQL database', (server) => sharedStateSuite(onPostgres(server)));

function sharedStateSuite(databases: Databases): void {
  const cleanups: Array<() => void | Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup() {
    const database = await databases(cleanups);
    const clock = new FakeClock(Date.UTC(2026, 11, 2, 12));
    const data = await database.open();
    const policies = new PolicyService(data, PriceCatalogue.load(), clock);
    const racers: Racer[] = [];
    const start = (mode: 'budget' | 'workspace', owner: string, env: Record<string, string>): Racer => {
      const racer = startRacer(database.where, mode, owner, { NOW: String(clock.now()), GUILD, ...env });
      racers.push(racer);
      return racer;
    };
    cleanups.push(async () => {
      for (const racer of racers) racer.child.kill('SIGKILL');
      await Promise.all(racers.map(exited));
    });
    return { database, data, clock, policies, start };
  }

  it('two processes racing for a budget that fits one deployment: one holds it, the other gets the budget refusal', async () => {
    const { database, clock, policies, start } = await setup();
    const cost = (await policies.checkPlan({ guildId: GUILD, provider: 'gcp', planned: [PLANNED_VM] })).estimate.monthlyUsd;
    await policies.update(GUILD, { maxBudgetMonthly: Math.ceil(cost * 1.5) }, ADMIN);

    const outcomes = await race<{ held: boolean; violations: Array<{ rule: string; projectedUsd?: number; maxUsd?: number }> }>([
      start('budget', 'shard-0', { RESOURCE_ID: '1', MEMBER: MEMBERS[0]! }),
      start('budget', 'shard-1', { RESOURCE_ID: '2', MEMBER: MEMBERS[1]! }),
    ]);
    expect(outcomes.filter((o) => o.held)).toHaveLength(1);
    const refused = outcomes.find((o) => !o.held)!;
    expect(refused.violations).toEqual([expect.objectContaining({ rule: 'budget', projectedUsd: Math.round(cost * 2 * 100) / 100, maxUsd: Math.ceil(cost * 1.5) })]);
    // The winner's hold is in the database for every process, this one included.
    expect(await new BudgetReservations(await database.open(), clock, 'observer').reservedFor(GUILD)).toEqual({ monthlyUsd: cost, vms: 1 });
  });

  it('two processes racing for one workspace: one takes it, the other is told who holds it', async () => {
    const { start } = await setup();
    const outcomes = await race<{ claimed: boolean; holder?: { runId: number; kind: string; startedBy: string } }>([
      start('workspace', 'shard-0', { RUN_ID: '11', MEMBER: MEMBERS[0]! }),
      start('workspace', 'shard-1', { RUN_ID: '12', MEMBER: MEMBERS[1]! }),
    ]);
    expect(outcomes.filter((o) => o.claimed)).toHaveLength(1);
    const winner = outcomes.findIndex((o) => o.claimed);
    const loser = outcomes[1 - winner]!;
    expect(loser.holder).toMatchObject({ runId: 11 + winner, kind: 'apply', startedBy: MEMBERS[winner] });
  });

  it('a holder killed with SIGKILL keeps its workspace and its budget until the lease expires, then another process takes them over', async () => {
    const { database, data, clock, policies, start } = await setup();
    const cost = (await policies.checkPlan({ guildId: GUILD, provider: 'gcp', planned: [PLANNED_VM] })).estimate.monthlyUsd;
    await policies.update(GUILD, { maxBudgetMonthly: Math.ceil(cost * 1.5) }, ADMIN);
    const [workspaceHolder, budgetHolder] = [start('workspace', 'crashed-a', { RUN_ID: '7', MEMBER: MEMBERS[0]! }), start('budget', 'crashed-b', { RESOURCE_ID: '1', MEMBER: MEMBERS[0]! })];
    expect(await race([workspaceHolder, budgetHolder])).toEqual([{ claimed: true }, { held: true, violations: [] }]);
    workspaceHolder.child.kill('SIGKILL');
    budgetHolder.child.kill('SIGKILL');
    expect(await exited(workspaceHolder)).toBe('SIGKILL');
    expect(await exited(budgetHolder)).toBe('SIGKILL');

    const leases = new WorkspaceLeases(await database.open(), clock, 'survivor');
    const reservations = new BudgetReservations(data, clock, 'survivor');
    const claimNow = () => leases.claim(GUILD, RACED_WORKSPACE, async () => ({ runId: 8, kind: 'plan', since: clock.now(), startedBy: MEMBERS[2]! }));
    const check = () => reservations.reserveIfAllowed(GUILD, 2, (reserved) => policies.checkPlan({ guildId: GUILD, provider: 'gcp', planned: [PLANNED_VM], reserved }));

    clock.advance(LEASE_MS - 1);
    const busy = await claimNow();
    expect(busy).toEqual({ claimed: false, holder: { runId: 7, kind: 'apply', since: clock.now() - (LEASE_MS - 1), startedBy: MEMBERS[0] } });
    if (!busy.claimed) expect(new WorkspaceBusy(RACED_WORKSPACE, busy.holder).message).toContain('run #7 (apply)');
    expect((await check()).release).toBeUndefined();

    clock.advance(1);
    expect((await claimNow()).claimed).toBe(true);
    expect(await leases.holderOf(GUILD, RACED_WORKSPACE)).toMatchObject({ runId: 8, startedBy: MEMBERS[2] });
    expect((await check()).release).toBeDefined();
    expect(await reservations.reservedFor(GUILD)).toEqual({ monthlyUsd: cost, vms: 1 });
  });
}
