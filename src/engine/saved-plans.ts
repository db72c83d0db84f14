/**
 * Which saved plans may still be applied: a succeeded plan run of the project, younger than the plan lifetime,
 * whose plan file is still there (see plan-files.ts for the files themselves).
 */
import { join } from 'node:path';
import type { Project, ProjectRepository, ResourceRepository } from '../projects/index.js';
import type { Clock } from '../shared/clock.js';
import { escapeMarkdown } from '../shared/member-text.js';
import type { StateLayout } from '../state/index.js';
import { PlanNotApplicable } from './errors.js';
import { planFileExists, prunePlans, prunePlansEverywhere, removePlanFile } from './plan-files.js';
import { readPlanRunSummary, type IacRunRow, type PlanRunSummary, type RunStore } from './run-store.js';
import { workspaceLocation, workspaceOf } from './run-workspace.js';

/** A plan that `apply` may take: its run, what it recorded, and where its file is. */
export interface ApplicablePlan {
  run: IacRunRow & { engine: NonNullable<IacRunRow['engine']> };
  stored: PlanRunSummary;
  workspace: string;
  planPath: string;
}

export class SavedPlans {
  constructor(
    private readonly runs: RunStore,
    private readonly projects: ProjectRepository,
    private readonly resources: ResourceRepository,
    private readonly layout: StateLayout,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  /**
   * Plan `planRunId` of this project, if it can be applied now.
   * @throws PlanNotApplicable saying why not.
   */
  async applicable(guildId: string, project: Project, planRunId: number): Promise<ApplicablePlan> {
    const run = await this.runs.get(guildId, planRunId);
    if (!run || run.project_id !== project.id || run.kind !== 'plan') {
      throw new PlanNotApplicable(planRunId, `there is no plan #${planRunId} for project "${escapeMarkdown(project.name)}"`);
    }
    const stored = readPlanRunSummary(run);
    const engine = run.engine;
    if (run.status !== 'succeeded' || !stored || !engine) {
      throw new PlanNotApplicable(planRunId, `that plan ${run.status === 'succeeded' ? 'has no saved plan' : `ended as ${run.status}`}`);
    }
    if (this.clock.now() - run.created_at > this.ttlMs) throw new PlanNotApplicable(planRunId, `it is older than ${Math.round(this.ttlMs / 3_600_000)} hours`);
    const workspace = await this.#workspaceOf(run, project);
    if (!planFileExists(workspace, stored.planFile)) throw new PlanNotApplicable(planRunId, 'it was already applied or discarded');
    return { run: { ...run, engine }, stored, workspace, planPath: join(workspace, stored.planFile) };
  }

  /** When a plan made at `createdAt` can no longer be applied. */
  expiresAt(createdAt: number): number {
    return createdAt + this.ttlMs;
  }

  /** Whether `apply` would still accept this run (a succeeded plan whose plan file is still there). */
  async fileKept(row: IacRunRow): Promise<boolean> {
    const stored = row.kind === 'plan' && row.status === 'succeeded' ? readPlanRunSummary(row) : undefined;
    if (!stored) return false;
    try {
      const project = await this.projects.getById(row.guild_id, row.project_id, { includeArchived: true });
      return planFileExists(await this.#workspaceOf(row, project), stored.planFile);
    } catch {
      return false;
    }
  }

  /** Throws away a plan nobody will apply. Returns false when there was nothing to discard. */
  async discard(guildId: string, planRunId: number): Promise<boolean> {
    const run = await this.runs.get(guildId, planRunId);
    const stored = run ? readPlanRunSummary(run) : undefined;
    if (!run || !stored) return false;
    const project = await this.projects.getById(guildId, run.project_id, { includeArchived: true });
    return removePlanFile(await this.#workspaceOf(run, project), stored.planFile);
  }

  /** The folder a plan run worked in: its template deployment's, or its project's. */
  async #workspaceOf(run: IacRunRow, project: Project): Promise<string> {
    const resource = run.resource_id === null ? undefined : await this.resources.get(run.guild_id, run.resource_id);
    return workspaceLocation(this.layout, workspaceOf(project, resource));
  }

  /** Removes plan files of this project's plans that can no longer be applied. The caller holds the workspace. */
  async pruneExpired(workspace: string, project: Project): Promise<void> {
    await prunePlans(workspace, (runId) => this.#stillApplicable(project.guildId, runId, project.id));
  }

  /** Every workspace's stale plan files (at start-up); returns how many were removed. */
  sweepAll(servesGuild: (guildId: string) => boolean = () => true): Promise<number> {
    // Kept: plans of guilds another shard serves, and plans still applicable.
    return prunePlansEverywhere(this.layout.rootDir, async (guildId, runId) => !servesGuild(guildId) || (await this.#stillApplicable(guildId, runId)));
  }

  /** A succeeded plan run of this project (and guild) that has not expired. */
  async #stillApplicable(guildId: string, runId: number, projectId?: number): Promise<boolean> {
    const run = await this.runs.get(guildId, runId);
    const cutoff = this.clock.now() - this.ttlMs;
    return !!run && run.kind === 'plan' && run.status === 'succeeded' && (projectId === undefined || run.project_id === projectId) && run.created_at >= cutoff;
  }
}
