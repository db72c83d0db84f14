/**
 * The runs on PostgreSQL (see run-store.ts for what each method does), over pg-schema.ts.
 *
 * A run's number is the guild's last plus one. Under READ COMMITTED two processes creating a run of one guild at once
 * would both read the same last number (and the second insert would break the unique index), so `create` takes a
 * transaction-scoped advisory lock on the guild first: creations of one guild's runs take turns, other guilds' do
 * not wait. The lock ends with the transaction, which is the workspace claim's when a run starts (it joins it).
 *
 * No per-guild cache of the active counts here: PostgreSQL has no data_version to tell another process's commit
 * (see data-access.ts), so every lookup reads.
 */
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { DataAccess, PgQueries, Session } from '../db/data-access.js';
import { iacRuns } from '../db/pg-schema.js';
import type { EngineName, RunStatus } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { boundedRunError, recentRunsLimit, type ActiveRunCounts, type EngineProcessRecord, type IacRunRow, type NewRun, type RunStore } from './run-store.js';

/** The advisory lock of run numbering ("runs"), with a hash of the guild's id as its second half. */
const RUN_NUMBER_LOCK = 0x72_75_6e_73;

export class PgRunStore implements RunStore {
  readonly #data: DataAccess;
  readonly #clock: Clock;

  constructor(data: DataAccess, clock: Clock) {
    this.#data = data;
    this.#clock = clock;
  }

  get #db(): PgQueries {
    return queriesOf(this.#data.session);
  }

  async create(values: NewRun): Promise<IacRunRow> {
    return this.#data.transaction(async (session) => {
      const db = queriesOf(session);
      await db.execute(sql`SELECT pg_advisory_xact_lock(${sql.raw(String(RUN_NUMBER_LOCK))}, hashtext(${values.guildId}::text))`);
      const [row] = await db
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
          created_at: this.#clock.now(),
        })
        .returning();
      if (!row) throw new Error('the run insert returned no row');
      return row;
    });
  }

  async markRunning(guildId: string, runNumber: number, engine: EngineName, engineVersion: string): Promise<void> {
    await this.#db
      .update(iacRuns)
      .set({ status: 'running', engine, engine_version: engineVersion, started_at: this.#clock.now() })
      .where(byNumber(guildId, runNumber));
  }

  async recordEngineProcess(guildId: string, runNumber: number, engine: EngineProcessRecord): Promise<void> {
    await this.#db
      .update(iacRuns)
      .set({ engine_pid: engine.pid, engine_start_ticks: engine.startTicks, engine_boot_id: engine.bootId, engine_stops_with_bot: engine.stopsWithBot })
      .where(byNumber(guildId, runNumber));
  }

  async finish(guildId: string, runNumber: number, status: Exclude<RunStatus, 'queued' | 'running'>, values: { summary?: unknown; error?: string } = {}): Promise<void> {
    await this.#db
      .update(iacRuns)
      .set({
        status,
        finished_at: this.#clock.now(),
        ...(values.summary === undefined ? {} : { summary: JSON.stringify(values.summary) }),
        ...(values.error === undefined ? {} : { error: boundedRunError(values.error) }),
      })
      .where(byNumber(guildId, runNumber));
  }

  async get(guildId: string, runNumber: number): Promise<IacRunRow | undefined> {
    // Also keeps a number past 32 bits from reaching the integer column (PostgreSQL would refuse it).
    if (!Number.isSafeInteger(runNumber) || Math.abs(runNumber) > 2_147_483_647) return undefined;
    const [row] = await this.#db.select().from(iacRuns).where(byNumber(guildId, runNumber)).limit(1);
    return row;
  }

  async recent(guildId: string, limit: number): Promise<IacRunRow[]> {
    return this.#db.select().from(iacRuns).where(eq(iacRuns.guild_id, guildId)).orderBy(desc(iacRuns.guild_run_number)).limit(recentRunsLimit(limit));
  }

  async unfinished(): Promise<IacRunRow[]> {
    return this.#db.select().from(iacRuns).where(inArray(iacRuns.status, ['queued', 'running'])).orderBy(iacRuns.id);
  }

  async failUnlessEnded(ids: readonly number[], error: string): Promise<number[]> {
    if (ids.length === 0) return [];
    const failed = await this.#db
      .update(iacRuns)
      .set({ status: 'failed', finished_at: this.#clock.now(), error: boundedRunError(error) })
      .where(and(inArray(iacRuns.id, [...ids]), inArray(iacRuns.status, ['queued', 'running', 'interrupted'])))
      .returning({ id: iacRuns.id });
    // RETURNING comes in no promised order; SQLite's comes in id order, and so does this.
    return failed.map((row) => row.id).sort((a, b) => a - b);
  }

  async activeCounts(guildId: string): Promise<ActiveRunCounts> {
    const rows = await this.#db
      .select({ status: iacRuns.status, n: sql<number>`count(*)::int` })
      .from(iacRuns)
      .where(and(eq(iacRuns.guild_id, guildId), inArray(iacRuns.status, ['queued', 'running'])))
      .groupBy(iacRuns.status);
    return Object.freeze({ running: rows.find((r) => r.status === 'running')?.n ?? 0, queued: rows.find((r) => r.status === 'queued')?.n ?? 0 });
  }
}

function byNumber(guildId: string, runNumber: number) {
  return and(eq(iacRuns.guild_id, guildId), eq(iacRuns.guild_run_number, runNumber));
}

function queriesOf(session: Session): PgQueries {
  if (session.dialect !== 'postgres') throw new Error('the PostgreSQL run store was handed a SQLite session');
  return session.db;
}
