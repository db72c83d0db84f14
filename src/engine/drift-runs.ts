/**
 * The runs of drift checks, on an existing workspace (the project's built-ins, or one template deployment): check
 * (`plan -refresh-only -detailed-exitcode`, then `show -json` of that plan for what drifted), accept (`apply
 * -refresh-only -auto-approve`: the state takes the cloud's values), and a plan to reconcile (a normal plan of what
 * is deployed, kept for `IacRunner.apply` like any plan). Each is a recorded run with the lifecycle every run has
 * (workspace lock, engine slot, sandbox, timeout, redaction): a workspace another run holds throws WorkspaceBusy at
 * once, before anything waits.
 */
import { join } from 'node:path';
import { readDriftReport, type DriftReport } from '../drift/drift-report.js';
import { readPlannedResources, type PlannedResource } from '../policy/planned-resources.js';
import { ResourceNotFound, type Project, type ProjectRepository, type Resource, type ResourceRepository } from '../projects/index.js';
import { MAY_EXIST_IN_CLOUD } from '../projects/resource-statuses.js';
import { planArgs, refreshStateArgs, showArgs } from './commands/index.js';
import { writeDeploymentConfiguration, type ModuleFiles } from './deployment-config.js';
import { collect, engineUsed, init, stream, streamDetailed, writeConfiguration, type StepContext } from './engine-steps.js';
import { RunFailed, UnsupportedResource } from './errors.js';
import { ensurePlansDir, planDigest, planFileFor, removePlanFile } from './plan-files.js';
import { summarisePlan, type PlanSummary } from './plan-summary.js';
import type { RunLifecycle } from './run-lifecycle.js';
import type { EngineUsed, RunRequest } from './run-types.js';
import { workspaceOf } from './run-workspace.js';

/** Which workspace: the project's own (no deployment), or a template deployment's (its resource id). */
export type DriftTarget = RunRequest & { deploymentId?: number | undefined };

export interface DriftCheckResult {
  runId: number;
  engine: EngineUsed;
  drifted: boolean;
  report: DriftReport;
}

export interface ReconcilePlanResult {
  runId: number;
  engine: EngineUsed;
  summary: PlanSummary;
  /** What the plan will make (created, replaced, updated, unchanged), for the guild's policy. */
  plannedResources: PlannedResource[];
}

export interface DriftRunsOptions {
  lifecycle: RunLifecycle;
  projects: ProjectRepository;
  resources: ResourceRepository;
  modules: ModuleFiles | undefined;
}

export class DriftRuns {
  constructor(private readonly o: DriftRunsOptions) {}

  /** A refresh-only plan: exit 0 is no drift, exit 2 drift (read from the plan), anything else a failure. */
  async check(request: DriftTarget): Promise<DriftCheckResult> {
    const { project, deployment } = await this.#target(request);
    let planned: { workspace: string; planFile: string } | undefined;
    return this.o.lifecycle
      .run('drift', request, workspaceOf(project, deployment), deployment?.id ?? null, async (ctx) => {
        await this.#configure(ctx, project, deployment);
        await init(ctx);
        ensurePlansDir(ctx.workspace);
        const planFile = planFileFor(ctx.runId);
        planned = { workspace: ctx.workspace, planFile };
        ctx.emit({ type: 'phase', phase: 'plan' });
        const { changed } = await streamDetailed(ctx, planArgs({ out: planFile, refreshOnly: true, detailedExitcode: true }), 'plan');
        let report: DriftReport = { resources: [], moreResources: 0 };
        if (changed) {
          ctx.emit({ type: 'phase', phase: 'show' });
          report = this.#readReport(ctx, await collect(ctx, showArgs({ planFile }), 'show'));
        }
        const result: DriftCheckResult = { runId: ctx.runId, engine: engineUsed(ctx), drifted: changed, report };
        return { result, summary: { drifted: changed, resources: report.resources.map((r) => r.address) } };
      })
      .finally(() => {
        // A refresh-only plan is never applied (Accept refreshes anew), and its file holds the state's values.
        if (planned) removePlanFile(planned.workspace, planned.planFile);
      });
  }

  /** Accept: `apply -refresh-only -auto-approve`, so the state records what the cloud holds now. */
  async refresh(request: DriftTarget): Promise<{ runId: number; engine: EngineUsed }> {
    const { project, deployment } = await this.#target(request);
    return this.o.lifecycle.run('refresh', request, workspaceOf(project, deployment), deployment?.id ?? null, async (ctx) => {
      await this.#configure(ctx, project, deployment);
      await init(ctx);
      ctx.emit({ type: 'phase', phase: 'apply' });
      await stream(ctx, refreshStateArgs(), 'apply');
      return { result: { runId: ctx.runId, engine: engineUsed(ctx) }, summary: { refreshed: true } };
    });
  }

  /**
   * Plan to reconcile: a normal plan of what is deployed, which puts the cloud back as configured. Its file is kept
   * for `IacRunner.apply(planRunId)`, with the addresses the deployment owns (none for the project's built-ins,
   * whose rows stay as they are).
   */
  async planReconcile(request: DriftTarget): Promise<ReconcilePlanResult> {
    const { project, deployment } = await this.#target(request);
    let planned: { workspace: string; planFile: string } | undefined;
    return this.o.lifecycle.run(
      'plan',
      request,
      workspaceOf(project, deployment),
      deployment?.id ?? null,
      async (ctx) => {
        await this.#configure(ctx, project, deployment);
        await init(ctx);
        ensurePlansDir(ctx.workspace);
        const planFile = planFileFor(ctx.runId);
        planned = { workspace: ctx.workspace, planFile };
        ctx.emit({ type: 'phase', phase: 'plan' });
        await stream(ctx, planArgs({ out: planFile }), 'plan');
        ctx.emit({ type: 'phase', phase: 'show' });
        const shown = await collect(ctx, showArgs({ planFile }), 'show');
        let summary: PlanSummary;
        let plannedResources: PlannedResource[];
        try {
          const json: unknown = JSON.parse(shown);
          summary = summarisePlan(json);
          plannedResources = readPlannedResources(json);
        } catch {
          throw new RunFailed(ctx.runId, 'plan', 'the engine printed a plan this bot cannot read', 'Check that a supported engine version is installed.');
        }
        const resourceAddresses = deployment ? deployment.addresses : [];
        const result: ReconcilePlanResult = { runId: ctx.runId, engine: engineUsed(ctx), summary, plannedResources };
        return { result, summary: { planFile, planSha256: planDigest(join(ctx.workspace, planFile)), resourceAddresses, plan: summary } };
      },
      () => {
        if (planned) removePlanFile(planned.workspace, planned.planFile);
      },
    );
  }

  async #target(request: DriftTarget): Promise<{ project: Project; deployment: Resource | undefined }> {
    const project = await this.o.projects.get(request.guildId, request.projectSlug);
    if (request.deploymentId === undefined) return { project, deployment: undefined };
    const deployment = await this.o.resources.get(request.guildId, request.deploymentId);
    if (deployment.projectId !== project.id || !deployment.workspace) throw new ResourceNotFound(request.deploymentId);
    if (!MAY_EXIST_IN_CLOUD.includes(deployment.status)) throw new UnsupportedResource(`deployment #${deployment.id} is ${deployment.status}: nothing of it is deployed to check`);
    return { project, deployment };
  }

  async #configure(ctx: StepContext, project: Project, deployment: Resource | undefined): Promise<void> {
    // What is deployed is what the last plan wrote, checked again with today's rules (as a destroy does).
    if (deployment) await writeDeploymentConfiguration(ctx, deployment, this.o.modules, 'last-plan');
    else writeConfiguration(ctx, await this.o.resources.listByProject(project.guildId, project.id));
  }

  #readReport(ctx: StepContext, shown: string): DriftReport {
    try {
      return readDriftReport(JSON.parse(shown));
    } catch (error) {
      ctx.logger.error({ err: ctx.redactor.error(error), runId: ctx.runId }, 'engine printed an unreadable refresh-only plan');
      throw new RunFailed(ctx.runId, 'drift', 'the engine printed a plan this bot cannot read', 'Check that a supported engine version is installed.');
    }
  }
}
