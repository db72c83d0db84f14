/**
 * What a run leaves behind: its `iac_runs` row (queued → running → its end) and its `iac.<kind>` audit entry.
 * Reading outputs is not a run and leaves nothing (`unrecorded`), so the lifecycle needs no special case for it.
 */
import type { AuditLog } from '../audit/index.js';
import type { RunKind } from '../db/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Project } from '../projects/index.js';
import type { DiscoveredEngine } from './discovery.js';
import { engineProcessRecorder } from './orphans.js';
import type { SpawnedEngine } from './process.js';
import type { RunStore } from './run-store.js';
import type { RunRequest } from './run-types.js';
import type { EndedRunStatus } from './stop-reasons.js';

export interface RunRecorder {
  /** The run's number in its guild; 0 for what is not a run. */
  readonly runId: number;
  /** Records each engine process the run starts, for recovery after a crash (see orphans.ts). */
  readonly onSpawn: ((engine: SpawnedEngine) => void) | undefined;
  started(engine: DiscoveredEngine): Promise<void>;
  /** `summary` is already redacted. */
  succeeded(engine: DiscoveredEngine, summary: unknown): Promise<void>;
  ended(status: EndedRunStatus, error: Error): Promise<void>;
}

export const unrecorded: RunRecorder = {
  runId: 0,
  onSpawn: undefined,
  started: async () => undefined,
  succeeded: async () => undefined,
  ended: async () => undefined,
};

interface RecordedRunOptions {
  runs: RunStore;
  audit: AuditLog;
  logger: Logger;
  kind: RunKind;
  project: Project;
  request: RunRequest;
  resourceId: number | null;
}

/** Creates the run's row (queued) now, so its number is known while it waits. */
export async function recordRun({ runs, audit, logger, kind, project, request, resourceId }: RecordedRunOptions): Promise<RunRecorder> {
  const { guildId } = project;
  const row = await runs.create({ guildId, projectId: project.id, resourceId, kind, startedBy: request.userId, ...(request.channelId ? { channelId: request.channelId } : {}) });
  const runId = row.guild_run_number;
  const record = (outcome: 'success' | 'failed', details: Record<string, unknown>): void => {
    try {
      audit.record({ guildId, userId: request.userId, action: `iac.${kind}`, target: `${project.slug}#${runId}`, outcome, details: { runId, ...details } });
    } catch (error) {
      logger.error({ err: error, runId }, 'could not write the audit entry for a run');
    }
  };
  return {
    runId,
    onSpawn: engineProcessRecorder(runs, guildId, runId, logger),
    started: (engine) => runs.markRunning(guildId, runId, engine.name, engine.version),
    succeeded: async (engine, summary) => {
      await runs.finish(guildId, runId, 'succeeded', { summary });
      record('success', { engine: engine.name });
    },
    ended: async (status, error) => {
      await runs.finish(guildId, runId, status, { error: error.message });
      record('failed', { status });
    },
  };
}
