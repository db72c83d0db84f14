/**
 * The `iac_runs` table: one row per plan, apply or destroy, from queued to its end. The summary column holds
 * JSON without secrets (counts, addresses, the plan file's name and digest).
 *
 * A run is addressed by (guild, run number): the number counts that guild's runs only, so it tells a guild nothing
 * about the others. The table's own id is global and never leaves this module.
 */
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { iacRuns, type EngineName, type RunKind, type RunStatus } from '../db/schema.js';
import type { Db } from '../db/index.js';
import { GuildCache } from '../db/guild-cache.js';
import type { Clock } from '../shared/clock.js';

export type IacRunRow = typeof iacRuns.$inferSelect;

const MAX_ERROR_CHARS = 2000;

/** What a successful plan run keeps, so exactly that plan can be applied later. */
export const planRunSummarySchema = z.object({
  planFile: z.string().regex(/^\.plans\/run-\d+\.tfplan$/),
  planSha256: z.string().regex(/^[0-9a-f]{64}$/),
  resourceAddresses: z.array(z.string().max(500)).max(1000),
  plan: z.object({
    create: z.array(z.string()),
    update: z.array(z.string()),
    replace: z.array(z.string()),
    delete: z.array(z.string()),
    read: z.array(z.string()),
    unchanged: z.number().int(),
    counts: z.object({ create: z.number().int(), update: z.number().int(), replace: z.number().int(), delete: z.number().int() }),
    hasChanges: z.boolean(),
    engineVersion: z.string().optional(),
  }),
});
export type PlanRunSummary = z.infer<typeof planRunSummarySchema>;

export class RunStore {
  // What /cloud-runs and the tier's run slots read on every call, prepared once.
  readonly #recent;
  readonly #activeCounts;
  /**
   * The counts per guild: asked by every /cloud-deploy, they were its dearest statement in the bot (a profile under
   * the load benchmark). Every write of iac_runs is in this class and forgets what it changed; another connection's
   * commit empties the cache (see GuildCache).
   */
  readonly #countsCache: GuildCache<{ running: number; queued: number }>;

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

  /** A new queued run, numbered after the guild's last one in the same statement (so two inserts cannot share it). */
  create(values: { guildId: string; projectId: number; resourceId: number | null; kind: RunKind; startedBy: string; channelId?: string }): IacRunRow {
    const row = this.db
      .insert(iacRuns)
      .values({
        guild_id: values.guildId,
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

  markRunning(guildId: string, runNumber: number, engine: EngineName, engineVersion: string): void {
    this.db
      .update(iacRuns)
      .set({ status: 'running', engine, engine_version: engineVersion, started_at: this.clock.now() })
      .where(this.#byNumber(guildId, runNumber))
      .run();
    this.#countsCache.forget(guildId);
  }

  /** The engine process now running this run's current command (see EngineProcessRecord). */
  recordEngineProcess(guildId: string, runNumber: number, engine: EngineProcessRecord): void {
    this.db
      .update(iacRuns)
      .set({ engine_pid: engine.pid, engine_start_ticks: engine.startTicks, engine_boot_id: engine.bootId, engine_stops_with_bot: engine.stopsWithBot })
      .where(this.#byNumber(guildId, runNumber))
      .run();
  }

  finish(guildId: string, runNumber: number, status: Exclude<RunStatus, 'queued' | 'running'>, values: { summary?: unknown; error?: string } = {}): void {
    this.db
      .update(iacRuns)
      .set({
        status,
        finished_at: this.clock.now(),
        ...(values.summary === undefined ? {} : { summary: JSON.stringify(values.summary) }),
        ...(values.error === undefined ? {} : { error: values.error.slice(0, MAX_ERROR_CHARS) }),
      })
      .where(this.#byNumber(guildId, runNumber))
      .run();
    this.#countsCache.forget(guildId);
  }

  /** A run of this guild by its number; undefined for a number this guild does not have. */
  get(guildId: string, runNumber: number): IacRunRow | undefined {
    if (!Number.isSafeInteger(runNumber)) return undefined;
    return this.db.select().from(iacRuns).where(this.#byNumber(guildId, runNumber)).get();
  }

  /** A guild's most recent runs, newest first. */
  recent(guildId: string, limit: number): IacRunRow[] {
    return this.#recent.all({ guildId, limit: Math.min(Math.max(Math.trunc(limit), 1), 50) });
  }

  /** Every run of every guild still queued or running, oldest first: the runs under way, or at start-up those a stopped bot left. */
  unfinished(): IacRunRow[] {
    return this.db.select().from(iacRuns).where(inArray(iacRuns.status, ['queued', 'running'])).orderBy(iacRuns.id).all();
  }

  /**
   * Marks these runs failed with `error`, unless they ended some other way on their own (succeeded, failed,
   * cancelled, timed out). A run the shutdown just marked interrupted is failed too. Returns the ids marked.
   */
  failUnlessEnded(ids: readonly number[], error: string): number[] {
    if (ids.length === 0) return [];
    const failed = this.db
      .update(iacRuns)
      .set({ status: 'failed', finished_at: this.clock.now(), error: error.slice(0, MAX_ERROR_CHARS) })
      .where(and(inArray(iacRuns.id, [...ids]), inArray(iacRuns.status, ['queued', 'running', 'interrupted'])))
      .returning({ id: iacRuns.id })
      .all()
      .map((row) => row.id);
    this.#countsCache.forgetAll();
    return failed;
  }

  /** How many of this guild's runs are running and waiting for an engine slot right now. */
  activeCounts(guildId: string): { running: number; queued: number } {
    return this.#countsCache.get(guildId, () => this.#readCounts(guildId));
  }

  #readCounts(guildId: string): { running: number; queued: number } {
    const rows = this.#activeCounts.all(guildId);
    // Frozen: the same object answers every caller until a write.
    return Object.freeze({ running: rows.find((r) => r.status === 'running')?.n ?? 0, queued: rows.find((r) => r.status === 'queued')?.n ?? 0 });
  }

  #byNumber(guildId: string, runNumber: number) {
    return and(eq(iacRuns.guild_id, guildId), eq(iacRuns.guild_run_number, runNumber));
  }
}

/**
 * Who the engine process of a run is: its pid, and its start time in clock ticks since boot (field 22 of
 * /proc/<pid>/stat) with the boot id, so a pid reused by another process later is not taken for it. Null start
 * time and boot id where /proc is not available.
 */
export interface EngineProcessRecord {
  pid: number;
  startTicks: number | null;
  bootId: string | null;
  /** Spawned with a parent-death signal: it got SIGINT by itself when the bot died. */
  stopsWithBot: boolean;
}

/** The stored summary of a plan run, validated; undefined when absent or not a plan summary. */
export function readPlanRunSummary(row: IacRunRow): PlanRunSummary | undefined {
  if (!row.summary) return undefined;
  try {
    const parsed = planRunSummarySchema.safeParse(JSON.parse(row.summary));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
