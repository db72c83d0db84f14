/**
 * The approval a guild's policy can require before a deployment applies, kept in the database so a reviewer's press
 * works whenever it comes, after a restart too. An approver is whoever is an admin at the moment of the press (Manage
 * Server, or a JIT Admin grant on the project's provider still in force), and never the member who asked for the
 * deployment. At the press everything is read and checked again: the record (this guild's, still pending), the
 * approver, the resource row, the plan file (still applicable, the very file shown), the credential it will run
 * with, and the guild's policy and budget as they are now.
 */
import type { AppContext } from '../app/context.js';
import type { IacRunner, PlanResult } from '../engine/runner.js';
import type { PostedMessage } from '../notify/notifier.js';
import { accessLostAt } from '../jit/access-at-step.js';
import type { PlanDecision } from '../policy/plan-policy.js';
import type { DeploymentRequest } from '../policy/policy-service.js';
import type { Project } from '../projects/project-repository.js';
import { isUserError, UserError } from '../shared/errors.js';
import { text } from '../shared/text.js';
import { ApprovalClosed, ApprovalNeedsCredentials, ApprovalNotFound, ApprovalRefused } from './approval-errors.js';
import { approvalCard } from './approval-notices.js';
import type { ApprovalCardEdits } from './approval-card-edits.js';
import type { ApprovalNoticeOutbox, ApprovalNoticeResult } from './approval-outbox.js';
import type { AuditWriter } from '../audit/audit-writer.js';
import type { CloseReason, DeployApprovalRecord, DeployApprovalRepository, DeployApprovalUnits } from './approval-repository.js';
import { readPlannedResources } from './approval-plan.js';
import type { ConfirmedDeployment, Discardable } from './deploy-service.js';
import { planCheckOf } from './plan-check.js';
import type { RunCredentials } from './run-credentials.js';
import { asEngineEnv, type SensitiveInputs } from './sensitive-inputs.js';
import type { Member } from './steps.js';

/**
 * The approvals' table, their notices' outbox (shared by presses and the janitor), the edits showing a card closed
 * when no press on it did (the janitor's), and how long one waits.
 */
export interface DeployApprovalStore {
  /** The approvals outside a transaction (reads, and the outboxes' marks). */
  records: DeployApprovalRepository;
  /** A decision with its audit entry, in one transaction. */
  units: DeployApprovalUnits;
  outbox: ApprovalNoticeOutbox;
  cardEdits: ApprovalCardEdits;
  /** DEPLOY_APPROVAL_TTL_MINUTES; never past the plan's own lifetime. */
  ttlMs: number;
}

export type ApproverCheck = { may: true } | { may: false; error: ApprovalRefused };

/** What an Approve press led to. Anything but `approved` has closed the request and discarded its plan. */
export type ApprovalOutcome =
  | { outcome: 'approved'; approval: DeployApprovalRecord; deployment: ConfirmedDeployment }
  | { outcome: 'refused_by_policy'; approval: DeployApprovalRecord; decision: PlanDecision }
  | { outcome: 'closed'; approval: DeployApprovalRecord; why: UserError };

type Deps = Pick<AppContext, 'jit' | 'audit' | 'clock' | 'projects' | 'resources' | 'policies' | 'reservations' | 'notifier' | 'deployApprovals'> & {
  runner: Pick<IacRunner, 'savedPlan'>;
  credentialsFor: (project: Project, credential: string | undefined) => Promise<RunCredentials>;
  /** Never rejects (see DeployService.discard). */
  discard: (deployment: Discardable) => Promise<void>;
  sensitiveInputs: Pick<SensitiveInputs, 'read'>;
};

/** What a press that did not count tells the approver. */
const PRESS_NOT_COUNTED = {
  outcome: 'Your press did not count: the deployment still waits for an admin’s approval.',
  afterwards: 'press Approve again while the request waits',
};

export class DeployApprovals {
  constructor(private readonly deps: Deps) {}

  /**
   * Records the request of a confirmed deployment and posts its card, with Approve and Reject, in the channel it was
   * asked in. It waits DEPLOY_APPROVAL_TTL_MINUTES, or less when its plan expires sooner.
   * @throws PlanNotApplicable; UserError when the card cannot be posted (then nothing waits and the plan is discarded).
   */
  async request(deployment: ConfirmedDeployment): Promise<DeployApprovalRecord> {
    const { guildId, project, resource, plan, decision } = deployment;
    const { records, units, ttlMs } = this.deps.deployApprovals;
    if (!deployment.channelId) throw new Error('a deployment approval needs the channel the deployment was asked in');
    let saved: Awaited<ReturnType<Deps['runner']['savedPlan']>>;
    try {
      saved = await this.deps.runner.savedPlan(guildId, project.slug, plan.runId);
    } catch (error) {
      await this.deps.discard(deployment);
      throw error;
    }
    const now = this.deps.clock.now();
    const approval = await units.transaction(async (tx) => {
      const created = await tx.approvals.insert({
        guildId,
        projectId: project.id,
        resourceId: resource.id,
        planRunId: plan.runId,
        planSha256: saved.stored.planSha256,
        plannedResourcesJson: JSON.stringify(plan.plannedResources),
        requester: deployment.requester,
        confirmedBy: deployment.confirmedBy,
        credential: deployment.credentialChoice ?? null,
        credentialLabel: deployment.credentials.label,
        channelId: deployment.channelId!,
        requestedAt: now,
        expiresAt: Math.min(now + ttlMs, saved.expiresAt),
      });
      await this.#audit(project.name, created, deployment.requester.id, 'deploy.approval.request', 'success', { reasons: decision.approvalReasons, expiresAt: created.expiresAt }, tx.audit);
      return created;
    });
    const facts = { projectName: project.name, resource, reasons: { approvalReasons: decision.approvalReasons, notEstimated: decision.notEstimated.length } };
    let posted: PostedMessage;
    try {
      posted = await this.deps.notifier.sendToChannel(approval.channelId, approvalCard(approval, facts));
    } catch (error) {
      await units.transaction(async (tx) => {
        await tx.approvals.decide(guildId, approval.id, { status: 'expired', by: null, at: this.deps.clock.now(), notify: false });
        await this.#audit(project.name, approval, deployment.requester.id, 'deploy.approval.request', 'failed', { reason: 'not_posted', error: error instanceof Error ? error.name : 'unknown' }, tx.audit);
      });
      await this.deps.discard(deployment);
      throw new UserError(
        'deploy.approval_not_posted',
        'The approval request could not be posted in this channel (the bot may not be allowed to post here), so nothing waits and the plan was discarded. Ask a server admin to check the bot’s permissions, then deploy again.',
      );
    }
    // Kept so that a close without a press on the card (the janitor's expiry) can show it closed.
    await records.recordCard(guildId, approval.id, posted);
    return { ...approval, card: posted };
  }

  /** Whether `by` may answer the request now (Approve or Reject). A refused admin check is audited. */
  async mayApprove(approval: DeployApprovalRecord, provider: Project['provider'], by: Member): Promise<ApproverCheck> {
    if (by.id === approval.requester.id) return { may: false, error: new ApprovalRefused('own_request') };
    const refusal = await accessLostAt(this.deps, {
      guildId: approval.guildId,
      provider,
      action: 'deploy.approval',
      target: (await this.#projectOf(approval)).name,
      step: 'approve',
      participants: [{ userId: by.id, isGuildAdmin: by.isGuildAdmin, needed: 'admin', role: 'approver' }],
      ...PRESS_NOT_COUNTED,
      details: { approvalId: approval.id, resourceId: approval.resourceId, requester: approval.requester.id },
    });
    return refusal ? { may: false, error: new ApprovalRefused('not_admin', refusal.text) } : { may: true };
  }

  /**
   * Approve pressed by `reviewer`. Checks everything again, then closes the request as approved (once: a second
   * press or reviewer finds it closed) and returns the deployment to apply, with the policy's decision of now.
   * @throws ApprovalNotFound (also another guild's), ApprovalClosed, ApprovalRefused, ApprovalNeedsCredentials (it keeps waiting).
   */
  async approve(input: { guildId: string; approvalId: number; reviewer: Member }): Promise<ApprovalOutcome> {
    const approval = await this.#openForReview(input.guildId, input.approvalId, input.reviewer);
    const { policies, reservations, clock } = this.deps;
    const { units } = this.deps.deployApprovals;
    const project = await this.#projectOf(approval);
    const resource = await this.deps.resources.get(approval.guildId, approval.resourceId);
    const discardable: Discardable = { guildId: approval.guildId, project, resource, plan: { runId: approval.planRunId } };
    if (project.status === 'archived' || resource.status !== 'planned') return this.#close(approval, discardable, 'refused', 'resource_gone', input.reviewer.id);
    let plan: PlanResult;
    try {
      plan = await this.#planOf(approval, project, resource.estimatedMonthlyCost);
    } catch (error) {
      if (!isUserError(error)) throw error;
      const changed = error.code === 'deploy.approval_plan_changed';
      return this.#close(approval, discardable, changed ? 'refused' : 'expired', 'plan_gone', input.reviewer.id, error);
    }
    let credentials: RunCredentials;
    try {
      credentials = await this.deps.credentialsFor(project, approval.credential ?? undefined);
    } catch (error) {
      if (!isUserError(error)) throw error;
      this.#audit(project.name, approval, input.reviewer.id, 'deploy.approval', 'failed', { reason: 'no_credentials', code: error.code });
      throw new ApprovalNeedsCredentials(approval.id, error.text);
    }
    // Never another credential than the plan's (a guild default standing in for an ended session): another account.
    if (credentials.label !== approval.credentialLabel) {
      this.#audit(project.name, approval, input.reviewer.id, 'deploy.approval', 'failed', { reason: 'credential_changed' });
      throw new ApprovalNeedsCredentials(approval.id, text`it was planned with ${approval.credentialLabel}, which is not available now (it would run with ${credentials.label}).`);
    }
    // A template deployment's secret inputs join the run's environment (and so its redaction) while the session
    // still holds them; the plan file carries their values for the apply either way.
    const secrets = resource.workspace ? await this.deps.sensitiveInputs.read(project, resource) : undefined;
    if (secrets) credentials = { ...credentials, env: { ...credentials.env, ...asEngineEnv(secrets) } };
    const request: DeploymentRequest | null =
      resource.resourceType === null
        ? null
        : { provider: project.provider, resourceType: resource.resourceType, instanceType: resource.instanceType ?? undefined, diskSizeGb: resource.diskSizeGb ?? undefined };
    const decision = await policies.checkPlan(planCheckOf({ guildId: approval.guildId, project, request, plan }, await reservations.reservedFor(approval.guildId)));
    if (!decision.allowed) {
      const closed = await this.#close(approval, discardable, 'refused', 'policy', input.reviewer.id, undefined, { rules: decision.violations.map((v) => v.rule) });
      return { outcome: 'refused_by_policy', approval: closed.approval, decision };
    }
    const decided = await units.transaction(async (tx) => {
      const row = await tx.approvals.decide(approval.guildId, approval.id, { status: 'approved', by: input.reviewer.id, at: clock.now(), notify: true });
      if (row) await this.#audit(project.name, row, input.reviewer.id, 'deploy.approval', 'success', { answer: 'approve', planRunId: approval.planRunId }, tx.audit);
      return row;
    });
    if (!decided) throw await this.#closedNow(approval);
    const deployment: ConfirmedDeployment = {
      guildId: approval.guildId,
      requester: approval.requester,
      channelId: approval.channelId,
      project,
      resource,
      request,
      credentials,
      credentialChoice: approval.credential ?? undefined,
      plan,
      decision,
      advice: [],
      confirmedBy: approval.confirmedBy,
    };
    return { outcome: 'approved', approval: decided, deployment };
  }

  /** Reject pressed: the request is closed and its plan discarded. Same reviewers as Approve. */
  async reject(input: { guildId: string; approvalId: number; reviewer: Member }): Promise<DeployApprovalRecord> {
    const approval = await this.#openForReview(input.guildId, input.approvalId, input.reviewer);
    const project = await this.#projectOf(approval);
    const resource = await this.deps.resources.get(approval.guildId, approval.resourceId);
    const { clock } = this.deps;
    const { units } = this.deps.deployApprovals;
    const decided = await units.transaction(async (tx) => {
      const row = await tx.approvals.decide(approval.guildId, approval.id, { status: 'rejected', by: input.reviewer.id, at: clock.now(), notify: true });
      if (row) await this.#audit(project.name, row, input.reviewer.id, 'deploy.approval', 'denied', { answer: 'reject', planRunId: approval.planRunId }, tx.audit);
      return row;
    });
    if (!decided) throw await this.#closedNow(approval);
    await this.deps.discard({ guildId: approval.guildId, project, resource, plan: { runId: approval.planRunId } });
    return decided;
  }

  /** Throws away the plan (and the still-planned row) of a request closed without applying (the janitor's expiry). */
  async discardPlanOf(approval: DeployApprovalRecord): Promise<void> {
    const project = await this.#projectOf(approval);
    const resource = await this.deps.resources.get(approval.guildId, approval.resourceId);
    await this.deps.discard({ guildId: approval.guildId, project, resource, plan: { runId: approval.planRunId } });
  }

  /** The request's card as it stands (for a press to refresh the message it is on). */
  async card(approval: DeployApprovalRecord) {
    return approvalCard(approval, await this.deps.deployApprovals.outbox.factsOf(approval));
  }

  /** Sends the requester the notice queued with a decision (the janitor sends it later if this cannot). */
  tellRequester(approvalId: number): Promise<ApprovalNoticeResult> {
    return this.deps.deployApprovals.outbox.deliver(approvalId);
  }

  /** The request, if it is open and `reviewer` may decide it now. */
  async #openForReview(guildId: string, approvalId: number, reviewer: Member): Promise<DeployApprovalRecord> {
    const approval = await this.deps.deployApprovals.records.findInGuild(guildId, approvalId);
    if (!approval) throw new ApprovalNotFound(approvalId);
    if (approval.status !== 'pending' || approval.expiresAt <= this.deps.clock.now()) throw await this.#closedNow(approval);
    const project = await this.#projectOf(approval);
    const check = await this.mayApprove(approval, project.provider, reviewer);
    if (!check.may) {
      if (check.error.reason === 'own_request') this.#audit(project.name, approval, reviewer.id, 'deploy.approval', 'denied', { reason: 'own_request' });
      throw check.error;
    }
    return approval;
  }

  /** Exactly the plan shown: still applicable, its file's digest the one recorded, its resources as read then. */
  async #planOf(approval: DeployApprovalRecord, project: Project, estimatedMonthlyCost: number): Promise<PlanResult> {
    const saved = await this.deps.runner.savedPlan(approval.guildId, project.slug, approval.planRunId);
    const plannedResources = readPlannedResources(approval.plannedResourcesJson);
    if (saved.fileSha256 !== approval.planSha256 || saved.stored.planSha256 !== approval.planSha256 || !plannedResources) {
      throw new UserError('deploy.approval_plan_changed', text`Plan #${approval.planRunId} changed since it was shown, so it is not the one asked to approve.`);
    }
    return {
      runId: approval.planRunId,
      engine: { name: saved.engine, version: saved.stored.plan.engineVersion ?? '' },
      summary: saved.stored.plan,
      resourceAddresses: saved.stored.resourceAddresses,
      plannedResources,
      estimatedMonthlyCost,
      warnings: [],
    };
  }

  /** Closes the request without an admin's answer (a check at the press failed), discards its plan, says why. */
  async #close(
    approval: DeployApprovalRecord,
    discardable: Discardable,
    status: 'refused' | 'expired',
    reason: CloseReason,
    by: string,
    why?: UserError,
    details: Record<string, unknown> = {},
  ): Promise<Extract<ApprovalOutcome, { outcome: 'closed' }>> {
    const { clock } = this.deps;
    const { units } = this.deps.deployApprovals;
    const closed = await units.transaction(async (tx) => {
      const row = await tx.approvals.decide(approval.guildId, approval.id, { status, by, at: clock.now(), reason, notify: true });
      if (row) await this.#audit(discardable.project.name, row, by, 'deploy.approval', 'denied', { reason, ...details }, tx.audit);
      return row;
    });
    if (!closed) throw await this.#closedNow(approval);
    await this.deps.discard(discardable);
    const said =
      why ??
      new UserError(`deploy.approval_${reason}`, reason === 'policy' ? 'The plan no longer meets this server’s policy.' : 'The deployment this approval was for is gone (destroyed, or its project forgotten).');
    return { outcome: 'closed', approval: closed, why: said };
  }

  /** The refusal for a request someone else closed (or that expired), as it stands now. */
  async #closedNow(approval: DeployApprovalRecord): Promise<ApprovalClosed> {
    const now = (await this.deps.deployApprovals.records.findInGuild(approval.guildId, approval.id)) ?? approval;
    return new ApprovalClosed(now.status === 'pending' ? { ...now, status: 'expired' } : now);
  }

  #projectOf(approval: DeployApprovalRecord): Promise<Project> {
    return this.deps.projects.getById(approval.guildId, approval.projectId, { includeArchived: true });
  }

  /**
   * Audits at once, or with the unit of work whose writer is `writer` (so the entry commits with the decision).
   * `projectName`: the entry's target, read before (entries are written inside the records' transactions).
   */
  #audit(
    projectName: string,
    approval: DeployApprovalRecord,
    userId: string,
    action: string,
    outcome: 'success' | 'failed' | 'denied',
    details: Record<string, unknown>,
    writer: Pick<AuditWriter, 'record'> = this.deps.audit,
  ): unknown {
    return writer.record({
      guildId: approval.guildId,
      userId,
      action,
      target: projectName,
      outcome,
      details: { approvalId: approval.id, resourceId: approval.resourceId, requester: approval.requester.id, ...details },
    });
  }
}

