/**
 * The approval a guild's policy can require before a deployment applies. An approver is whoever is an admin at the
 * moment of the press (Manage Server, or a JIT Admin grant on the project's provider still in force), and never the
 * member who asked for the deployment.
 */
import type { AppContext } from '../app/context.js';
import { accessLostAt, type AccessLostAtStep } from '../jit/access-at-step.js';
import type { ConfirmedDeployment } from './deploy-service.js';
import type { Member } from './steps.js';

export type ApproverCheck = { may: true } | { may: false; reason: 'own_request' } | { may: false; reason: 'not_admin'; refusal: AccessLostAtStep };

/** A press on Approve or Reject, or null when nobody answered in time. */
export type ApprovalAnswer = { approved: boolean; by: Member } | null;

export type Approval = { approved: true } | { approved: false; reason: 'rejected'; by: string } | { approved: false; reason: 'expired' };

type Deps = Pick<AppContext, 'jit' | 'audit'> & { discard: (deployment: ConfirmedDeployment) => void };

/** What a press that did not count tells the approver. Kept here until refusals carry typed parameters. */
const PRESS_NOT_COUNTED = {
  outcome: 'Your press did not count: the deployment still waits for an admin’s approval.',
  afterwards: 'press Approve again while the request waits',
};

export class DeployApproval {
  constructor(private readonly deps: Deps) {}

  /** Whether `by` may answer the request now. A refused admin check is audited. */
  mayApprove(deployment: ConfirmedDeployment, by: Member): ApproverCheck {
    if (by.id === deployment.requester.id) return { may: false, reason: 'own_request' };
    const refusal = accessLostAt(this.deps, {
      guildId: deployment.guildId,
      provider: deployment.project.provider,
      action: 'deploy.approval',
      target: deployment.project.name,
      step: 'approve',
      participants: [{ userId: by.id, isGuildAdmin: by.isGuildAdmin, needed: 'admin', role: 'approver' }],
      ...PRESS_NOT_COUNTED,
      details: { resourceId: deployment.resource.id, requester: deployment.requester.id },
    });
    return refusal ? { may: false, reason: 'not_admin', refusal } : { may: true };
  }

  /**
   * Records the answer, which the front end took only from a press `mayApprove` let through (checked again here).
   * A rejected or expired request is discarded.
   */
  approve(deployment: ConfirmedDeployment, answer: ApprovalAnswer): Approval {
    if (answer?.approved && !this.mayApprove(deployment, answer.by).may) {
      // A front end that let a refused press through: nothing is applied on its word.
      this.deps.discard(deployment);
      throw new Error('an approval was answered by a member who may not approve it');
    }
    const approved = answer?.approved === true;
    this.deps.audit.record({
      guildId: deployment.guildId,
      userId: answer?.by.id ?? deployment.requester.id,
      action: 'deploy.approval',
      target: deployment.project.name,
      outcome: approved ? 'success' : 'denied',
      details: { resourceId: deployment.resource.id, answer: answer ? (answer.approved ? 'approve' : 'reject') : 'expired' },
    });
    if (approved) return { approved: true };
    this.deps.discard(deployment);
    return answer ? { approved: false, reason: 'rejected', by: answer.by.id } : { approved: false, reason: 'expired' };
  }
}
