/**
 * The one owner of the `drift_checks` table: the schedules admins enabled, when each is due, and what its last check
 * found. Every read a member's action leads to is scoped to a guild: another guild's check is not found, exactly
 * like a missing id. The janitor alone reads across guilds (what is due), and with shards only across the guilds its
 * shard serves.
 */
import { and, asc, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { driftChecks, type Db, type DriftStatus } from '../db/index.js';
import { shardPredicate, type ShardScope } from '../sharding/shard-scope.js';
import { driftReportSchema, type DriftReport } from './drift-report.js';

export interface DriftCheck {
  id: number;
  guildId: string;
  projectId: number;
  /** The template deployment checked; null for the project's own workspace. */
  deploymentId: number | null;
  schedule: string;
  enabledBy: string;
  /** Where it was enabled, for reports when the guild has no notification channel. */
  channelId: string | null;
  nextCheckAt: number;
  lastCheckedAt: number | null;
  lastStatus: DriftStatus;
  lastFailure: string | null;
  /** The check run whose drift was reported, while it stands. */
  driftRunId: number | null;
  report: DriftReport | null;
  reconcilePlanRunId: number | null;
  /** The reconcile plan's resources as the policy reads them (JSON), checked again at its Apply. */
  reconcilePlanned: string | null;
}

type Row = typeof driftChecks.$inferSelect;

function toCheck(row: Row): DriftCheck {
  let report: DriftReport | null = null;
  if (row.drift_summary) {
    try {
      const parsed = driftReportSchema.safeParse(JSON.parse(row.drift_summary));
      report = parsed.success ? parsed.data : null;
    } catch {
      report = null;
    }
  }
  return {
    id: row.id,
    guildId: row.guild_id,
    projectId: row.project_id,
    deploymentId: row.deployment_id === 0 ? null : row.deployment_id,
    schedule: row.schedule,
    enabledBy: row.enabled_by,
    channelId: row.channel_id,
    nextCheckAt: row.next_check_at,
    lastCheckedAt: row.last_checked_at,
    lastStatus: row.last_status,
    lastFailure: row.last_failure,
    driftRunId: row.drift_run_id,
    report,
    reconcilePlanRunId: row.reconcile_plan_run_id,
    reconcilePlanned: row.reconcile_planned,
  };
}

/** What a finished check leaves on its row. */
export type CheckOutcome =
  | { status: 'clean' }
  | { status: 'drifted'; runId: number; report: DriftReport }
  | { status: 'failed'; failure: string };

export class DriftRepository {
  /** Which guilds `due` may return (all when unsharded): a check runs in the process that serves its guild. */
  readonly #ownGuilds: SQL | undefined;

  /**
   * `shard`: the janitor's `due` sees only the guilds this shard serves, so that with several shards on one database
   * each check runs once, in the process that holds its guild's runs.
   */
  constructor(
    private readonly db: Db,
    options: { shard?: ShardScope } = {},
  ) {
    const predicate = shardPredicate(options.shard, '"drift_checks"."guild_id"');
    this.#ownGuilds = predicate === undefined ? undefined : sql.raw(predicate);
  }

  /** Enables (or reschedules) the check of one workspace; what it last found is kept. */
  upsert(values: { guildId: string; projectId: number; deploymentId: number | null; schedule: string; enabledBy: string; channelId: string | null; nextCheckAt: number; now: number }): DriftCheck {
    const row = this.db
      .insert(driftChecks)
      .values({
        guild_id: values.guildId,
        project_id: values.projectId,
        deployment_id: values.deploymentId ?? 0,
        schedule: values.schedule,
        enabled_by: values.enabledBy,
        channel_id: values.channelId,
        next_check_at: values.nextCheckAt,
        created_at: values.now,
        updated_at: values.now,
      })
      .onConflictDoUpdate({
        target: [driftChecks.guild_id, driftChecks.project_id, driftChecks.deployment_id],
        set: { schedule: values.schedule, enabled_by: values.enabledBy, channel_id: values.channelId, next_check_at: values.nextCheckAt, updated_at: values.now },
      })
      .returning()
      .get();
    return toCheck(row);
  }

  find(guildId: string, projectId: number, deploymentId: number | null): DriftCheck | undefined {
    const row = this.db
      .select()
      .from(driftChecks)
      .where(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.project_id, projectId), eq(driftChecks.deployment_id, deploymentId ?? 0)))
      .get();
    return row && toCheck(row);
  }

  /** A check of this guild by id; undefined for a missing id and for another guild's. */
  get(guildId: string, id: number): DriftCheck | undefined {
    const row = this.db.select().from(driftChecks).where(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.id, id))).get();
    return row && toCheck(row);
  }

  list(guildId: string): DriftCheck[] {
    return this.db.select().from(driftChecks).where(eq(driftChecks.guild_id, guildId)).orderBy(asc(driftChecks.project_id), asc(driftChecks.deployment_id)).all().map(toCheck);
  }

  remove(guildId: string, id: number): boolean {
    return this.db.delete(driftChecks).where(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.id, id))).run().changes > 0;
  }

  /**
   * The check due first in each guild at `now`, earliest first, at most `limit` guilds (the janitor's: it runs one
   * check per guild at a time, so a guild with many due checks does not crowd the others out of a tick).
   */
  due(now: number, limit: number): DriftCheck[] {
    const first = this.db
      .select({ id: sql<number>`min(${driftChecks.id})` })
      .from(driftChecks)
      .where(
        and(
          lte(driftChecks.next_check_at, now),
          eq(driftChecks.next_check_at, sql`(SELECT min(d.next_check_at) FROM drift_checks d WHERE d.guild_id = ${driftChecks.guild_id} AND d.next_check_at <= ${now})`),
          this.#ownGuilds,
        ),
      )
      .groupBy(driftChecks.guild_id)
      .orderBy(sql`min(${driftChecks.next_check_at})`)
      .limit(limit)
      .all()
      .map((row) => row.id);
    if (first.length === 0) return [];
    const rows = this.db.select().from(driftChecks).where(inArray(driftChecks.id, first)).all().map(toCheck);
    return rows.sort((a, b) => a.nextCheckAt - b.nextCheckAt || a.id - b.id);
  }

  /** Records a finished check and when the next is due. */
  recordOutcome(guildId: string, id: number, outcome: CheckOutcome, at: number, nextCheckAt: number): void {
    const base = { last_checked_at: at, next_check_at: nextCheckAt, last_status: outcome.status, updated_at: at };
    if (outcome.status === 'drifted') {
      this.#set(guildId, id, { ...base, last_failure: null, drift_run_id: outcome.runId, drift_summary: JSON.stringify(outcome.report), reconcile_plan_run_id: null });
    } else if (outcome.status === 'clean') {
      this.#set(guildId, id, { ...base, last_failure: null, drift_run_id: null, drift_summary: null, reconcile_plan_run_id: null });
    } else {
      // A failed check says nothing about drift: a report that stands keeps its buttons working.
      this.#set(guildId, id, { ...base, last_failure: outcome.failure });
    }
  }

  /** Accept succeeded: the state now matches the cloud, so the report and its buttons are done with. */
  markAccepted(guildId: string, id: number, at: number): void {
    this.#set(guildId, id, { last_status: 'clean', drift_run_id: null, drift_summary: null, reconcile_plan_run_id: null, updated_at: at });
  }

  setReconcilePlan(guildId: string, id: number, planRunId: number | null, at: number, plannedJson: string | null = null): void {
    this.#set(guildId, id, { reconcile_plan_run_id: planRunId, reconcile_planned: plannedJson, updated_at: at });
  }

  /** A reconcile was applied: the cloud is as configured again, the report is done with. */
  markReconciled(guildId: string, id: number, at: number): void {
    this.#set(guildId, id, { last_status: 'clean', drift_run_id: null, drift_summary: null, reconcile_plan_run_id: null, updated_at: at });
  }

  #set(guildId: string, id: number, values: Partial<typeof driftChecks.$inferInsert>): void {
    this.db.update(driftChecks).set(values).where(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.id, id))).run();
  }
}
