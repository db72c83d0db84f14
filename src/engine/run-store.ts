/**
 * The `iac_runs` table: one row per plan, apply or destroy, from queued to its end. The summary column holds
 * JSON without secrets (counts, addresses, the plan file's name and digest).
 */
import { and, desc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { iacRuns, type EngineName, type RunKind, type RunStatus } from '../db/schema.js';
import type { Db } from '../db/index.js';
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
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  create(values: { guildId: string; projectId: number; resourceId: number | null; kind: RunKind; startedBy: string }): IacRunRow {
    return this.db
      .insert(iacRuns)
      .values({
        guild_id: values.guildId,
        project_id: values.projectId,
        resource_id: values.resourceId,
        kind: values.kind,
        status: 'queued',
        started_by: values.startedBy,
        created_at: this.clock.now(),
      })
      .returning()
      .get();
  }

  markRunning(id: number, engine: EngineName, engineVersion: string): void {
    this.db
      .update(iacRuns)
      .set({ status: 'running', engine, engine_version: engineVersion, started_at: this.clock.now() })
      .where(eq(iacRuns.id, id))
      .run();
  }

  finish(id: number, status: Exclude<RunStatus, 'queued' | 'running'>, values: { summary?: unknown; error?: string } = {}): void {
    this.db
      .update(iacRuns)
      .set({
        status,
        finished_at: this.clock.now(),
        ...(values.summary === undefined ? {} : { summary: JSON.stringify(values.summary) }),
        ...(values.error === undefined ? {} : { error: values.error.slice(0, MAX_ERROR_CHARS) }),
      })
      .where(eq(iacRuns.id, id))
      .run();
  }

  /** A run of this guild; undefined for another guild's run, exactly as for a missing one. */
  get(guildId: string, id: number): IacRunRow | undefined {
    if (!Number.isSafeInteger(id)) return undefined;
    return this.db
      .select()
      .from(iacRuns)
      .where(and(eq(iacRuns.id, id), eq(iacRuns.guild_id, guildId)))
      .get();
  }

  /** A guild's most recent runs, newest first. */
  recent(guildId: string, limit: number): IacRunRow[] {
    return this.db
      .select()
      .from(iacRuns)
      .where(eq(iacRuns.guild_id, guildId))
      .orderBy(desc(iacRuns.id))
      .limit(Math.min(Math.max(Math.trunc(limit), 1), 50))
      .all();
  }

  /** Every run still queued or running, oldest first (in this process: the runs under way). */
  unfinished(): IacRunRow[] {
    return this.db.select().from(iacRuns).where(inArray(iacRuns.status, ['queued', 'running'])).orderBy(iacRuns.id).all();
  }

  /**
   * Marks these runs failed with `error`, unless they ended some other way on their own (succeeded, failed,
   * cancelled, timed out). A run the shutdown just marked interrupted is failed too. Returns the ids marked.
   */
  failUnlessEnded(ids: readonly number[], error: string): number[] {
    if (ids.length === 0) return [];
    return this.db
      .update(iacRuns)
      .set({ status: 'failed', finished_at: this.clock.now(), error: error.slice(0, MAX_ERROR_CHARS) })
      .where(and(inArray(iacRuns.id, [...ids]), inArray(iacRuns.status, ['queued', 'running', 'interrupted'])))
      .returning({ id: iacRuns.id })
      .all()
      .map((row) => row.id);
  }

  /** Marks every run left queued or running (by a crash) as interrupted; returns how many. */
  interruptUnfinished(): number {
    return this.db
      .update(iacRuns)
      .set({ status: 'interrupted', finished_at: this.clock.now(), error: 'The bot stopped while this run was in progress.' })
      .where(inArray(iacRuns.status, ['queued', 'running']))
      .returning({ id: iacRuns.id })
      .all().length;
  }
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
