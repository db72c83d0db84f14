/**
 * The steps every deployment takes once prepared, a built-in's or a template's: plan with live progress, Apply or
 * Cancel, access checked again at the press, then apply; or, when the policy asks for an admin's approval, the
 * request is recorded and posted, and the approving press applies it (commands/deploy/deploy-approval-buttons.ts).
 */
import type { Deployment, DeployService } from '../../src/deploy/deploy-service.js';
import type { Conversation } from '../../src/interaction/conversation.js';
import { approvalRequestedView } from '../views/approval.js';
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
  const step = await deploys.decide(planned.deployment, press.by);
  if (step.next === 'refused') return deliverResult(conversation, notAppliedView(planned.deployment, step.refusal));
  if (step.next === 'needs_approval') {
    // Recorded and posted with durable buttons: the approving press applies it, whenever it comes (after a restart too).
    const approval = await deploys.approvals.request(step.deployment);
    return deliverResult(conversation, approvalRequestedView(step.deployment, approval));
  }
  const applied = await deploys.apply(step.deployment, applyProgress(conversation, step.deployment));
  await deliverResult(conversation, applyOutcomeView(step.deployment, applied));
}
