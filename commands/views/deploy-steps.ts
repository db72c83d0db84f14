/** What /cloud-deploy shows at each step of a deployment (src/deploy/deploy-service.ts decides; this words it). */
import type { Applied, ConfirmedDeployment, Deployment, PlannedDeployment } from '../../src/deploy/deploy-service.js';
import type { ShowProgress } from '../../src/deploy/steps.js';
import type { AccessLostAtStep } from '../../src/jit/access-at-step.js';
import type { PlanDecision } from '../../src/policy/plan-policy.js';
import { defaultBootDiskGb } from '../../src/projects/boot-disk.js';
import type { ButtonChoice, Conversation, Message } from '../../src/interaction/conversation.js';
import type { UserError } from '../../src/shared/errors.js';
import { appliedView, deploymentLabel, failureView, planView } from './deploy.js';
import { code, command, member, text, type RichText } from './format.js';
import { planRefusedView } from './plan-policy.js';
import { withLiveProgress } from './run-progress.js';

/** How long the Apply and Cancel buttons wait. */
const APPLY_WINDOW_MS = 5 * 60_000;

/** What the progress and failure messages name: the project, the resource and the credential it runs with. */
type Shown = Pick<Deployment, 'project' | 'resource' | 'credentials'>;

/** The live progress of the deployment's plan, then of its apply, in the command's response. */
export function planProgress(conversation: Conversation, deployment: Shown): ShowProgress {
  // Which credential, before anything runs: a member who typed a secret at /cloud-init sees whether it is the one.
  return (run) => withLiveProgress(conversation, text`📝 Planning ${deploymentLabel(deployment.resource)} in ${deployment.project.name} with ${deployment.credentials.label}…`, run);
}

export function applyProgress(conversation: Conversation, deployment: Shown): ShowProgress {
  return (run) => withLiveProgress(conversation, text`🚀 Applying ${deploymentLabel(deployment.resource)} in ${deployment.project.name}…`, run);
}

export function planFailedView(deployment: Shown, error: UserError): Message {
  return failureView(text`❌ Plan for ${deployment.project.name} failed`, error.text);
}

/**
 * The plan breaks the guild's policy, shown in place of the Apply button. A VM asked for without `disk_size` has
 * the default boot disk: say so, as the member never typed the size the refusal names.
 */
export function planRefusedByPolicyView(deployment: Pick<Deployment, 'project' | 'request'>, decision: PlanDecision): Message {
  const { request, project } = deployment;
  const defaultDisk = request !== null && request.resourceType === 'vm' && request.diskSizeGb === undefined && decision.violations.some((v) => v.rule === 'disk');
  return planRefusedView(
    decision,
    defaultDisk ? text`No ${code('disk_size')} was given, so the VM gets the default boot disk of ${defaultBootDiskGb(project.provider)} GB.` : undefined,
  );
}

/** Shows the plan with Apply and Cancel; `mayPress` says who may answer. Null when nobody did in time. */
export function offerApply(conversation: Conversation, deployment: PlannedDeployment, mayPress: (by: ButtonChoice['by']) => boolean): Promise<ButtonChoice | null> {
  const { project, resource, plan, decision, advice } = deployment;
  const view = (footer?: RichText) => planView({ project, resource, plan, decision, advice, credentialLabel: deployment.credentials.label, footer });
  return conversation.offerButtons(
    { ...view(), buttons: [{ id: 'apply', label: 'Apply', style: 'success' }, { id: 'cancel', label: 'Cancel', style: 'secondary' }] },
    {
      where: 'response',
      timeoutMs: APPLY_WINDOW_MS,
      authorize: (by) => (mayPress(by) ? null : 'Only the member who asked for this deployment, or a server admin, can apply or cancel it.'),
      settled: (pressed) =>
        view(!pressed ? text`⌛ Not applied: the buttons expired. Run ${command('deploy')} again.` : pressed.buttonId === 'apply' ? confirmedFooter(decision.requiresApproval, pressed.by.id) : text`✖️ Cancelled by ${member(pressed.by.id)}.`),
    },
  );
}

/** After Apply was pressed: applying now, or (the policy asks for one) waiting for an admin's approval. */
function confirmedFooter(requiresApproval: boolean, confirmedBy: string): RichText {
  return requiresApproval
    ? text`☑️ Confirmed by ${member(confirmedBy)}; waiting for an admin's approval.`
    : text`▶️ Applying (confirmed by ${member(confirmedBy)})…`;
}

export function notAppliedView(deployment: Shown, refusal: AccessLostAtStep): Message {
  return failureView(text`⛔ Not applied: ${deployment.project.name}`, refusal.text);
}

export function applyOutcomeView(deployment: ConfirmedDeployment, applied: Applied): Message {
  switch (applied.outcome) {
    case 'applied':
      return appliedView(deployment.project, applied.resource, applied.result, deployment.requester.id);
    case 'refused_by_policy':
      return planRefusedByPolicyView(deployment, applied.decision);
    case 'access_lost':
      return notAppliedView(deployment, applied.refusal);
    case 'failed':
      return failureView(`❌ Deployment of ${deploymentLabel(deployment.resource)} #${deployment.resource.id} failed`, applied.error.text);
  }
}
