/**
 * Seed 003's IACEngineManager and the deploy pipeline behind it: plan a new resource, apply exactly the plan the
 * user saw (by its run id), destroy a resource or a whole project, read outputs. Every run is recorded in
 * `iac_runs`, holds its workspace alone, waits its turn for an engine slot, streams typed progress events, and
 * can be cancelled or timed out (SIGINT → SIGTERM → SIGKILL).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type EngineName, type RunKind, type RunStatus } from '../db/schema.js';
import type { Logger } from '../logging/logger.js';
import type { AuditLog } from '../audit/index.js';
import { ProjectRepository, ResourceNotFound, ResourceRepository, type Project, type Resource } from '../projects/index.js';
import { DESTROYABLE, MAY_EXIST_IN_CLOUD as IN_CONFIG, PLANNABLE } from '../projects/resource-statuses.js';
import type { Clock } from '../shared/clock.js';
import { isUserError } from '../shared/errors.js';
import { Redactor } from '../shared/redaction.js';
import type { StateLayout } from '../state/index.js';
import { assertWorkspaceSafe, backendBlock, parseBackendSettings, writeBackendFile } from '../state/index.js';
import { writePrivateFile } from '../state/private-file.js';
import type { MasterKey } from '../credentials/master-keys.js';
import { buildChildEnv } from './child-env.js';
import { applyArgs, destroyArgs, initArgs, outputArgs, planArgs, showArgs } from './commands/index.js';
import { MAIN_CONFIG_FILE, generateConfig, type GeneratedConfig } from './config-generator.js';
import { discoverEngines, selectEngine, type DiscoveredEngine, type EngineSelection } from './discovery.js';
import {
  PlanEngineMissing,
  PlanNotApplicable,
  RunCancelled,
  RunFailed,
  RunTimedOut,
  RunnerShuttingDown,
  UnsupportedResource,
  WorkspaceBusy,
  engineLabel,
} from './errors.js';
import { describeFailure, describeWarning } from './failure.js';
import { EngineEventParser, outputCommandSchema, toOutputValues, type OutputValue } from './json-stream.js';
import { ensurePlansDir, planFileExists, planFileFor, prunePlans, prunePlansEverywhere, removePlanFile } from './plan-files.js';
import { summarisePlan, type PlanSummary } from './plan-summary.js';
import { RunStopper, runEngineCommand, type StopReason } from './process.js';
import { QueueWaitAborted, RunScheduler, SchedulerClosed } from './scheduler.js';
import { RunStore, readPlanRunSummary, type IacRunRow } from './run-store.js';
import { stateEncryptionFor } from './state-encryption.js';
import { MAX_WARNINGS, RunEventDigest, redactEvent } from './run-events.js';
import { interruptingStop } from './run-outcome.js';
import { MAX_COLLECTED_BYTES, MAX_LINE_BYTES, megabytes } from './output-limits.js';
import { engineProcessRecorder } from './orphans.js';
import type {
  ApplyResult,
  DestroyResult,
  EngineUsed,
  IacRunnerOptions,
  OutputsResult,
  PlanResult,
  RunEvent,
  RunRecord,
  RunRequest,
  Warning,
} from './run-types.js';
import { escapeMarkdown } from '../shared/member-text.js';

export type {
  RunEvent,
  RunRequest,
  EngineUsed,
  PlanResult,
  ApplyResult,
  DestroyResult,
  OutputsResult,
  RunRecord,
  IacRunnerOptions,
} from './run-types.js';


interface ActiveRun {
  runId: number;
  guildId: string;
  stopper: RunStopper;
  done: Promise<unknown>;
}

/** Everything one executing run needs. */
interface RunContext {
  runId: number;
  kind: RunKind | 'outputs';
  project: Project;
  workspace: string;
  env: Record<string, string>;
  engine: DiscoveredEngine;
  selection: EngineSelection;
  stopper: RunStopper;
  emit: (event: RunEvent) => void;
  /** Built from this run's secret values; everything shown, stored or logged passes through it. */
  redactor: Redactor;
  warnings: Warning[];
}

interface StreamOutcome {
  digest: RunEventDigest;
}

export class IacRunner {
  readonly #layout: StateLayout;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #runTimeoutMs: number;
  readonly #binDir: string | undefined;
  readonly #pluginCacheDir: string;
  readonly #killGraceMs: number;
  readonly #pathEnv: string;
  readonly #engineCacheMs: number;
  readonly #planTtlMs: number;
  readonly #audit: AuditLog;
  readonly #stateEncryptionKeys: readonly MasterKey[];
  readonly #scheduler: RunScheduler;
  readonly #runs: RunStore;
  readonly #projects: ProjectRepository;
  readonly #resources: ResourceRepository;
  readonly #active = new Set<ActiveRun>();
  #engines: { at: number; list: DiscoveredEngine[] } | undefined;
  #shuttingDown = false;

  constructor(options: IacRunnerOptions) {
    this.#layout = options.layout;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ module: 'iac-runner' });
    this.#runTimeoutMs = options.runTimeoutMs;
    this.#binDir = options.binDir;
    this.#pluginCacheDir = options.pluginCacheDir;
    this.#killGraceMs = options.killGraceMs ?? 10_000;
    this.#pathEnv = options.pathEnv ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
    this.#engineCacheMs = options.engineCacheMs ?? 60_000;
    this.#planTtlMs = options.planTtlMs ?? 24 * 60 * 60_000;
    this.#audit = options.audit;
    this.#stateEncryptionKeys = options.stateEncryptionKeys ?? [];
    this.#scheduler = new RunScheduler(options.maxConcurrentRuns);
    this.#runs = new RunStore(options.db, options.clock);
    this.#projects = new ProjectRepository(options.db, options.clock);
    this.#resources = new ResourceRepository(options.db, options.clock);
  }

  /** The engines installed on this host (cached briefly). */
  async availableEngines(refresh = false): Promise<DiscoveredEngine[]> {
    const now = this.#clock.now();
    if (!refresh && this.#engines && now - this.#engines.at < this.#engineCacheMs) return this.#engines.list;
    const list = await discoverEngines({ binDir: this.#binDir, pathEnv: this.#pathEnv }, this.#logger);
    this.#engines = { at: now, list };
    return list;
  }

  /**
   * Plans the project with `resourceId` (a planned or interrupted resource) added: init, `plan -json -out`, then
   * `show -json` summarised. The plan file is kept for `apply(planRunId = result.runId)`.
   * @throws WorkspaceBusy, ProjectNotFound, ResourceNotFound, NoEngineInstalled, RunFailed, RunCancelled, RunTimedOut.
   */
  async plan(request: RunRequest & { resourceId: number }): Promise<PlanResult> {
    const project = this.#projects.get(request.guildId, request.projectSlug);
    const resource = this.#resourceOf(project, request.resourceId);
    if (!PLANNABLE.includes(resource.status)) {
      throw new UnsupportedResource(`resource #${resource.id} is ${resource.status}; only a planned or interrupted resource can be planned`);
    }
    let planned: { workspace: string; planFile: string } | undefined;
    return this.#execute('plan', request, project, resource.id, async (ctx) => {
      this.#pruneExpiredPlans(ctx.workspace, project);
      const config = this.#writeConfiguration(ctx, project, [resource]);
      await this.#init(ctx);
      ensurePlansDir(ctx.workspace);
      const planFile = planFileFor(ctx.runId);
      planned = { workspace: ctx.workspace, planFile };
      ctx.emit({ type: 'phase', phase: 'plan' });
      await this.#stream(ctx, planArgs({ out: planFile }), 'plan');
      ctx.emit({ type: 'phase', phase: 'show' });
      const shown = await this.#collect(ctx, showArgs({ planFile }), 'show');
      let summary: PlanSummary;
      try {
        summary = summarisePlan(JSON.parse(shown));
      } catch (error) {
        this.#logger.error({ err: ctx.redactor.error(error), runId: ctx.runId }, 'engine printed an unreadable plan');
        throw new RunFailed(ctx.runId, 'plan', 'the engine printed a plan this bot cannot read', 'Check that a supported engine version is installed.');
      }
      const planSha256 = sha256(join(ctx.workspace, planFile));
      const resourceAddresses = config.addressesByResource.get(resource.id) ?? [];
      const result: PlanResult = {
        runId: ctx.runId,
        engine: engineUsed(ctx),
        summary,
        resourceAddresses,
        estimatedMonthlyCost: resource.estimatedMonthlyCost,
        warnings: ctx.warnings,
      };
      return { result, summary: { planFile, planSha256, resourceAddresses, plan: summary } };
    }, () => {
      // A plan that did not succeed is never applied: its file (it holds variable values) goes now.
      if (planned) removePlanFile(planned.workspace, planned.planFile);
    });
  }

  /**
   * Applies exactly the plan of run `planRunId` (same engine, same plan file, checked by digest). The resource moves
   * planned → applying → active (or failed). The plan file is consumed: a plan applies once.
   * @throws PlanNotApplicable, PlanEngineMissing, WorkspaceBusy, RunFailed, RunCancelled, RunTimedOut.
   */
  async apply(request: RunRequest & { planRunId: number }): Promise<ApplyResult> {
    const project = this.#projects.get(request.guildId, request.projectSlug);
    const planRun = this.#runs.get(request.guildId, request.planRunId);
    if (!planRun || planRun.project_id !== project.id || planRun.kind !== 'plan') {
      throw new PlanNotApplicable(request.planRunId, `there is no plan #${request.planRunId} for project "${escapeMarkdown(project.name)}"`);
    }
    const stored = readPlanRunSummary(planRun);
    if (planRun.status !== 'succeeded' || !stored || !planRun.engine) {
      throw new PlanNotApplicable(request.planRunId, `that plan ${planRun.status === 'succeeded' ? 'has no saved plan' : `ended as ${planRun.status}`}`);
    }
    if (this.#clock.now() - planRun.created_at > this.#planTtlMs) {
      throw new PlanNotApplicable(request.planRunId, `it is older than ${Math.round(this.#planTtlMs / 3_600_000)} hours`);
    }
    const workspace = this.#layout.workspacePath(request.guildId, project.slug);
    const planPath = join(workspace, stored.planFile);
    if (!planFileExists(workspace, stored.planFile)) throw new PlanNotApplicable(request.planRunId, 'it was already applied or discarded');
    const resourceId = planRun.resource_id;
    const planEngine = planRun.engine;
    return this.#execute(
      'apply',
      { ...request, enginePreference: planEngine },
      project,
      resourceId,
      async (ctx) => {
        if (ctx.engine.name !== planEngine) throw new PlanEngineMissing(planEngine);
        if (!existsSync(planPath) || sha256(planPath) !== stored.planSha256) {
          throw new PlanNotApplicable(request.planRunId, 'its plan file changed or disappeared since it was shown');
        }
        // Consumed now: whatever happens next, this plan is not applied a second time.
        const consumed = `${planPath}.applying`;
        renameSync(planPath, consumed);
        try {
          if (resourceId !== null) this.#resources.setStatus(request.guildId, resourceId, 'applying', { addresses: stored.resourceAddresses });
          ctx.emit({ type: 'phase', phase: 'apply' });
          const { digest } = await this.#stream(ctx, applyArgs({ planFile: `${stored.planFile}.applying` }), 'apply');
          const result: ApplyResult = {
            runId: ctx.runId,
            planRunId: request.planRunId,
            engine: engineUsed(ctx),
            changes: digest.changeSummary('apply'),
            applied: digest.completed(),
            outputs: digest.outputs(),
            warnings: ctx.warnings,
          };
          if (resourceId !== null) this.#resources.setStatus(request.guildId, resourceId, 'active');
          return { result, summary: { planRunId: request.planRunId, changes: result.changes, applied: result.applied } };
        } finally {
          rmSync(consumed, { force: true });
        }
      },
      (error) => {
        if (resourceId !== null) this.#settleResource(request.guildId, resourceId, 'applying', error);
      },
      // A plan is attempted once, whatever the outcome (cancelled in the queue, refused, failed): its file goes.
    ).finally(() => removePlanFile(workspace, stored.planFile));
  }

  /**
   * Destroys one resource (its addresses, targeted) or, without `resourceId`, everything in the project's state.
   * Resources move to destroying → destroyed (or failed).
   */
  async destroy(request: RunRequest & { resourceId?: number }): Promise<DestroyResult> {
    const project = this.#projects.get(request.guildId, request.projectSlug);
    const all = this.#resources.listByProject(request.guildId, project.id);
    let targets: Resource[];
    if (request.resourceId !== undefined) {
      const resource = this.#resourceOf(project, request.resourceId);
      if (!DESTROYABLE.includes(resource.status)) {
        throw new UnsupportedResource(`resource #${resource.id} is ${resource.status}; only an active, failed or interrupted resource can be destroyed`);
      }
      targets = [resource];
    } else {
      targets = all.filter((r) => DESTROYABLE.includes(r.status));
    }
    const targetIds = targets.map((r) => r.id);
    return this.#execute(
      'destroy',
      request,
      project,
      request.resourceId ?? null,
      async (ctx) => {
        const config = this.#writeConfiguration(ctx, project, []);
        for (const r of targets) this.#resources.setStatus(request.guildId, r.id, 'destroying');
        await this.#init(ctx);
        const resource = request.resourceId !== undefined ? (targets[0] as Resource) : undefined;
        const args = destroyArgs(resource ? { targets: [...(config.addressesByResource.get(resource.id) ?? []), ...resource.addresses] } : {});
        ctx.emit({ type: 'phase', phase: 'destroy' });
        const { digest } = await this.#stream(ctx, args, 'destroy');
        for (const id of targetIds) this.#resources.setStatus(request.guildId, id, 'destroyed');
        const result: DestroyResult = {
          runId: ctx.runId,
          engine: engineUsed(ctx),
          resourceIds: targetIds,
          changes: digest.changeSummary('destroy'),
          destroyed: digest.completed(),
          warnings: ctx.warnings,
        };
        return { result, summary: { resourceIds: targetIds, changes: result.changes, destroyed: result.destroyed } };
      },
      (error) => {
        for (const id of targetIds) this.#settleResource(request.guildId, id, 'destroying', error);
      },
    );
  }

  /** The project's outputs (`output -json`); sensitive values are left out. Not recorded as a run. */
  async outputs(request: RunRequest): Promise<OutputsResult> {
    const project = this.#projects.get(request.guildId, request.projectSlug);
    return this.#execute('outputs', request, project, null, async (ctx) => {
      if (!existsSync(join(ctx.workspace, '.terraform'))) {
        this.#writeConfiguration(ctx, project, []);
        await this.#init(ctx);
      }
      ctx.emit({ type: 'phase', phase: 'output' });
      const text = await this.#collect(ctx, outputArgs(), 'output');
      let outputs: Record<string, OutputValue> = {};
      try {
        const parsed = outputCommandSchema.safeParse(JSON.parse(text));
        if (parsed.success) outputs = toOutputValues(parsed.data);
        else throw new Error('unexpected shape');
      } catch {
        throw new RunFailed(0, 'outputs', 'the engine printed outputs this bot cannot read', '');
      }
      return { result: { engine: engineUsed(ctx), outputs } };
    });
  }

  /** Throws away a plan nobody will apply (the Cancel button). Returns false when there was nothing to discard. */
  discardPlan(guildId: string, planRunId: number): boolean {
    const run = this.#runs.get(guildId, planRunId);
    const stored = run ? readPlanRunSummary(run) : undefined;
    if (!run || !stored) return false;
    const project = this.#projects.getById(guildId, run.project_id, { includeArchived: true });
    return removePlanFile(this.#layout.workspacePath(guildId, project.slug), stored.planFile);
  }

  /** Cancels a queued or running run of this guild (SIGINT first). Returns false when it is not running. */
  cancel(guildId: string, runId: number): boolean {
    if (runId <= 0) return false;
    const active = [...this.#active].find((run) => run.runId === runId && run.guildId === guildId);
    if (!active) return false;
    void active.stopper.stop('cancelled');
    return true;
  }

  /** This guild's most recent runs (at most 50), newest first. */
  recentRuns(guildId: string, limit = 10): RunRecord[] {
    return this.#runs.recent(guildId, limit).map((row) => this.#toRecord(row));
  }

  /** A run of this guild, or undefined (also for another guild's run). */
  getRun(guildId: string, runId: number): RunRecord | undefined {
    const row = this.#runs.get(guildId, runId);
    return row ? this.#toRecord(row) : undefined;
  }

  /**
   * At start-up, once runs left by the last process are settled (see orphans.ts): half-consumed (.applying) and
   * expired plan files they left behind are removed, as they hold variable values. Returns how many.
   */
  sweepStalePlanFiles(): number {
    try {
      const planFiles = prunePlansEverywhere(this.#layout.rootDir, (guildId, runId) => this.#planStillApplicable(guildId, runId));
      if (planFiles > 0) this.#logger.info({ planFiles }, 'removed plan files that can no longer be applied');
      return planFiles;
    } catch (error) {
      this.#logger.error({ err: error }, 'could not sweep old plan files');
      return 0;
    }
  }

  /** Refuses new runs, cancels queued ones and stops every running engine (SIGINT → SIGTERM → SIGKILL). */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    this.#scheduler.close();
    const active = [...this.#active.values()];
    await Promise.allSettled(active.map((run) => run.stopper.stop('shutdown')));
    await Promise.allSettled(active.map((run) => run.done));
  }

  /** Runs currently holding an engine slot, and waiting for one, across all guilds: for operators only. */
  get load(): { running: number; queued: number } {
    return { running: this.#scheduler.running, queued: this.#scheduler.queued };
  }

  /** This guild's runs running and waiting for an engine slot: the only load a guild may be shown. */
  loadOf(guildId: string): { running: number; queued: number } {
    return this.#runs.activeCounts(guildId);
  }

  // -------------------------------------------------------------------------------------------------------------

  #resourceOf(project: Project, resourceId: number): Resource {
    const resource = this.#resources.get(project.guildId, resourceId);
    if (resource.projectId !== project.id) throw new ResourceNotFound(resourceId);
    return resource;
  }

  /**
   * The common life of a run. Everything up to taking the workspace is synchronous, so two requests for one
   * workspace cannot both get it.
   */
  #execute<T>(
    kind: RunKind | 'outputs',
    request: RunRequest,
    project: Project,
    resourceId: number | null,
    body: (ctx: RunContext) => Promise<{ result: T; summary?: unknown }>,
    onFailure?: (error: StopReason | 'failed') => void,
  ): Promise<T> {
    if (this.#shuttingDown) throw new RunnerShuttingDown();
    const workspaceKey = `${project.guildId}/${project.slug}`;
    const now = this.#clock.now();
    if (kind !== 'outputs') {
      const holder = this.#scheduler.holderOf(workspaceKey);
      if (holder) throw new WorkspaceBusy(project.slug, holder);
    }
    const row =
      kind === 'outputs'
        ? undefined
        : this.#runs.create({ guildId: project.guildId, projectId: project.id, resourceId, kind, startedBy: request.userId, ...(request.channelId ? { channelId: request.channelId } : {}) });
    const runId = row?.guild_run_number ?? 0;
    // Synchronously, so the caller knows the id (for a Cancel button) even while the run waits in the queue.
    if (row) {
      try {
        request.onEvent?.({ type: 'run_created', runId, kind: row.kind });
      } catch (error) {
        this.#logger.warn({ err: error, runId }, 'run event listener threw');
      }
    }
    let releaseWorkspace = (): void => {};
    if (kind !== 'outputs') {
      const claim = this.#scheduler.tryClaimWorkspace(workspaceKey, { runId, kind, since: now, startedBy: request.userId });
      if (!claim.claimed) throw new WorkspaceBusy(project.slug, claim.holder);
      releaseWorkspace = claim.release;
    }
    // A stop while queued takes the run out of the queue; a stop while running stops the engine.
    const slotAbort = new AbortController();
    const stopper = new RunStopper(this.#killGraceMs, () => slotAbort.abort(), row ? engineProcessRecorder(this.#runs, project.guildId, runId, this.#logger) : undefined);
    const onAbort = (): void => void stopper.stop('cancelled');
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.signal?.aborted) void stopper.stop('cancelled');
    const active: ActiveRun = { runId, guildId: project.guildId, stopper, done: Promise.resolve() };
    this.#active.add(active);
    const done = this.#lifecycle(kind, request, project, runId, stopper, slotAbort, body, onFailure).finally(() => {
      request.signal?.removeEventListener('abort', onAbort);
      releaseWorkspace();
      this.#active.delete(active);
    });
    active.done = done;
    return done;
  }

  async #lifecycle<T>(
    kind: RunKind | 'outputs',
    request: RunRequest,
    project: Project,
    runId: number,
    stopper: RunStopper,
    slotAbort: AbortController,
    body: (ctx: RunContext) => Promise<{ result: T; summary?: unknown }>,
    onFailure?: (error: StopReason | 'failed') => void,
  ): Promise<T> {
    let redactor = new Redactor(Object.values(request.credentialEnv));
    const emit = (event: RunEvent): void => {
      try {
        request.onEvent?.(redactEvent(event, redactor));
      } catch (error) {
        this.#logger.warn({ err: error, runId }, 'run event listener threw');
      }
    };
    let releaseSlot: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let started = false;
    try {
      try {
        releaseSlot = await this.#scheduler.acquireSlot(project.guildId, {
          signal: slotAbort.signal,
          ...(request.onQueued ? { onPosition: request.onQueued } : {}),
        });
      } catch (error) {
        if (error instanceof QueueWaitAborted || error instanceof SchedulerClosed) throw new StoppedBeforeStart(stopper.reason ?? 'shutdown');
        throw error;
      }
      if (stopper.reason) throw new StoppedBeforeStart(stopper.reason);
      const selection = await this.#select(request.enginePreference);
      const engine = selection.engine;
      // At the moment of running, before anything in the folder is touched: no link is followed, no state lost.
      const workspace = this.#layout.workspaceDir(project.guildId, project.slug);
      assertWorkspaceSafe({ workspace, pluginCacheDir: this.#pluginCacheDir, logger: this.#logger });
      const encryption = stateEncryptionFor({
        engine,
        keys: this.#stateEncryptionKeys,
        guildId: project.guildId,
        projectId: project.id,
        stateBackend: project.stateBackend,
        workspace,
      });
      redactor = new Redactor([...Object.values(request.credentialEnv), ...encryption.secrets]);
      if (kind !== 'outputs') this.#runs.markRunning(project.guildId, runId, engine.name, engine.version);
      started = true;
      timer = setTimeout(() => void stopper.stop('timed_out'), this.#runTimeoutMs);
      const env = {
        ...buildChildEnv({
          pathEnv: this.#pathEnv,
          home: join(workspace, '.home'),
          pluginCacheDir: this.#pluginCacheDir,
          credentialEnv: request.credentialEnv,
        }),
        // Only ever here, in the child's environment: never argv, never a file.
        ...encryption.env,
      };
      const ctx: RunContext = { runId, kind, project, workspace, env, engine, selection, stopper, emit, redactor, warnings: [...encryption.warnings] };
      emit({
        type: 'run_started',
        runId,
        kind,
        engine: engine.name,
        engineVersion: engine.version,
        ...(selection.notice ? { fallbackNotice: selection.notice } : {}),
      });
      const { result, summary } = await body(ctx);
      if (kind !== 'outputs') this.#runs.finish(project.guildId, runId, 'succeeded', { summary: redactor.deep(summary) });
      this.#record(kind, request, project, runId, 'success', { engine: engine.name });
      return redactor.deep(result);
    } catch (caught) {
      // Only a stop that cut an engine command short, or kept one from starting, counts (see run-outcome.ts).
      const stop = caught instanceof StoppedBeforeStart ? caught.reason : undefined;
      const error = this.#asRunError(caught, kind, runId, stop, stopper, redactor);
      const status = stopStatus(stop);
      if (kind !== 'outputs') this.#runs.finish(project.guildId, runId, status, { error: error.message });
      if (started) onFailure?.(status === 'timed_out' ? 'timed_out' : status === 'cancelled' ? 'cancelled' : status === 'interrupted' ? 'shutdown' : 'failed');
      this.#record(kind, request, project, runId, 'failed', { status });
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
      releaseSlot?.();
    }
  }

  /** Maps whatever ended a run to the error the user sees. */
  #asRunError(caught: unknown, kind: RunKind | 'outputs', runId: number, reason: StopReason | undefined, stopper: RunStopper, redactor: Redactor): Error {
    if (reason === 'timed_out') return new RunTimedOut(runId, kind, this.#runTimeoutMs);
    if (reason === 'cancelled') return new RunCancelled(runId, kind);
    if (reason === 'shutdown') return new RunnerShuttingDown(stopper.reason === 'shutdown' ? runId : undefined, kind);
    if (isUserError(caught)) return redactor.scrub(caught);
    this.#logger.error({ err: redactor.error(caught), runId, kind }, 'IaC run failed unexpectedly');
    return new RunFailed(runId, kind, 'something went wrong inside the bot while running the engine', 'The operators can find the details in the bot log.');
  }

  async #select(preference: EngineName): Promise<EngineSelection> {
    let available = await this.availableEngines();
    if (available.length === 0 || !available.some((e) => existsSync(e.path))) available = await this.availableEngines(true);
    return selectEngine(preference, available, this.#logger);
  }

  /** Removes plan files of this project's plans that can no longer be applied because they are too old. */
  #pruneExpiredPlans(workspace: string, project: Project): void {
    prunePlans(workspace, (runId) => this.#planStillApplicable(project.guildId, runId, project.id));
  }

  /** A succeeded plan run of this project (and guild) that has not expired. */
  #planStillApplicable(guildId: string, runId: number, projectId?: number): boolean {
    const run = this.#runs.get(guildId, runId);
    const cutoff = this.#clock.now() - this.#planTtlMs;
    return !!run && run.kind === 'plan' && run.status === 'succeeded' && (projectId === undefined || run.project_id === projectId) && run.created_at >= cutoff;
  }

  /** Writes main.tf.json (owner-only) and backend.tf.json. `extra` are rows planned in this run. */
  #writeConfiguration(ctx: RunContext, project: Project, extra: Resource[]): GeneratedConfig {
    const rows = this.#resources.listByProject(project.guildId, project.id).filter((r) => IN_CONFIG.includes(r.status));
    const included = [...rows, ...extra.filter((e) => !rows.some((r) => r.id === e.id))];
    const config = generateConfig(project, included);
    writePrivateFile(join(ctx.workspace, MAIN_CONFIG_FILE), `${JSON.stringify(config.document, null, 2)}\n`);
    const settings = parseBackendSettings({ ...project.backendSettings, kind: project.stateBackend });
    writeBackendFile(ctx.workspace, backendBlock(project.stateBackend, project.guildId, project.slug, settings));
    return config;
  }

  async #init(ctx: RunContext): Promise<void> {
    ctx.emit({ type: 'phase', phase: 'init' });
    const result = await runEngineCommand({
      binary: ctx.engine.path,
      args: initArgs(),
      cwd: ctx.workspace,
      env: ctx.env,
      stopper: ctx.stopper,
      logger: this.#logger,
    });
    const stop = interruptingStop(result);
    if (stop) throw new StoppedBeforeStart(stop);
    if (result.exitCode !== 0) {
      const { summary, detail } = describeFailure([], result.stderrTail, `${engineLabel(ctx.engine.name)} init failed`, ctx.redactor);
      throw new RunFailed(ctx.runId, ctx.kind, summary, detail);
    }
  }

  /** Runs a `-json` streaming command, passing events on as they come; throws RunFailed on error diagnostics. */
  async #stream(ctx: RunContext, args: string[], label: string): Promise<StreamOutcome> {
    const parser = new EngineEventParser();
    const digest = new RunEventDigest();
    const result = await runEngineCommand({
      binary: ctx.engine.path,
      args,
      cwd: ctx.workspace,
      env: ctx.env,
      stopper: ctx.stopper,
      logger: this.#logger,
      onStdoutLine: (line) => {
        const event = parser.parseLine(line);
        if (!event) return;
        const safe = redactEvent(event, ctx.redactor);
        digest.add(safe);
        if (safe.type === 'diagnostic' && safe.severity === 'warning' && ctx.warnings.length < MAX_WARNINGS) {
          ctx.warnings.push(describeWarning(safe, ctx.redactor));
        }
        ctx.emit(safe);
      },
    });
    if (parser.stats.malformed + parser.stats.ignored > 0) {
      this.#logger.debug({ runId: ctx.runId, command: label, ...parser.stats }, 'engine output lines skipped');
    }
    if (result.overlongLines > 0) {
      this.#logger.warn({ runId: ctx.runId, command: label, overlongLines: result.overlongLines }, 'engine printed over-long lines; skipped');
      ctx.warnings.push({
        summary: `The engine printed ${result.overlongLines} line${result.overlongLines === 1 ? '' : 's'} longer than ${megabytes(MAX_LINE_BYTES)}; skipped`,
        detail: 'Whatever those lines held (such as very large output values) is missing from this result.',
      });
    }
    const stop = interruptingStop(result);
    if (stop) throw new StoppedBeforeStart(stop);
    if (result.exitCode !== 0 || digest.errorCount > 0) {
      const { summary, detail } = describeFailure(
        digest.errors(),
        result.stderrTail,
        `${engineLabel(ctx.engine.name)} ${label} stopped unexpectedly (exit ${result.exitCode ?? result.signal ?? 'unknown'})`,
        ctx.redactor,
        digest.errorCount,
      );
      throw new RunFailed(ctx.runId, ctx.kind, summary, detail);
    }
    return { digest };
  }

  /** Runs a command whose whole stdout is one JSON document (`show -json`, `output -json`). */
  async #collect(ctx: RunContext, args: string[], label: string): Promise<string> {
    const result = await runEngineCommand({
      binary: ctx.engine.path,
      args,
      cwd: ctx.workspace,
      env: ctx.env,
      stopper: ctx.stopper,
      collectStdout: true,
      logger: this.#logger,
    });
    const stop = interruptingStop(result);
    if (stop) throw new StoppedBeforeStart(stop);
    if (result.exitCode !== 0) {
      const { summary, detail } = describeFailure([], result.stderrTail, `${engineLabel(ctx.engine.name)} ${label} failed`, ctx.redactor);
      throw new RunFailed(ctx.runId, ctx.kind, summary, detail);
    }
    if (result.stdoutOverflowed) {
      throw new RunFailed(
        ctx.runId,
        ctx.kind,
        `the engine printed more than ${megabytes(MAX_COLLECTED_BYTES)} for \`${label}\`, more than this bot reads`,
        'Split the project into smaller ones, or ask the operators to check the engine and its providers.',
      );
    }
    return result.stdout;
  }

  /** After a failed, cancelled or timed-out apply/destroy: the resource is failed (or interrupted at shutdown). */
  #settleResource(guildId: string, resourceId: number, middle: 'applying' | 'destroying', outcome: StopReason | 'failed'): void {
    try {
      const resource = this.#resources.get(guildId, resourceId);
      if (resource.status !== middle) return;
      const lastError =
        outcome === 'timed_out'
          ? 'The run took too long and was stopped.'
          : outcome === 'cancelled'
            ? 'The run was cancelled.'
            : outcome === 'shutdown'
              ? 'The bot shut down during the run.'
              : 'The engine reported an error; see the run for details.';
      this.#resources.setStatus(guildId, resourceId, outcome === 'shutdown' ? 'interrupted' : 'failed', { lastError });
    } catch (error) {
      this.#logger.error({ err: error, resourceId }, 'could not record the resource outcome');
    }
  }

  #record(kind: RunKind | 'outputs', request: RunRequest, project: Project, runId: number, outcome: 'success' | 'failed', details: Record<string, unknown>): void {
    if (kind === 'outputs') return;
    try {
      this.#audit.record({
        guildId: project.guildId,
        userId: request.userId,
        action: `iac.${kind}`,
        target: `${project.slug}#${runId}`,
        outcome,
        details: { runId, ...details },
      });
    } catch (error) {
      this.#logger.error({ err: error, runId }, 'could not write the audit entry for a run');
    }
  }

  #toRecord(row: IacRunRow): RunRecord {
    let applicable = false;
    const stored = row.kind === 'plan' && row.status === 'succeeded' ? readPlanRunSummary(row) : undefined;
    if (stored) {
      try {
        const project = this.#projects.getById(row.guild_id, row.project_id, { includeArchived: true });
        applicable = planFileExists(this.#layout.workspacePath(row.guild_id, project.slug), stored.planFile);
      } catch {
        applicable = false;
      }
    }
    return {
      number: row.guild_run_number,
      guildId: row.guild_id,
      projectId: row.project_id,
      resourceId: row.resource_id,
      kind: row.kind,
      status: row.status,
      engine: row.engine,
      engineVersion: row.engine_version,
      startedBy: row.started_by,
      createdAt: row.created_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      error: row.error,
      applicable,
    };
  }
}

/** A run stopped (cancel, timeout, shutdown) — before its engine started or while it ran. */
class StoppedBeforeStart extends Error {
  constructor(readonly reason: StopReason) {
    super(`run stopped: ${reason}`);
  }
}

function stopStatus(reason: StopReason | undefined): Exclude<RunStatus, 'queued' | 'running' | 'succeeded'> {
  if (reason === 'timed_out') return 'timed_out';
  if (reason === 'cancelled') return 'cancelled';
  if (reason === 'shutdown') return 'interrupted';
  return 'failed';
}

function engineUsed(ctx: RunContext): EngineUsed {
  const notice = ctx.selection.notice;
  return { name: ctx.engine.name, version: ctx.engine.version, ...(notice ? { fallbackNotice: notice } : {}) };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
