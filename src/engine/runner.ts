/**
 * Seed 003's IACEngineManager and the deploy pipeline behind it: plan a new resource, apply exactly the plan the
 * user saw (by its run id), destroy a resource or a whole project, read outputs. This module says what each of
 * those does, as steps (engine-steps.ts) with argv from commands/; the life every run shares — workspace lock,
 * engine slot, timeout, cancellation, records, redaction — is run-lifecycle.ts; which plans may still be applied
 * is saved-plans.ts; what a run means for a resource's status belongs to the deploy domain (ResourceTransitions).
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineName } from '../db/schema.js';
import type { Logger } from '../logging/logger.js';
import { ResourceNotFound, type Project, type ProjectRepository, type Resource, type ResourceRepository } from '../projects/index.js';
import { DESTROYABLE, PLANNABLE } from '../projects/resource-statuses.js';
import type { StateLayout } from '../state/index.js';
import { applyArgs, destroyArgs, outputArgs, planArgs, showArgs } from './commands/index.js';
import { EngineProbeCache, selectEngine, type DiscoveredEngine, type EngineSelection } from './discovery.js';
import { collect, engineUsed, init, stream, writeConfiguration, type StepContext } from './engine-steps.js';
import { PlanEngineMissing, PlanNotApplicable, RunFailed, UnsupportedResource } from './errors.js';
import { outputCommandSchema, toOutputValues } from './json-stream.js';
import { APPLYING_SUFFIX, ensurePlansDir, planDigest, planFileFor, removePlanFile } from './plan-files.js';
import { summarisePlan, type PlanSummary } from './plan-summary.js';
import { readPlannedResources, type PlannedResource } from '../policy/planned-resources.js';
import type { ResourceTransitions } from './resource-transitions.js';
import { RunLifecycle } from './run-lifecycle.js';
import type { RunStore, IacRunRow, PlanRunSummary } from './run-store.js';
import type { ApplyResult, DestroyResult, IacRunnerOptions, OutputsResult, PlanResult, RunRecord, RunRequest } from './run-types.js';
import type { RunScheduler } from './scheduler.js';
import { SavedPlans } from './saved-plans.js';
import { ownedAfterPlan, requireModules, writeDeploymentConfiguration, type ModuleFiles } from './deployment-config.js';
import { workspaceOf } from './run-workspace.js';
import { DriftRuns } from './drift-runs.js';

export type { RunEvent, RunRequest, EngineUsed, PlanResult, ApplyResult, DestroyResult, OutputsResult, RunRecord, IacRunnerOptions } from './run-types.js';

export class IacRunner {
  readonly #logger: Logger;
  readonly #binDir: string | undefined;
  readonly #pathEnv: string;
  readonly #scheduler: RunScheduler;
  /** The runs' records; public for the last resort (src/app/last-resort.ts), which fails those under way. */
  readonly runs: RunStore;
  readonly #projects: ProjectRepository;
  readonly #resources: ResourceRepository;
  readonly #transitions: ResourceTransitions;
  readonly #plans: SavedPlans;
  readonly #lifecycle: RunLifecycle;
  readonly #engines = new EngineProbeCache();
  readonly #modules: ModuleFiles | undefined;
  readonly #layout: StateLayout;
  /** Drift checks, their Accept (refresh the state) and their plan to reconcile, on workspaces already deployed. */
  readonly drift: DriftRuns;

  constructor(options: IacRunnerOptions) {
    this.#logger = options.logger.child({ module: 'iac-runner' });
    this.#binDir = options.binDir;
    this.#pathEnv = options.pathEnv ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
    this.#scheduler = options.scheduler;
    this.runs = options.runs;
    this.#projects = options.projects;
    this.#resources = options.resources;
    this.#transitions = options.transitions;
    this.#plans = new SavedPlans(options.runs, options.projects, options.resources, options.layout, options.clock, options.planTtlMs ?? 24 * 60 * 60_000);
    this.#layout = options.layout;
    const catalogue = options.templates;
    this.#modules = catalogue
      ? {
          write: (guildId, template, directory) => catalogue.materialise(guildId, template, directory),
          recheck: (directory, botFiles) => catalogue.recheckWritten(directory, botFiles),
        }
      : undefined;
    this.#lifecycle = new RunLifecycle({
      scheduler: options.scheduler,
      leases: options.leases,
      runs: options.runs,
      audit: options.audit,
      executor: options.executor,
      layout: options.layout,
      clock: options.clock,
      logger: this.#logger,
      runTimeoutMs: options.runTimeoutMs,
      killGraceMs: options.killGraceMs ?? 10_000,
      pathEnv: this.#pathEnv,
      pluginCacheDir: options.pluginCacheDir,
      stateEncryptionKeys: options.stateEncryptionKeys ?? [],
      selectEngine: (preference) => this.#select(preference),
    });
    this.drift = new DriftRuns({ lifecycle: this.#lifecycle, projects: this.#projects, resources: this.#resources, modules: this.#modules });
  }

  /**
   * The engines installed on this host: looked up on every call (a few stats), each binary's `version -json`
   * asked once for as long as it stays the same file; `refresh` asks every one again.
   */
  async availableEngines(refresh = false): Promise<DiscoveredEngine[]> {
    if (refresh) this.#engines.clear();
    return this.#engines.discover({ binDir: this.#binDir, pathEnv: this.#pathEnv }, this.#logger);
  }

  /**
   * Plans `resourceId` (a planned or interrupted resource): a built-in in the project's folder, with the project's
   * other resources; a template deployment in its own folder, after its module files are written. Then init,
   * `plan -json -out` and `show -json` summarised, with the resources it will make that are this one's (for the policy check). The plan file is kept for `apply(planRunId = result.runId)`.
   * @throws WorkspaceBusy, ProjectNotFound, ResourceNotFound, NoEngineInstalled, RunFailed, RunCancelled, RunTimedOut.
   */
  async plan(request: RunRequest & { resourceId: number }): Promise<PlanResult> {
    const project = await this.#projects.get(request.guildId, request.projectSlug);
    const resource = await this.#resourceOf(project, request.resourceId);
    if (!PLANNABLE.includes(resource.status)) {
      throw new UnsupportedResource(`resource #${resource.id} is ${resource.status}; only a planned or interrupted resource can be planned`);
    }
    let planned: { workspace: string; planFile: string } | undefined;
    return this.#lifecycle.run('plan', request, workspaceOf(project, resource), resource.id, async (ctx) => {
      await this.#plans.pruneExpired(ctx.workspace, project);
      const config = resource.workspace ? undefined : writeConfiguration(ctx, await this.#inProject(project), [resource]);
      if (resource.workspace) await writeDeploymentConfiguration(ctx, resource, requireModules(this.#modules), 'pinned');
      await init(ctx);
      ensurePlansDir(ctx.workspace);
      const planFile = planFileFor(ctx.runId);
      planned = { workspace: ctx.workspace, planFile };
      ctx.emit({ type: 'phase', phase: 'plan' });
      await stream(ctx, planArgs({ out: planFile }), 'plan');
      ctx.emit({ type: 'phase', phase: 'show' });
      const { summary, planned: willMake } = this.#readPlan(ctx, await collect(ctx, showArgs({ planFile }), 'show'));
      const planSha256 = planDigest(join(ctx.workspace, planFile));
      // A template deployment owns everything in its state: what it had, and what this plan creates.
      const resourceAddresses = config ? config.addressesByResource.get(resource.id) ?? [] : ownedAfterPlan(resource.addresses, summary);
      // Another row's addresses are that row's, already counted where it is; what no row owns is shared by the project.
      const othersOwn = new Set(config ? [...config.addressesByResource].flatMap(([id, addresses]) => (id === resource.id ? [] : addresses)) : []);
      const plannedResources = willMake.filter((p) => !othersOwn.has(p.address));
      const result: PlanResult = { runId: ctx.runId, engine: engineUsed(ctx), summary, resourceAddresses, plannedResources, estimatedMonthlyCost: resource.estimatedMonthlyCost, warnings: ctx.warnings };
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
    const project = await this.#projects.get(request.guildId, request.projectSlug);
    const { run: planRun, stored, workspace, planPath } = await this.#plans.applicable(request.guildId, project, request.planRunId);
    const resourceId = planRun.resource_id;
    const planEngine = planRun.engine;
    const { guildId } = request;
    const resource = resourceId === null ? undefined : await this.#resourceOf(project, resourceId);
    return this.#lifecycle.run('apply', { ...request, enginePreference: planEngine }, workspaceOf(project, resource), resourceId, async (ctx) => {
      if (ctx.engine.name !== planEngine) throw new PlanEngineMissing(planEngine);
      if (!existsSync(planPath) || planDigest(planPath) !== stored.planSha256) {
        throw new PlanNotApplicable(request.planRunId, 'its plan file changed or disappeared since it was shown');
      }
      // Consumed now: whatever happens next, this plan is not applied a second time.
      const consumed = `${planPath}${APPLYING_SUFFIX}`;
      renameSync(planPath, consumed);
      try {
        if (resourceId !== null) await this.#transitions.applyStarted(guildId, resourceId, stored.resourceAddresses);
        ctx.emit({ type: 'phase', phase: 'apply' });
        const digest = await stream(ctx, applyArgs({ planFile: `${stored.planFile}${APPLYING_SUFFIX}` }), 'apply');
        const result: ApplyResult = {
          runId: ctx.runId,
          planRunId: request.planRunId,
          engine: engineUsed(ctx),
          changes: digest.changeSummary('apply'),
          applied: digest.completed(),
          outputs: digest.outputs(),
          warnings: ctx.warnings,
        };
        if (resourceId !== null) await this.#transitions.applySucceeded(guildId, resourceId);
        return { result, summary: { planRunId: request.planRunId, changes: result.changes, applied: result.applied } };
      } finally {
        rmSync(consumed, { force: true });
      }
    }, async (end) => {
      if (resourceId !== null) await this.#transitions.applyEnded(guildId, resourceId, end);
    // A plan is attempted once, whatever the outcome (cancelled in the queue, refused, failed): its file goes.
    }).finally(() => removePlanFile(workspace, stored.planFile));
  }

  /**
   * Destroys one resource, or without `resourceId` the project's built-ins (its whole state): a built-in by its
   * addresses (targeted), a template deployment whole, in its folder, with the module files its last plan wrote (the
   * template may have changed or gone since), checked again first with the rules in force (provisioners, host
   * providers, a backend of its own: a refused module fails the run before the engine starts, the resource stays as
   * it was), then its folder is removed. Resources go destroying → destroyed (or failed).
   */
  async destroy(request: RunRequest & { resourceId?: number }): Promise<DestroyResult> {
    const project = await this.#projects.get(request.guildId, request.projectSlug);
    const one = request.resourceId === undefined ? undefined : await this.#resourceOf(project, request.resourceId);
    if (one && !DESTROYABLE.includes(one.status)) {
      throw new UnsupportedResource(`resource #${one.id} is ${one.status}; only an active, failed or interrupted resource can be destroyed`);
    }
    const targets = one ? [one] : (await this.#inProject(project)).filter((r) => r.workspace === null && DESTROYABLE.includes(r.status));
    const targetIds = targets.map((r) => r.id);
    const { guildId } = request;
    const modules = this.#modules;
    return this.#lifecycle.run('destroy', request, workspaceOf(project, one), one?.id ?? null, async (ctx) => {
      let args: string[];
      if (one?.workspace) {
        await writeDeploymentConfiguration(ctx, one, modules, 'last-plan');
        args = destroyArgs({});
      } else {
        const config = writeConfiguration(ctx, await this.#inProject(project));
        args = destroyArgs(one ? { targets: [...(config.addressesByResource.get(one.id) ?? []), ...one.addresses] } : {});
      }
      await this.#transitions.destroyStarted(guildId, targetIds);
      await init(ctx);
      ctx.emit({ type: 'phase', phase: 'destroy' });
      const digest = await stream(ctx, args, 'destroy');
      await this.#transitions.destroySucceeded(guildId, targetIds);
      // Nothing of the deployment is left: its folder goes too (the state backup still held its values).
      if (one?.workspace) this.#layout.removeDeployment(guildId, project.slug, one.workspace);
      const result: DestroyResult = {
        runId: ctx.runId,
        engine: engineUsed(ctx),
        resourceIds: targetIds,
        changes: digest.changeSummary('destroy'),
        destroyed: digest.completed(),
        warnings: ctx.warnings,
      };
      return { result, summary: { resourceIds: targetIds, changes: result.changes, destroyed: result.destroyed } };
    }, (end) => this.#transitions.destroyEnded(guildId, targetIds, end));
  }

  /**
   * The outputs (`output -json`) of the project's built-ins, or of one template deployment (`resourceId`); sensitive
   * values are left out. Not a run (nothing recorded), but it holds the workspace like one: a workspace never
   * initialised is configured and initialised first.
   * @throws WorkspaceBusy while a run holds the workspace.
   */
  async outputs(request: RunRequest & { resourceId?: number }): Promise<OutputsResult> {
    const project = await this.#projects.get(request.guildId, request.projectSlug);
    const deployment = request.resourceId === undefined ? undefined : await this.#resourceOf(project, request.resourceId);
    return this.#lifecycle.unrecorded('outputs', request, workspaceOf(project, deployment), async (ctx) => {
      if (!existsSync(join(ctx.workspace, '.terraform'))) {
        if (deployment?.workspace) await writeDeploymentConfiguration(ctx, deployment, this.#modules, 'last-plan');
        else writeConfiguration(ctx, await this.#inProject(project));
        await init(ctx);
      }
      ctx.emit({ type: 'phase', phase: 'output' });
      const text = await collect(ctx, outputArgs(), 'output');
      let parsed: ReturnType<typeof outputCommandSchema.safeParse> | undefined;
      try {
        parsed = outputCommandSchema.safeParse(JSON.parse(text));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) throw new RunFailed(0, 'outputs', 'the engine printed outputs this bot cannot read', '');
      return { result: { engine: engineUsed(ctx), outputs: toOutputValues(parsed.data) } };
    });
  }

  /**
   * A saved plan of this project that can still be applied, without running anything: what its run recorded, the
   * digest of its file as it is now (compare with the one shown), and when it stops being applicable. For a decision
   * taken long after the plan (an admin's approval), checked at the press.
   * @throws PlanNotApplicable saying why not; ProjectNotFound.
   */
  async savedPlan(guildId: string, projectSlug: string, planRunId: number): Promise<{ stored: PlanRunSummary; engine: EngineName; fileSha256: string; expiresAt: number }> {
    const project = await this.#projects.get(guildId, projectSlug);
    const { run, stored, planPath } = await this.#plans.applicable(guildId, project, planRunId);
    return { stored, engine: run.engine, fileSha256: planDigest(planPath), expiresAt: this.#plans.expiresAt(run.created_at) };
  }

  /** Throws away a plan nobody will apply (the Cancel button). Returns false when there was nothing to discard. */
  discardPlan(guildId: string, planRunId: number): Promise<boolean> {
    return this.#plans.discard(guildId, planRunId);
  }

  /** Cancels a queued or running run of this guild (SIGINT first). Returns false when it is not running. */
  cancel(guildId: string, runId: number): boolean {
    return this.#lifecycle.cancel(guildId, runId);
  }

  /** This guild's most recent runs (at most 50), newest first. */
  async recentRuns(guildId: string, limit = 10): Promise<RunRecord[]> {
    return Promise.all((await this.runs.recent(guildId, limit)).map((row) => this.#toRecord(row)));
  }

  /** A run of this guild, or undefined (also for another guild's run). */
  async getRun(guildId: string, runId: number): Promise<RunRecord | undefined> {
    const row = await this.runs.get(guildId, runId);
    return row ? this.#toRecord(row) : undefined;
  }

  /**
   * At start-up, once runs left by the last process are settled (see orphans.ts): half-consumed (.applying) and expired
   * plan files are removed (they hold variable values); how many. With several shards, only `servesGuild`'s folders.
   */
  async sweepStalePlanFiles(servesGuild: (guildId: string) => boolean = () => true): Promise<number> {
    try {
      const planFiles = await this.#plans.sweepAll(servesGuild);
      if (planFiles > 0) this.#logger.info({ planFiles }, 'removed plan files that can no longer be applied');
      return planFiles;
    } catch (error) {
      this.#logger.error({ err: error }, 'could not sweep old plan files');
      return 0;
    }
  }

  /** Refuses new runs, cancels queued ones and stops every running engine (SIGINT → SIGTERM → SIGKILL). */
  shutdown(): Promise<void> {
    return this.#lifecycle.shutdown();
  }

  /** Runs currently holding an engine slot, and waiting for one, across all guilds: for operators only. */
  get load(): { running: number; queued: number } {
    return { running: this.#scheduler.running, queued: this.#scheduler.queued };
  }

  /** This guild's runs running and waiting for an engine slot: the only load a guild may be shown. */
  loadOf(guildId: string): Promise<{ running: number; queued: number }> {
    return this.runs.activeCounts(guildId);
  }

  // -------------------------------------------------------------------------------------------------------------

  async #resourceOf(project: Project, resourceId: number): Promise<Resource> {
    const resource = await this.#resources.get(project.guildId, resourceId);
    if (resource.projectId !== project.id) throw new ResourceNotFound(resourceId);
    return resource;
  }

  #inProject(project: Project): Promise<Resource[]> {
    return this.#resources.listByProject(project.guildId, project.id);
  }

  #readPlan(ctx: StepContext, shown: string): { summary: PlanSummary; planned: PlannedResource[] } {
    try {
      const json: unknown = JSON.parse(shown);
      return { summary: summarisePlan(json), planned: readPlannedResources(json) };
    } catch (error) {
      this.#logger.error({ err: ctx.redactor.error(error), runId: ctx.runId }, 'engine printed an unreadable plan');
      throw new RunFailed(ctx.runId, 'plan', 'the engine printed a plan this bot cannot read', 'Check that a supported engine version is installed.');
    }
  }

  async #select(preference: EngineName): Promise<EngineSelection> {
    let available = await this.availableEngines();
    if (available.length === 0 || !available.some((e) => existsSync(e.path))) available = await this.availableEngines(true);
    return selectEngine(preference, available, this.#logger);
  }

  async #toRecord(row: IacRunRow): Promise<RunRecord> {
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
      applicable: await this.#plans.fileKept(row),
    };
  }
}
