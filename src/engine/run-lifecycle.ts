/**
 * The life of a run, whatever its steps (Atlantis' project command runner, in shape): it holds its workspace
 * alone, waits its turn for an engine slot, runs under a timeout and can be cancelled (SIGINT → SIGTERM → SIGKILL),
 * sees only redacted output, and leaves its record (see run-recorder.ts). Stores, locks and the executor are
 * given, never built here.
 */
import { join } from 'node:path';
import type { AuditLog } from '../audit/index.js';
import type { MasterKey } from '../credentials/master-keys.js';
import type { EngineName, RunKind } from '../db/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Project } from '../projects/index.js';
import type { Clock } from '../shared/clock.js';
import { isUserError } from '../shared/errors.js';
import { Redactor } from '../shared/redaction.js';
import { assertWorkspaceSafe, type StateLayout } from '../state/index.js';
import { isDeploymentFolderName, openWorkspace, workspaceLabel, type RunWorkspace } from './run-workspace.js';
import { buildChildEnv } from './child-env.js';
import type { EngineSelection } from './discovery.js';
import { RunFailed, RunnerShuttingDown, WorkspaceBusy } from './errors.js';
import type { EngineExecutor } from './executor.js';
import type { StepContext } from './engine-steps.js';
import { RunStopper } from './process.js';
import { redactEvent } from './run-events.js';
import { recordRun, unrecorded, type RunRecorder } from './run-recorder.js';
import type { RunStore } from './run-store.js';
import type { RunEvent, RunRequest } from './run-types.js';
import { QueueWaitAborted, type RunScheduler, SchedulerClosed } from './scheduler.js';
import { stateEncryptionFor } from './state-encryption.js';
import type { WorkspaceLeases } from './workspace-leases.js';
import { meaningOf, RunStopped, StoppedBeforeStart, stopError, type RunEnd } from './stop-reasons.js';

export interface RunLifecycleOptions {
  scheduler: RunScheduler;
  /** One run per workspace, held in the database so that it holds across processes. */
  leases: WorkspaceLeases;
  runs: RunStore;
  audit: AuditLog;
  executor: EngineExecutor;
  layout: StateLayout;
  clock: Clock;
  logger: Logger;
  runTimeoutMs: number;
  killGraceMs: number;
  pathEnv: string;
  pluginCacheDir: string;
  stateEncryptionKeys: readonly MasterKey[];
  /** The engine for a run, chosen at the moment it starts. */
  selectEngine: (preference: EngineName) => Promise<EngineSelection>;
}

/** What a run does once started; `summary` goes (redacted) into its record. */
export type RunBody<T> = (ctx: StepContext) => Promise<{ result: T; summary?: unknown }>;

interface ActiveRun {
  runId: number;
  guildId: string;
  stopper: RunStopper;
  done: Promise<unknown>;
}

export class RunLifecycle {
  readonly #o: RunLifecycleOptions;
  readonly #active = new Set<ActiveRun>();
  /** Claims of a workspace under way: the shutdown waits for them, so that a run it claims is among those stopped. */
  readonly #claims = new Set<Promise<unknown>>();
  #shuttingDown = false;

  constructor(options: RunLifecycleOptions) {
    this.#o = options;
  }

  /**
   * A recorded run (plan, apply, destroy). `onEnd` hears how a run that started and did not succeed ended.
   * The take of the workspace is one unit of work, atomic across processes (workspace-leases.ts), so two requests
   * for one workspace, in this process or another, cannot both get it.
   */
  async run<T>(kind: RunKind, request: RunRequest, workspace: RunWorkspace, resourceId: number | null, body: RunBody<T>, onEnd?: (end: RunEnd) => void | Promise<void>): Promise<T> {
    if (this.#shuttingDown) throw new RunnerShuttingDown();
    let recorder: RunRecorder = unrecorded;
    // The run's row is written in the lease's transaction: a workspace found busy leaves no run behind.
    const release = await this.#claim(kind, request, workspace, async () => {
      recorder = await recordRun({ runs: this.#o.runs, audit: this.#o.audit, logger: this.#o.logger, kind, project: workspace.project, request, resourceId });
      return recorder.runId;
    });
    // Before the run waits in the queue, so the caller knows the id (for a Cancel button) meanwhile.
    this.#emitTo(request, { type: 'run_created', runId: recorder.runId, kind });
    return this.#hold(kind, request, workspace, recorder, release, body, onEnd);
  }

  /** Engine work that is not a run (reading outputs): the same workspace lock, slot, timeout and stop; no record. */
  async unrecorded<T>(label: 'outputs', request: RunRequest, workspace: RunWorkspace, body: RunBody<T>): Promise<T> {
    if (this.#shuttingDown) throw new RunnerShuttingDown();
    const release = await this.#claim(label, request, workspace, async () => unrecorded.runId);
    return this.#hold(label, request, workspace, unrecorded, release, body);
  }

  /** Cancels a queued or running run of this guild (SIGINT first). Returns false when it is not running. */
  cancel(guildId: string, runId: number): boolean {
    if (runId <= 0) return false;
    const active = [...this.#active].find((run) => run.runId === runId && run.guildId === guildId);
    if (!active) return false;
    void active.stopper.stop('cancelled');
    return true;
  }

  /** Refuses new runs, cancels queued ones and stops every running engine (SIGINT → SIGTERM → SIGKILL). */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    this.#o.scheduler.close();
    await Promise.allSettled([...this.#claims]);
    // A run whose claim just settled joins #active a few microtasks later, with no I/O between: one turn of the loop.
    await new Promise((resolve) => setImmediate(resolve));
    const active = [...this.#active.values()];
    await Promise.allSettled(active.map((run) => run.stopper.stop('shutdown')));
    await Promise.allSettled(active.map((run) => run.done));
  }

  /**
   * Takes the workspace's lease (workspace-leases.ts) for this run, or throws WorkspaceBusy naming who holds it.
   * `runIdOf` runs only once the workspace is known to be free, inside the lease's transaction.
   */
  async #claim(kind: RunKind | 'outputs', request: RunRequest, workspace: RunWorkspace, runIdOf: () => Promise<number>): Promise<() => Promise<void>> {
    const label = workspaceLabel(workspace);
    const since = this.#o.clock.now();
    const claiming = this.#o.leases.claim(workspace.project.guildId, label, async () => ({ runId: await runIdOf(), kind, since, startedBy: request.userId }));
    this.#claims.add(claiming);
    const claim = await claiming.finally(() => this.#claims.delete(claiming));
    if (!claim.claimed) throw new WorkspaceBusy(label, claim.holder);
    return claim.release;
  }

  /** Runs `body` in the workspace it holds; the workspace and the run's stop are let go at its end. */
  #hold<T>(
    kind: RunKind | 'outputs',
    request: RunRequest,
    workspace: RunWorkspace,
    recorder: RunRecorder,
    releaseWorkspace: () => Promise<void>,
    body: RunBody<T>,
    onEnd?: (end: RunEnd) => void | Promise<void>,
  ): Promise<T> {
    const { runId } = recorder;
    const { project } = workspace;
    // A stop while queued takes the run out of the queue; a stop while running stops the engine.
    const slotAbort = new AbortController();
    const stopper = new RunStopper(this.#o.killGraceMs, () => slotAbort.abort(), recorder.onSpawn);
    const onAbort = (): void => void stopper.stop('cancelled');
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.signal?.aborted) void stopper.stop('cancelled');
    const active: ActiveRun = { runId, guildId: project.guildId, stopper, done: Promise.resolve() };
    this.#active.add(active);
    const done = this.#live(kind, request, workspace, recorder, stopper, slotAbort.signal, body, onEnd).finally(async () => {
      request.signal?.removeEventListener('abort', onAbort);
      this.#active.delete(active);
      // Never throws (a failed release is retried by the heartbeat): the run's own outcome stands.
      await releaseWorkspace();
    });
    active.done = done;
    return done;
  }

  async #live<T>(
    kind: RunKind | 'outputs',
    request: RunRequest,
    runWorkspace: RunWorkspace,
    recorder: RunRecorder,
    stopper: RunStopper,
    slotSignal: AbortSignal,
    body: RunBody<T>,
    onEnd?: (end: RunEnd) => void | Promise<void>,
  ): Promise<T> {
    const { runId } = recorder;
    const { project } = runWorkspace;
    let redactor = new Redactor(Object.values(request.credentialEnv));
    const emit = (event: RunEvent): void => this.#emitTo(request, event, redactor);
    let releaseSlot: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let started = false;
    try {
      releaseSlot = await this.#slot(project, request, stopper, slotSignal);
      const selection = await this.#o.selectEngine(request.enginePreference);
      const engine = selection.engine;
      // At the moment of running, before anything in the folder is touched: no link is followed, no state lost.
      const workspace = openWorkspace(this.#o.layout, runWorkspace);
      assertWorkspaceSafe({
        workspace,
        pluginCacheDir: this.#o.pluginCacheDir,
        logger: this.#o.logger,
        ...(runWorkspace.deployment ? {} : { skipFolder: isDeploymentFolderName }),
      });
      const encryption = stateEncryptionFor({
        engine,
        keys: this.#o.stateEncryptionKeys,
        guildId: project.guildId,
        projectId: project.id,
        stateBackend: project.stateBackend,
        workspace,
      });
      redactor = new Redactor([...Object.values(request.credentialEnv), ...encryption.secrets]);
      await recorder.started(engine);
      started = true;
      timer = setTimeout(() => void stopper.stop('timed_out'), this.#o.runTimeoutMs);
      const env = {
        ...buildChildEnv({ pathEnv: this.#o.pathEnv, home: join(workspace, '.home'), pluginCacheDir: this.#o.pluginCacheDir, credentialEnv: request.credentialEnv }),
        // Only ever here, in the child's environment: never argv, never a file.
        ...encryption.env,
      };
      const ctx: StepContext = {
        runId,
        kind,
        project,
        workspace,
        deployment: runWorkspace.deployment,
        env,
        engine,
        selection,
        stopper,
        executor: this.#o.executor,
        logger: this.#o.logger,
        emit,
        redactor,
        warnings: [...encryption.warnings],
      };
      emit({ type: 'run_started', runId, kind, engine: engine.name, engineVersion: engine.version, ...(selection.notice ? { fallbackNotice: selection.notice } : {}) });
      const { result, summary } = await body(ctx);
      await recorder.succeeded(engine, redactor.deep(summary));
      return redactor.deep(result);
    } catch (caught) {
      // Only a stop that cut an engine command short, or kept one from starting, counts (see run-outcome.ts).
      const stop = caught instanceof RunStopped ? caught.reason : undefined;
      const end: RunEnd = stop ?? 'failed';
      const error = stop ? stopError(stop, runId, kind, this.#o.runTimeoutMs, stopper.reason === 'shutdown') : this.#unstopped(caught, kind, runId, redactor);
      await recorder.ended(meaningOf(end).status, error);
      if (started) await onEnd?.(end);
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
      releaseSlot?.();
    }
  }

  /** Waits for an engine slot; a stop while waiting (or the queue closing) ends the run before it starts. */
  async #slot(project: Project, request: RunRequest, stopper: RunStopper, signal: AbortSignal): Promise<() => void> {
    let release: () => void;
    try {
      release = await this.#o.scheduler.acquireSlot(project.guildId, { signal, ...(request.onQueued ? { onPosition: request.onQueued } : {}) });
    } catch (error) {
      if (error instanceof QueueWaitAborted || error instanceof SchedulerClosed) throw new StoppedBeforeStart(stopper.reason ?? 'shutdown');
      throw error;
    }
    if (stopper.reason) {
      release();
      throw new StoppedBeforeStart(stopper.reason);
    }
    return release;
  }

  /** A run that ended without a stop: the member's own error, or a generic one (details only in the log). */
  #unstopped(caught: unknown, kind: RunKind | 'outputs', runId: number, redactor: Redactor): Error {
    if (isUserError(caught)) return redactor.scrub(caught);
    this.#o.logger.error({ err: redactor.error(caught), runId, kind }, 'IaC run failed unexpectedly');
    return new RunFailed(runId, kind, 'something went wrong inside the bot while running the engine', 'The operators can find the details in the bot log.');
  }

  #emitTo(request: RunRequest, event: RunEvent, redactor?: Redactor): void {
    try {
      request.onEvent?.(redactor ? redactEvent(event, redactor) : event);
    } catch (error) {
      this.#o.logger.warn({ err: error, runId: 'runId' in event ? event.runId : undefined }, 'run event listener threw');
    }
  }
}
