/**
 * The drift checks on PostgreSQL (see drift-repository.ts for what each method does), over pg-schema.ts. Several
 * shards may share the database: `due` offers each one only its own guilds' checks (pgShardCondition, the same
 * division as Discord's), so a guild's check is started by the one process that serves the guild, as on SQLite.
 */
import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { PostgresSession } from '../db/data-access.js';
import { driftChecks } from '../db/pg-schema.js';
import { pgShardCondition } from '../sharding/shard-scope.js';
import type { CheckOutcome, DriftCheck, DriftCheckSchedule, DriftRepository, DriftRepositoryOptions } from './drift-repository.js';
import { outcomeColumns, reconcilePlanColumns, rescheduleColumns, scheduleRow, settledColumns, toCheck } from './drift-rows.js';

export class PgDriftRepository implements DriftRepository {
  readonly #ownGuilds: SQL;

  constructor(
    private readonly session: PostgresSession,
    options: DriftRepositoryOptions = {},
  ) {
    this.#ownGuilds = sql.raw(pgShardCondition(options.shard, 'c.guild_id'));
  }

  get #db() {
    return this.session.db;
  }

  async upsert(values: DriftCheckSchedule): Promise<DriftCheck> {
    const [row] = await this.#db
      .insert(driftChecks)
      .values(scheduleRow(values))
      .onConflictDoUpdate({ target: [driftChecks.guild_id, driftChecks.project_id, driftChecks.deployment_id], set: rescheduleColumns(values) })
      .returning();
    if (!row) throw new Error('the drift check upsert returned no row');
    return toCheck(row);
  }

  async find(guildId: string, projectId: number, deploymentId: number | null): Promise<DriftCheck | undefined> {
    return this.#one(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.project_id, projectId), eq(driftChecks.deployment_id, deploymentId ?? 0)));
  }

  async get(guildId: string, id: number): Promise<DriftCheck | undefined> {
    return this.#one(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.id, id)));
  }

  async list(guildId: string): Promise<DriftCheck[]> {
    const rows = await this.#db.select().from(driftChecks).where(eq(driftChecks.guild_id, guildId)).orderBy(asc(driftChecks.project_id), asc(driftChecks.deployment_id));
    return rows.map(toCheck);
  }

  async remove(guildId: string, id: number): Promise<boolean> {
    const deleted = await this.#db.delete(driftChecks).where(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.id, id))).returning({ id: driftChecks.id });
    return deleted.length > 0;
  }

  async due(now: number, limit: number): Promise<DriftCheck[]> {
    const first = await this.#db.execute<{ id: string | number }>(sql`
      SELECT min(c.id) AS id FROM drift_checks c
       WHERE c.next_check_at <= ${now}
         AND c.next_check_at = (SELECT min(d.next_check_at) FROM drift_checks d WHERE d.guild_id = c.guild_id AND d.next_check_at <= ${now})${this.#ownGuilds}
       GROUP BY c.guild_id
       ORDER BY min(c.next_check_at)
       LIMIT ${limit}`);
    const ids = first.rows.map((row) => Number(row.id));
    if (ids.length === 0) return [];
    const rows = await this.#db.select().from(driftChecks).where(inArray(driftChecks.id, ids));
    return rows.map(toCheck).sort((a, b) => a.nextCheckAt - b.nextCheckAt || a.id - b.id);
  }

  async recordOutcome(guildId: string, id: number, outcome: CheckOutcome, at: number, nextCheckAt: number): Promise<void> {
    await this.#set(guildId, id, outcomeColumns(outcome, at, nextCheckAt));
  }

  async markAccepted(guildId: string, id: number, at: number): Promise<void> {
    await this.#set(guildId, id, settledColumns(at));
  }

  async setReconcilePlan(guildId: string, id: number, planRunId: number | null, at: number, plannedJson: string | null = null): Promise<void> {
    await this.#set(guildId, id, reconcilePlanColumns(planRunId, at, plannedJson));
  }

  async takeReconcilePlan(guildId: string, id: number, planRunId: number, at: number): Promise<boolean> {
    const taken = await this.#db
      .update(driftChecks)
      .set(reconcilePlanColumns(null, at, null))
      .where(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.id, id), eq(driftChecks.reconcile_plan_run_id, planRunId)))
      .returning({ id: driftChecks.id });
    return taken.length > 0;
  }

  async markReconciled(guildId: string, id: number, at: number): Promise<void> {
    await this.#set(guildId, id, settledColumns(at));
  }

  async #one(where: SQL | undefined): Promise<DriftCheck | undefined> {
    const [row] = await this.#db.select().from(driftChecks).where(where).limit(1);
    return row && toCheck(row);
  }

  async #set(guildId: string, id: number, values: Partial<typeof driftChecks.$inferInsert>): Promise<void> {
    await this.#db.update(driftChecks).set(values).where(and(eq(driftChecks.guild_id, guildId), eq(driftChecks.id, id)));
  }
}
