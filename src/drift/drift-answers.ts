/**
 * The answers to a drift report, from its buttons: Accept (the state takes the cloud's values: `apply -refresh-only`),
 * Plan to reconcile (a normal plan of what is deployed, held to the guild's policy like any deployment's plan), and
 * Apply of that plan. Each press is checked at its moment: a server admin, the check of this guild, its report still
 * standing (and for Apply, the plan it made). Every answer is in the audit log (`drift.accept`, `drift.reconcile.*`).
 */
import type { Member } from '../deploy/steps.js';
import type { PlanDecision } from '../policy/plan-policy.js';
import { MAY_EXIST_IN_CLOUD } from '../projects/resource-statuses.js';
import { isUserError, type UserError } from '../shared/errors.js';
import type { PlannedResource } from '../policy/planned-resources.js';
import type { DriftTargetLabel } from './drift-notices.js';
import type { DriftCheck } from './drift-repository.js';
import { labelOf, liveTarget, requireAdmin, runRequest, type DriftDeps, type LiveTarget } from './drift-targets.js';
import { DriftCheckNotFound, DriftReconcileRefused, DriftReportClosed, DriftStepUnavailable } from './errors.js';
import { readPlannedResources } from '../deploy/approval-plan.js';

export interface PressInput {
  /** The guild the press came from; a press elsewhere (a DM) names no check. */
  guildId: string;
  checkId: number;
  presser: Member;
}

/** A check whose report stands, with its workspace as it is now. */
export interface StandingReport {
  check: DriftCheck & { driftRunId: number };
  target: LiveTarget;
}

export type Accepted = { ok: true; runId: number; label: DriftTargetLabel } | { ok: false; error: UserError; standing: StandingReport };

export type ReconcilePlanned =
  | { ok: true; runId: number; label: DriftTargetLabel; changes: { create: number; update: number; replace: number; delete: number }; decision: PlanDecision }
  | { ok: false; refusedByPolicy: PlanDecision; standing: StandingReport }
  | { ok: false; error: UserError; standing: StandingReport };

export type Reconciled = { ok: true; runId: number; label: DriftTargetLabel } | { ok: false; error: UserError; standing: StandingReport };

export class DriftAnswers {
  constructor(private readonly deps: DriftDeps) {}

  /**
   * The report a press acts on, read now: the presser a server admin, the check this guild's, its report standing.
   * @throws DriftAdminOnly, DriftCheckNotFound (also another guild's check), DriftReportClosed.
   */
  async standing(input: PressInput, action: string): Promise<StandingReport> {
    requireAdmin(this.deps, input.guildId, input.presser, action);
    const check = await this.deps.checks.get(input.guildId, input.checkId);
    if (!check) throw new DriftCheckNotFound(`#${input.checkId}`);
    const target = await liveTarget(this.deps, check);
    if (!target) throw new DriftReportClosed((await labelOf(this.deps, check)).project, 'its project or deployment is gone');
    // A later check that could not run leaves the report standing: it said nothing about the drift.
    if (check.driftRunId === null) throw new DriftReportClosed(target.label.project, 'the drift was accepted, reconciled, or a later check found none');
    return { check: { ...check, driftRunId: check.driftRunId }, target };
  }

  /** Accept: refresh the state from the cloud, so it records what is there now. */
  async accept(input: PressInput): Promise<Accepted> {
    const standing = await this.standing(input, 'drift.accept');
    const { check, target } = standing;
    const details = { checkId: check.id, checkRunId: check.driftRunId, resources: check.report?.resources.map((r) => r.address) ?? [] };
    try {
      const credentials = await this.deps.credentialsFor(target.project);
      const result = await this.deps.runner.drift.refresh(await runRequest(this.deps, target, input.presser.id, credentials));
      await this.deps.checks.markAccepted(input.guildId, check.id, this.deps.clock.now());
      this.#audit(input, target, 'drift.accept', 'success', { ...details, runId: result.runId });
      return { ok: true, runId: result.runId, label: target.label };
    } catch (error) {
      this.#audit(input, target, 'drift.accept', 'failed', details);
      if (!isUserError(error)) throw error;
      return { ok: false, error, standing };
    }
  }

  /** Plan to reconcile: plan what is deployed, then the guild's policy on what that plan keeps and makes. */
  async planReconcile(input: PressInput): Promise<ReconcilePlanned> {
    const standing = await this.standing(input, 'drift.reconcile.plan');
    const { check, target } = standing;
    if (check.reconcilePlanRunId !== null) await this.deps.runner.discardPlan(input.guildId, check.reconcilePlanRunId);
    await this.deps.checks.setReconcilePlan(input.guildId, check.id, null, this.deps.clock.now());
    let plan;
    try {
      const credentials = await this.deps.credentialsFor(target.project);
      plan = await this.deps.runner.drift.planReconcile(await runRequest(this.deps, target, input.presser.id, credentials));
    } catch (error) {
      this.#audit(input, target, 'drift.reconcile.plan', 'failed', { checkId: check.id });
      if (!isUserError(error)) throw error;
      return { ok: false, error, standing };
    }
    const decision = await this.deps.policies.checkPlan({
      guildId: input.guildId,
      provider: target.project.provider,
      planned: plan.plannedResources,
      alreadyCounted: await this.#counted(target, plan.plannedResources),
    });
    if (!decision.allowed) {
      await this.deps.runner.discardPlan(input.guildId, plan.runId);
      this.#audit(input, target, 'drift.reconcile.plan', 'denied', { checkId: check.id, planRunId: plan.runId, rules: decision.violations.map((v) => v.rule) });
      return { ok: false, refusedByPolicy: decision, standing };
    }
    await this.deps.checks.setReconcilePlan(input.guildId, check.id, plan.runId, this.deps.clock.now(), JSON.stringify(plan.plannedResources));
    this.#audit(input, target, 'drift.reconcile.plan', 'success', { checkId: check.id, planRunId: plan.runId, requiresApproval: decision.requiresApproval });
    const { counts } = plan.summary;
    return { ok: true, runId: plan.runId, label: target.label, changes: { create: counts.create, update: counts.update, replace: counts.replace, delete: counts.delete }, decision };
  }

  /**
   * Apply of the reconcile plan the report offers. The plan is applied exactly as shown (the runner checks its file),
   * if the guild's policy as it is at the press still allows it; an admin's press is the approval a policy may ask for. @throws DriftStepUnavailable when no plan is offered.
   */
  async applyReconcile(input: PressInput): Promise<Reconciled> {
    const standing = await this.standing(input, 'drift.reconcile.apply');
    const { check, target } = standing;
    const planRunId = check.reconcilePlanRunId;
    // Taken now: whatever happens, this plan is offered only once (a press that lost the race to another finds none).
    if (planRunId === null || !(await this.deps.checks.takeReconcilePlan(input.guildId, check.id, planRunId, this.deps.clock.now()))) {
      throw new DriftStepUnavailable('There is no reconcile plan to apply: press Plan to reconcile first.');
    }
    // The policy as it is now, not as it was at the plan: it may have been tightened while the button waited.
    const planned = check.reconcilePlanned === null ? undefined : readPlannedResources(check.reconcilePlanned);
    const decision = planned && (await this.deps.policies.checkPlan({ guildId: input.guildId, provider: target.project.provider, planned, alreadyCounted: await this.#counted(target, planned) }));
    if (!decision?.allowed) {
      await this.deps.runner.discardPlan(input.guildId, planRunId);
      const rules = decision ? decision.violations.map((v) => v.rule) : ['plan_unreadable'];
      this.#audit(input, target, 'drift.reconcile.apply', 'denied', { checkId: check.id, planRunId, rules });
      return { ok: false, error: new DriftReconcileRefused(rules), standing: { ...standing, check: { ...check, reconcilePlanRunId: null } } };
    }
    try {
      const credentials = await this.deps.credentialsFor(target.project);
      const request = await runRequest(this.deps, target, input.presser.id, credentials);
      const result = await this.deps.runner.apply({ ...request, planRunId });
      await this.deps.checks.markReconciled(input.guildId, check.id, this.deps.clock.now());
      this.#audit(input, target, 'drift.reconcile.apply', 'success', { checkId: check.id, planRunId, runId: result.runId, approvedBy: input.presser.id });
      return { ok: true, runId: result.runId, label: target.label };
    } catch (error) {
      await this.deps.runner.discardPlan(input.guildId, planRunId);
      this.#audit(input, target, 'drift.reconcile.apply', 'failed', { checkId: check.id, planRunId });
      if (!isUserError(error)) throw error;
      return { ok: false, error, standing: { ...standing, check: { ...check, reconcilePlanRunId: null } } };
    }
  }

  /** What the guild's figures already count for this workspace: a reconcile plan keeps it, it does not add it. */
  async #counted(target: LiveTarget, planned: readonly PlannedResource[]): Promise<{ monthlyUsd: number; vms: number }> {
    if (target.deployment) return { monthlyUsd: target.deployment.estimatedMonthlyCost, vms: planned.filter((p) => p.category === 'vm').length };
    const rows = (await this.deps.resources.listByProject(target.project.guildId, target.project.id)).filter((r) => r.workspace === null && MAY_EXIST_IN_CLOUD.includes(r.status));
    return { monthlyUsd: rows.reduce((sum, r) => sum + r.estimatedMonthlyCost, 0), vms: rows.filter((r) => r.resourceType === 'vm').length };
  }

  #audit(input: PressInput, target: LiveTarget, action: string, outcome: 'success' | 'failed' | 'denied', details: Record<string, unknown>): void {
    this.deps.audit.record({ guildId: input.guildId, userId: input.presser.id, action, target: target.label.project, outcome, details: { deploymentId: target.deployment?.id, ...details } });
  }
}
