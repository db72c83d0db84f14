/**
 * What a guild has in the cloud, from `guild_resource_totals` (a row per status and resource type, kept by triggers
 * on cloud_resources): a handful of rows however many resources the guild has, read by a statement prepared once.
 * The budget check and /cloud-projects both read it, so the estimate a member sees is the one the policy checks.
 * Compute instances are summed from every kind of row: a built-in VM is one, a template deployment as many as its
 * plan made (cloud_resources.compute_instances).
 * On PostgreSQL (the same table, kept by PL/pgSQL triggers: drizzle/pg) they are read every time, as no data_version
 * tells of other processes' writes there.
 */
import type Database from 'better-sqlite3';
import { eq, sql } from 'drizzle-orm';
import type { PostgresSession, Session, SqliteSession } from '../db/data-access.js';
import { GuildCache } from '../db/guild-cache.js';
import { guildResourceTotals } from '../db/pg-schema.js';
import type { ResourceStatus } from '../db/schema.js';
import { LEFT_BY_STOPPED_RUNS, MAY_EXIST_IN_CLOUD } from './resource-statuses.js';

/**
 * The name of the per-guild cache of these totals: ResourceRepository, the only writer of cloud_resources (whose
 * triggers keep the totals), forgets a guild's on each write; another connection's commit empties it (GuildCache).
 */
export const RESOURCE_TOTALS_CACHE = 'guild_resource_totals';

export interface InCloudTotals {
  /** US dollars per month, of every resource that may exist in the cloud (MAY_EXIST_IN_CLOUD). */
  monthlyUsd: number;
  /** Compute instances (VMs) that may exist in the cloud: built-in VMs and those of template deployments. */
  vms: number;
  /** Of those, the ones runs that stopped part-way left (LEFT_BY_STOPPED_RUNS). */
  vmsLeftByStoppedRuns: number;
}

interface TotalsRow {
  status: ResourceStatus;
  resources: number;
  monthlyUsd: number;
  computeInstances: number;
}

export interface ResourceTotals {
  /** Frozen: on SQLite the same object answers every caller until the guild's resources change. */
  inCloud(guildId: string): Promise<InCloudTotals>;
}

/** The totals reader of the session's dialect. */
export function resourceTotalsFor(session: Session): ResourceTotals {
  return session.dialect === 'sqlite' ? new SqliteResourceTotals(session) : new PgResourceTotals(session);
}

export class SqliteResourceTotals implements ResourceTotals {
  readonly #ofGuild: Database.Statement<[string], TotalsRow>;
  /** Every /cloud-deploy and /cloud-projects reads them: in the bot, the statement was a fifth of our SQLite time. */
  readonly #cache: GuildCache<InCloudTotals>;

  constructor(session: Pick<SqliteSession, 'sqlite'>) {
    // Plain SQL on better-sqlite3: the budget check and /cloud-projects read it on every call, and drizzle's mapping
    // of each row cost as much as the read.
    this.#ofGuild = session.sqlite.prepare<[string], TotalsRow>(
      'SELECT status, resources, monthly_usd AS monthlyUsd, compute_instances AS computeInstances FROM guild_resource_totals WHERE guild_id = ?',
    );
    this.#cache = new GuildCache(session.sqlite, RESOURCE_TOTALS_CACHE);
  }

  async inCloud(guildId: string): Promise<InCloudTotals> {
    return this.#cache.get(guildId, () => summed(this.#ofGuild.all(guildId)));
  }
}

export class PgResourceTotals implements ResourceTotals {
  readonly #session: PostgresSession;

  constructor(session: PostgresSession) {
    this.#session = session;
  }

  async inCloud(guildId: string): Promise<InCloudTotals> {
    const totals = guildResourceTotals;
    const rows = await this.#session.db
      .select({ status: totals.status, resources: totals.resources, monthlyUsd: totals.monthly_usd, computeInstances: totals.compute_instances })
      .from(totals)
      .where(eq(totals.guild_id, guildId))
      // SQLite reads them in its primary key's (bytewise) order: summed in the same order, the floats come out equal.
      .orderBy(sql`${totals.status} COLLATE "C"`, sql`${totals.resource_type} COLLATE "C"`);
    return summed(rows);
  }
}

function summed(rows: readonly TotalsRow[]): InCloudTotals {
  const totals: InCloudTotals = { monthlyUsd: 0, vms: 0, vmsLeftByStoppedRuns: 0 };
  for (const row of rows) {
    if (!MAY_EXIST_IN_CLOUD.includes(row.status)) continue;
    totals.monthlyUsd += row.monthlyUsd;
    totals.vms += row.computeInstances;
    if (LEFT_BY_STOPPED_RUNS.includes(row.status)) totals.vmsLeftByStoppedRuns += row.computeInstances;
  }
  return Object.freeze(totals);
}
