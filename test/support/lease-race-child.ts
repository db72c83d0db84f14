/**
 * One of several bot processes on one database, each making one claim the others may want:
 * `node --import tsx lease-race-child.ts <SQLite file or postgres:// URL> budget|workspace <owner>`, with NOW (epoch ms), GUILD, MEMBER, RUN_ID and for a
 * budget RESOURCE_ID and MONTHLY_USD in the environment. It opens the database (already migrated), prints `ready`, waits
 * for `go` on stdin so that the racers start together, makes its claim as the bot does, prints the outcome as one
 * JSON line, and keeps what it took until its stdin closes or it is killed (then nothing is released: a crash).
 */
import { createInterface } from 'node:readline';
import { postgresDataAccess, sqliteDataAccess, type DataAccess } from '../../src/db/data-access.js';
import { openDatabase } from '../../src/db/index.js';
import { openPostgres } from '../../src/db/postgres.js';
import { BudgetReservations } from '../../src/deploy/budget-reservations.js';
import { WorkspaceLeases } from '../../src/engine/workspace-leases.js';
import { PolicyService } from '../../src/policy/policy-service.js';
import type { PlannedResource } from '../../src/policy/planned-resources.js';
import { PriceCatalogue } from '../../src/pricing/catalogue.js';

export const RACED_WORKSPACE = 'web';

/** The VM the budget racers both plan (priced by the catalogue like a real plan's). */
export const PLANNED_VM: PlannedResource = {
  address: 'google_compute_instance.web',
  terraformType: 'google_compute_instance',
  action: 'create',
  category: 'vm',
  supporting: false,
  provider: 'gcp',
  instanceType: { state: 'known', value: 'e2-standard-2', sensitive: false },
  disks: [{ role: 'boot', sizeGb: 10, source: 'plan' }],
};

const [where, mode, owner] = process.argv.slice(2) as [string, 'budget' | 'workspace', string];
if (process.argv[1]?.endsWith('lease-race-child.ts')) await main();

/** The bot's own way onto either dialect: a SQLite file, or a PostgreSQL server at a postgres:// URL. */
async function open(database: string): Promise<{ data: DataAccess; close(): Promise<void> }> {
  if (database.startsWith('postgres://')) {
    const handle = await openPostgres(database);
    return { data: postgresDataAccess(handle), close: () => handle.close() };
  }
  const handle = openDatabase(database);
  return { data: sqliteDataAccess(handle), close: async () => handle.close() };
}

async function main(): Promise<void> {
  const env = process.env;
  const clock = { now: () => Number(env.NOW) };
  const guildId = env.GUILD!;
  const { data, close } = await open(where);
  const lines = createInterface({ input: process.stdin });
  const next = (): Promise<string | undefined> => new Promise((resolve) => {
    lines.once('line', resolve);
    lines.once('close', () => resolve(undefined));
  });
  process.stdout.write('ready\n');
  if ((await next()) !== 'go') return;
  let outcome: unknown;
  if (mode === 'budget') {
    const policies = new PolicyService(data, PriceCatalogue.load(), clock);
    const reservations = new BudgetReservations(data, clock, owner);
    const { decision, release } = await reservations.reserveIfAllowed(guildId, Number(env.RESOURCE_ID), (reserved) =>
      policies.checkPlan({ guildId, provider: 'gcp', planned: [PLANNED_VM], reserved }),
    );
    outcome = { held: release !== undefined, violations: decision.violations };
  } else {
    const leases = new WorkspaceLeases(data, clock, owner);
    const claim = await leases.claim(guildId, RACED_WORKSPACE, async () => ({ runId: Number(env.RUN_ID), kind: 'apply', since: clock.now(), startedBy: env.MEMBER! }));
    outcome = claim.claimed ? { claimed: true } : { claimed: false, holder: claim.holder };
  }
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  await next();
  await close();
}
