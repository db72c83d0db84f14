/**
 * The `iac_runs` table: one row per plan, apply or destroy, from queued to its end. The summary column holds
 * JSON without secrets (counts, addresses, the plan file's name and digest).
 *
 * A run is addressed by (guild, run number): the number counts that guild's runs only, so it tells a guild nothing
 * about the others. The table's own id is global and never leaves this module.
 */
import { z } from 'zod';
import type { DataAccess } from '../db/data-access.js';
import type { iacRuns, EngineName, RunKind, RunStatus } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { PgRunStore } from './pg-run-store.js';
import { SqliteRunStore } from './sqlite-run-store.js';

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

export type ActiveRunCounts = { running: number; queued: number };

/** A new run, queued. */
export interface NewRun {
  guildId: string;
  projectId: number;
  resourceId: number | null;
  kind: RunKind;
  startedBy: string;
  channelId?: string;
}

/**
 * The only writer of iac_runs, on either dialect (sqlite-run-store.ts, pg-run-store.ts). A write made inside a unit
 * of work (DataAccess.transaction: the workspace claim creates the run's row in the lease's transaction) joins it.
 */
export interface RunStore {
  /** A new queued run, numbered after the guild's last one (two inserts, in any processes, never share a number). */
  create(values: NewRun): Promise<IacRunRow>;
  markRunning(guildId: string, runNumber: number, engine: EngineName, engineVersion: string): Promise<void>;
  /** The engine process now running this run's current command (see EngineProcessRecord). */
  recordEngineProcess(guildId: string, runNumber: number, engine: EngineProcessRecord): Promise<void>;
  finish(guildId: string, runNumber: number, status: Exclude<RunStatus, 'queued' | 'running'>, values?: { summary?: unknown; error?: string }): Promise<void>;
  /** A run of this guild by its number; undefined for a number this guild does not have. */
  get(guildId: string, runNumber: number): Promise<IacRunRow | undefined>;
  /** A guild's most recent runs, newest first (1 to 50 of them). */
  recent(guildId: string, limit: number): Promise<IacRunRow[]>;
  /** Every run of every guild still queued or running, oldest first: the runs under way, or at start-up those a stopped bot left. */
  unfinished(): Promise<IacRunRow[]>;
  /**
   * Marks these runs failed with `error`, unless they ended some other way on their own (succeeded, failed,
   * cancelled, timed out). A run the shutdown just marked interrupted is failed too. Returns the ids marked.
   */
  failUnlessEnded(ids: readonly number[], error: string): Promise<number[]>;
  /** How many of this guild's runs are running and waiting for an engine slot right now. */
  activeCounts(guildId: string): Promise<ActiveRunCounts>;
}

/** The run store of the data's dialect. */
export function runStoreFor(data: DataAccess, clock: Clock): RunStore {
  return data.session.dialect === 'sqlite' ? new SqliteRunStore(data.session.db, clock) : new PgRunStore(data, clock);
}

/** What the error column keeps of a run's error. */
export function boundedRunError(error: string): string {
  return error.slice(0, MAX_ERROR_CHARS);
}

/** The guild's recent-runs limit, within 1 to 50. */
export function recentRunsLimit(limit: number): number {
  return Math.min(Math.max(Math.trunc(limit), 1), 50);
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
