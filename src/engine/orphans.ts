/**
 * Engines a dead bot left behind. While a run goes on, each engine process it starts is recorded with the run
 * (pid, start time, boot id: see process-identity.ts). At the next start-up, before any command is taken, every
 * run the last process left queued or running is settled here: an engine still running is stopped the graceful
 * way (SIGINT to its process group, so it saves its state), escalating to SIGTERM and SIGKILL after the grace
 * period; then the run and its resources are marked interrupted. The caller tells the members (crash-notices.ts).
 *
 * This must finish before the front end takes commands: the caller then frees the interrupted runs' workspace
 * leases at once (workspace-leases.ts), and a new run must not start in a folder where an old engine still writes.
 */
import { inArray } from 'drizzle-orm';
import type { DataAccess } from '../db/data-access.js';
import { cloudResources as pgCloudResources } from '../db/pg-schema.js';
import { cloudResources, type RunKind } from '../db/schema.js';
import type { Logger } from '../logging/logger.js';
import type { ResourceRepository } from '../projects/resource-repository.js';
import type { Clock } from '../shared/clock.js';
import { servesGuild, type ShardScope } from '../sharding/shard-scope.js';
import type { SpawnedEngine } from './process.js';
import { currentBootId, identify, isStillRunning, processGroupOf } from './process-identity.js';
import { runStoreFor, type IacRunRow, type RunStore } from './run-store.js';

/** What became of a crashed run's engine at start-up. */
export type EngineAftermath =
  | 'not_started' // the run was still queued, or no engine had been started yet
  | 'gone' // its engine had already ended
  | 'stopped' // it was still running and stopped cleanly (SIGINT), saving its state
  | 'forced' // it did not stop cleanly and was terminated (SIGTERM/SIGKILL): its state may be locked
  | 'unverifiable' // a process was recorded but this host cannot tell whether it is still the same one
  | 'unstoppable'; // it is still running and could not be stopped (e.g. it belongs to another user)

export interface InterruptedRun {
  guildId: string;
  runNumber: number;
  kind: RunKind;
  projectId: number;
  resourceId: number | null;
  startedBy: string;
  channelId: string | null;
  engine: EngineAftermath;
}

export interface RecoveryOptions {
  data: DataAccess;
  /** Marks a resource left applying or destroying interrupted (the repository's own transition rules apply). */
  resources: Pick<ResourceRepository, 'setStatus'>;
  clock: Clock;
  logger: Logger;
  /** Wait between SIGINT, SIGTERM and SIGKILL (the runner's kill grace). */
  graceMs: number;
  /**
   * A shard settles only its own guilds' runs and resources: the other shards' are theirs, still running or left
   * for them to settle when they start again.
   */
  shard?: ShardScope;
}

const POLL_MS = 100;
/** After SIGKILL the kernel ends a process at once; wait this long for its parent to reap it before giving up. */
const AFTER_KILL_MS = 5_000;

/**
 * The callback a run's RunStopper calls on each engine spawn: records the process with the run. Not awaited by the
 * spawn (on SQLite the row is written before the call returns; on PostgreSQL a round trip later).
 */
export function engineProcessRecorder(runs: RunStore, guildId: string, runNumber: number, logger: Logger): (engine: SpawnedEngine) => void {
  return (engine) => {
    const identity = identify(engine.pid);
    const record = {
      pid: engine.pid,
      startTicks: identity?.startTicks ?? null,
      bootId: identity?.bootId ?? currentBootId(),
      stopsWithBot: engine.stopsWithBot,
    };
    runs.recordEngineProcess(guildId, runNumber, record).catch((error: unknown) => {
      // The run goes on; only a crash during it would miss the record.
      logger.error({ err: error, guildId, runId: runNumber }, 'could not record the engine process of a run');
    });
  };
}

/**
 * Settles every run the previous process left unfinished, and every resource it left applying or destroying.
 * Returns the runs (for telling their members) and how many resources were marked interrupted.
 */
export async function recoverUnfinishedRuns(options: RecoveryOptions): Promise<{ runs: InterruptedRun[]; resources: number }> {
  const store = runStoreFor(options.data, options.clock);
  const unfinished = (await store.unfinished()).filter((row) => servesGuild(options.shard, row.guild_id));
  const runs = await Promise.all(
    unfinished.map(async (row): Promise<InterruptedRun> => {
      const engine = await settleEngine(row, options);
      await store.finish(row.guild_id, row.guild_run_number, 'interrupted', { error: RUN_ERRORS[engine] });
      if (engine !== 'not_started' && engine !== 'gone') {
        options.logger.warn({ guildId: row.guild_id, runId: row.guild_run_number, pid: row.engine_pid, engine }, 'engine left running by the last process');
      }
      return {
        guildId: row.guild_id,
        runNumber: row.guild_run_number,
        kind: row.kind,
        projectId: row.project_id,
        resourceId: row.resource_id,
        startedBy: row.started_by,
        channelId: row.channel_id,
        engine,
      };
    }),
  );
  const resources = await interruptStuckResources(options);
  if (runs.length + resources > 0) options.logger.warn({ runs: runs.length, resources }, 'marked runs and resources left by the last process as interrupted');
  return { runs, resources };
}

const RUN_ERRORS: Record<EngineAftermath, string> = {
  not_started: 'The bot stopped before this run started its engine.',
  gone: 'The bot stopped while this run was in progress; its engine had ended by the next start.',
  stopped: 'The bot stopped while this run was in progress; at the next start its engine was stopped cleanly and saved its state.',
  forced: 'The bot stopped while this run was in progress; at the next start its engine did not stop cleanly and was terminated, so its state may be locked.',
  unverifiable: 'The bot stopped while this run was in progress; whether its engine still runs could not be checked on this host.',
  unstoppable: 'The bot stopped while this run was in progress; its engine is still running and could not be stopped.',
};

async function settleEngine(row: IacRunRow, options: RecoveryOptions): Promise<EngineAftermath> {
  if (row.status !== 'running' || row.engine_pid === null) return 'not_started';
  if (row.engine_start_ticks === null || row.engine_boot_id === null) return 'unverifiable';
  const pid = row.engine_pid;
  const identity = { startTicks: row.engine_start_ticks, bootId: row.engine_boot_id };
  const alive = (): boolean => isStillRunning(pid, identity);
  const exitedWithin = async (ms: number): Promise<boolean> => {
    // Real time, not the injected clock: this waits for a real process to end.
    for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
      if (!alive()) return true;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return !alive();
  };
  if (!alive()) return 'gone';
  // An engine started with a parent-death signal already got its SIGINT when the bot died; a second SIGINT would
  // make it abort at once ("two interrupts received"), so give it the grace period to finish stopping first.
  if (row.engine_stops_with_bot) {
    if (await exitedWithin(options.graceMs)) return 'stopped';
  } else {
    if (!signalGroup(pid, 'SIGINT')) return alive() ? 'unstoppable' : 'gone';
    if (await exitedWithin(options.graceMs)) return 'stopped';
  }
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    if (!alive()) return 'forced';
    options.logger.warn({ pid, signal, runId: row.guild_run_number }, 'engine left by the last process did not stop in time; escalating');
    if (!signalGroup(pid, signal)) return alive() ? 'unstoppable' : 'forced';
    if (await exitedWithin(signal === 'SIGKILL' ? AFTER_KILL_MS : options.graceMs)) return 'forced';
  }
  return 'unstoppable';
}

/**
 * Signals the engine's process group (the group its guardian led, with the provider plugins in it), or the engine
 * alone. Only called for an engine whose identity was just checked. False if nothing could be signalled.
 */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  const group = processGroupOf(pid);
  if (group !== undefined && group > 1) {
    try {
      process.kill(-group, signal);
      return true;
    } catch {
      // Fall back to the engine alone.
    }
  }
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

async function interruptStuckResources(options: RecoveryOptions): Promise<number> {
  const stuck = await resourcesBeingChanged(options.data);
  let count = 0;
  for (const row of stuck) {
    if (!servesGuild(options.shard, row.guild_id)) continue;
    try {
      await options.resources.setStatus(row.guild_id, row.id, 'interrupted', { lastError: 'The bot stopped while this resource was being changed.' });
      count++;
    } catch (error) {
      options.logger.error({ err: error, resourceId: row.id }, 'could not mark resource interrupted');
    }
  }
  return count;
}

/** Every guild's resources left applying or destroying. */
async function resourcesBeingChanged(data: DataAccess): Promise<Array<{ id: number; guild_id: string }>> {
  const session = data.session;
  if (session.dialect === 'sqlite') {
    return session.db.select({ id: cloudResources.id, guild_id: cloudResources.guild_id }).from(cloudResources).where(inArray(cloudResources.status, ['applying', 'destroying'])).all();
  }
  const t = pgCloudResources;
  return session.db.select({ id: t.id, guild_id: t.guild_id }).from(t).where(inArray(t.status, ['applying', 'destroying'])).orderBy(t.id);
}
