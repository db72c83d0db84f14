/** The drift checks on SQLite (see drift-repository.ts for what each method does): drizzle run synchronously inside `async` methods. */
import { and, asc, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { driftChecks, type Db } from '../db/index.js';
import { shardPredicate } from '../sharding/shard-scope.js';
import type { CheckOutcome, DriftCheck, DriftCheckSchedule, DriftRepository, DriftRepositoryOptions } from './drift-repository.js';
import { outcomeColumns, reconcilePlanColumns, rescheduleColumns, scheduleRow, settledColumns, toCheck } from './drift-rows.js';

export class SqliteDriftRepository implements DriftRepository {
  /** Which guilds `due` may return (all when unsharded): a check runs in the process that serves its guild. */
  readonly #ownGuilds: SQL | undefined;

  constructor(
    private readonly db: Db,
    options: DriftRepositoryOptions = {},
  ) {
    const predicate = shardPredicate(options.shard, '"drift_checks"."guild_id"');
    this.#ownGuilds = predicate === undefined ? undefined : sql.raw(predicate);
  }

  async upsert(values: DriftCheckSchedule): Promise<DriftCheck> {
    const row = this.db
      .insert(driftChecks)
      .values(scheduleRow(values))
      .onConflictDoUpdate({ target: [driftChecks.guild_id, driftChecks.project_id, driftChecks.deployment_id], set: rescheduleColumns(values) })
      .returning()
      .get();
    return toCheck(row);
  }

  async find(guildId: string, projectId: number, deploymentId: number | null): Promise<DriftCheck | undefined> {
    const row = this.db
      .select()
      .from(driftChecks)
      .where(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.project_id, projectId), eq(driftChecks.deployment_id, deploymentId ?? 0)))
      .get();
    return row && toCheck(row);
  }

  async get(guildId: string, id: number): Promise<DriftCheck | undefined> {
    const row = this.db.select().from(driftChecks).where(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.id, id))).get();
    return row && toCheck(row);
  }

  async list(guildId: string): Promise<DriftCheck[]> {
    return this.db.select().from(driftChecks).where(eq(driftChecks.guild_id, guildId)).orderBy(asc(driftChecks.project_id), asc(driftChecks.deployment_id)).all().map(toCheck);
  }

  async remove(guildId: string, id: number): Promise<boolean> {
    return this.db.delete(driftChecks).where(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.id, id))).run().changes > 0;
  }

  async due(now: number, limit: number): Promise<DriftCheck[]> {
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

  async recordOutcome(guildId: string, id: number, outcome: CheckOutcome, at: number, nextCheckAt: number): Promise<void> {
    this.#set(guildId, id, outcomeColumns(outcome, at, nextCheckAt));
  }

  async markAccepted(guildId: string, id: number, at: number): Promise<void> {
    this.#set(guildId, id, settledColumns(at));
  }

  async setReconcilePlan(guildId: string, id: number, planRunId: number | null, at: number, plannedJson: string | null = null): Promise<void> {
    this.#set(guildId, id, reconcilePlanColumns(planRunId, at, plannedJson));
  }

  async takeReconcilePlan(guildId: string, id: number, planRunId: number, at: number): Promise<boolean> {
    const taken = this.db
      .update(driftChecks)
      .set(reconcilePlanColumns(null, at, null))
      .where(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.id, id), eq(driftChecks.reconcile_plan_run_id, planRunId)))
      .run();
    return taken.changes > 0;
  }

  async markReconciled(guildId: string, id: number, at: number): Promise<void> {
    this.#set(guildId, id, settledColumns(at));
  }

  #set(guildId: string, id: number, values: Partial<typeof driftChecks.$inferInsert>): void {
    this.db.update(driftChecks).set(values).where(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.id, id))).run();
  }
}
