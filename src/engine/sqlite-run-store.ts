/**
 * The runs on SQLite (see run-store.ts for what each method does): drizzle and raw statements on the one connection,
 * run synchronously inside `async` methods, so a method called inside a unit of work is part of it and a write
 * lands before the method's promise is even looked at. SQLite's write lock makes the numbering of `create` safe.
 */
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { GuildCache } from '../db/guild-cache.js';
import type { Db } from '../db/index.js';
import { iacRuns, type EngineName, type RunStatus } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { boundedRunError, recentRunsLimit, type ActiveRunCounts, type EngineProcessRecord, type IacRunRow, type NewRun, type RunStore } from './run-store.js';

export class SqliteRunStore implements RunStore {
  // What /cloud-runs and the tier's run slots read on every call, prepared once.
  readonly #recent;
  readonly #activeCounts;
  /**
   * The counts per guild: asked by every /cloud-deploy, they were its dearest statement in the bot (a profile under
   * the load benchmark). Every write of iac_runs is in this class and forgets what it changed; another connection's
   * commit empties the cache (see GuildCache).
   */
  readonly #countsCache: GuildCache<ActiveRunCounts>;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    const guildId = sql.placeholder('guildId');
    this.#recent = db.select().from(iacRuns).where(eq(iacRuns.guild_id, guildId)).orderBy(desc(iacRuns.guild_run_number)).limit(sql.placeholder('limit')).prepare();
    // Asked before every run and every refused /cloud-deploy: the raw statement costs half of drizzle's (no
    // placeholder filling and row mapping), and the statuses are written in rather than bound.
    this.#activeCounts = db.$client.prepare<[string], { status: 'queued' | 'running'; n: number }>(
      "SELECT status, count(*) AS n FROM iac_runs WHERE guild_id = ? AND status IN ('queued', 'running') GROUP BY status",
    );
    this.#countsCache = new GuildCache(db.$client, 'iac_runs.active');
  }

  async create(values: NewRun): Promise<IacRunRow> {
    const row = this.db
      .insert(iacRuns)
      .values({
        guild_id: values.guildId,
        // In the same statement, so two inserts cannot share it.
        guild_run_number: sql`(SELECT COALESCE(MAX(${iacRuns.guild_run_number}), 0) + 1 FROM ${iacRuns} WHERE ${iacRuns.guild_id} = ${values.guildId})`,
        project_id: values.projectId,
        resource_id: values.resourceId,
        kind: values.kind,
        status: 'queued',
        started_by: values.startedBy,
        channel_id: values.channelId ?? null,
        created_at: this.clock.now(),
      })
      .returning()
      .get();
    this.#countsCache.forget(values.guildId);
    return row;
  }

  async markRunning(guildId: string, runNumber: number, engine: EngineName, engineVersion: string): Promise<void> {
    this.db
      .update(iacRuns)
      .set({ status: 'running', engine, engine_version: engineVersion, started_at: this.clock.now() })
      .where(this.#byNumber(guildId, runNumber))
      .run();
    this.#countsCache.forget(guildId);
  }

  async recordEngineProcess(guildId: string, runNumber: number, engine: EngineProcessRecord): Promise<void> {
    this.db
      .update(iacRuns)
      .set({ engine_pid: engine.pid, engine_start_ticks: engine.startTicks, engine_boot_id: engine.bootId, engine_stops_with_bot: engine.stopsWithBot })
      .where(this.#byNumber(guildId, runNumber))
      .run();
  }

  async finish(guildId: string, runNumber: number, status: Exclude<RunStatus, 'queued' | 'running'>, values: { summary?: unknown; error?: string } = {}): Promise<void> {
    this.db
      .update(iacRuns)
      .set({
        status,
        finished_at: this.clock.now(),
        ...(values.summary === undefined ? {} : { summary: JSON.stringify(values.summary) }),
        ...(values.error === undefined ? {} : { error: boundedRunError(values.error) }),
      })
      .where(this.#byNumber(guildId, runNumber))
      .run();
    this.#countsCache.forget(guildId);
  }

  async get(guildId: string, runNumber: number): Promise<IacRunRow | undefined> {
    if (!Number.isSafeInteger(runNumber)) return undefined;
    return this.db.select().from(iacRuns).where(this.#byNumber(guildId, runNumber)).get();
  }

  async recent(guildId: string, limit: number): Promise<IacRunRow[]> {
    return this.#recent.all({ guildId, limit: recentRunsLimit(limit) });
  }

  async unfinished(): Promise<IacRunRow[]> {
    return this.db.select().from(iacRuns).where(inArray(iacRuns.status, ['queued', 'running'])).orderBy(iacRuns.id).all();
  }

  async failUnlessEnded(ids: readonly number[], error: string): Promise<number[]> {
    if (ids.length === 0) return [];
    const failed = this.db
      .update(iacRuns)
      .set({ status: 'failed', finished_at: this.clock.now(), error: boundedRunError(error) })
      .where(and(inArray(iacRuns.id, [...ids]), inArray(iacRuns.status, ['queued', 'running', 'interrupted'])))
      .returning({ id: iacRuns.id })
      .all()
      .map((row) => row.id);
    this.#countsCache.forgetAll();
    return failed;
  }

  async activeCounts(guildId: string): Promise<ActiveRunCounts> {
    return this.#countsCache.get(guildId, () => this.#readCounts(guildId));
  }

  #readCounts(guildId: string): ActiveRunCounts {
    const rows = this.#activeCounts.all(guildId);
    // Frozen: the same object answers every caller until a write.
    return Object.freeze({ running: rows.find((r) => r.status === 'running')?.n ?? 0, queued: rows.find((r) => r.status === 'queued')?.n ?? 0 });
  }

  #byNumber(guildId: string, runNumber: number) {
    return and(eq(iacRuns.guild_id, guildId), eq(iacRuns.guild_run_number, runNumber));
  }
}
