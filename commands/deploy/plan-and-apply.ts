/**
 * The steps every deployment takes once prepared, a built-in's or a template's: plan with live progress, Apply or
 * Cancel, access checked again at the press, an admin's approval when the policy asks, then apply.
 */
import type { Deployment, DeployService } from '../../src/deploy/deploy-service.js';
import type { Conversation } from '../../src/interaction/conversation.js';
import { askAdminApproval, notApprovedView } from '../views/approval.js';
import { applyOutcomeView, applyProgress, notAppliedView, offerApply, planFailedView, planProgress, planRefusedByPolicyView } from '../views/deploy-steps.js';
import { deliverResult } from '../views/run-progress.js';

export async function planAndApply(conversation: Conversation, deploys: DeployService, deployment: Deployment): Promise<void> {
  const planned = await deploys.plan(deployment, planProgress(conversation, deployment));
  // In place of the progress message, so nobody is left looking at "Planning…"; a refused plan offers no Apply.
  if (!planned.ok) {
    if ('refusedByPolicy' in planned) return deliverResult(conversation, planRefusedByPolicyView(deployment, planned.refusedByPolicy));
    return deliverResult(conversation, planFailedView(deployment, planned.error));
  }

  const press = await offerApply(conversation, planned.deployment, (by) => deploys.mayConfirm(planned.deployment, by));
  if (press?.buttonId !== 'apply') return deploys.cancel(planned.deployment, press?.by);
  const step = deploys.decide(planned.deployment, press.by);
  if (step.next === 'refused') return deliverResult(conversation, notAppliedView(planned.deployment, step.refusal));
  if (step.next === 'needs_approval') {
    const answer = await askAdminApproval(conversation, step.deployment, (by) => deploys.approval.mayApprove(step.deployment, by));
    const approval = deploys.approval.approve(step.deployment, answer);
    if (!approval.approved) return deliverResult(conversation, notApprovedView(approval));
  }
  const applied = await deploys.apply(step.deployment, applyProgress(conversation, step.deployment));
  await deliverResult(conversation, applyOutcomeView(step.deployment, applied));
}
