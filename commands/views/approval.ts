import type { ApprovalAnswer, Approval, ApproverCheck } from '../../src/deploy/deploy-approval.js';
import type { ConfirmedDeployment } from '../../src/deploy/deploy-service.js';
import type { Actor, Conversation, Message } from '../../src/interaction/conversation.js';
import { failureView } from './deploy.js';
import { command, join, member, money, strong, text, toText, type RichText } from './format.js';

/** How long admins have to answer; past the interaction token's life the result goes to the channel. */
const APPROVAL_WINDOW_MS = 30 * 60_000;

/**
 * Posts the approval request to the channel with Approve and Reject; `mayApprove` (the service's rule) decides who
 * may press. Null when nobody answered in time.
 */
export async function askAdminApproval(
  conversation: Conversation,
  deployment: ConfirmedDeployment,
  mayApprove: (by: Actor) => ApproverCheck,
): Promise<ApprovalAnswer> {
  const { project, resource, requester } = deployment;
  const projectName = project.name;
  const { estimate, approvalReasons, notEstimated } = deployment.decision;
  const monthlyUsd = estimate.monthlyUsd;
  const why = [
    approvalReasons.includes('policy') ? text`This server’s policy requires an admin’s approval.` : undefined,
    approvalReasons.includes('unpriced')
      ? text`${notEstimated.length} of its resources could not be estimated, and this server’s policy requires an admin’s approval for that.`
      : undefined,
  ];
  const request = {
    notices: [
      {
        title: '🛂 Approval needed',
        tone: 'warning' as const,
        description: text`${member(requester.id)} wants to deploy ${resource.resourceType === null ? text`template ${strong(resource.template)}` : text`a ${resource.resourceType}${resource.instanceType ? text` (${resource.instanceType})` : undefined}`} in ${strong(projectName)}, about ${money(monthlyUsd)}/month${notEstimated.length ? ' (what could be estimated)' : undefined}. ${join(why, ' ')}`,
      },
    ],
  };
  const decision = await conversation.offerButtons(
    { ...request, buttons: [{ id: 'approve', label: 'Approve', style: 'success' }, { id: 'reject', label: 'Reject', style: 'danger' }] },
    {
      where: 'channel',
      timeoutMs: APPROVAL_WINDOW_MS,
      authorize: (by) => approverRefusal(mayApprove(by)),
      settled: (pressed) => ({
        notices: [
          {
            ...request.notices[0]!,
            title: !pressed ? '⌛ Approval request expired' : pressed.buttonId === 'approve' ? '✅ Approved' : '⛔ Rejected',
            description: text`${request.notices[0]!.description}\n\n${pressed ? text`${pressed.buttonId === 'approve' ? 'Approved' : 'Rejected'} by ${member(pressed.by.id)}.` : text`Nobody answered in time.`}`,
          },
        ],
      }),
    },
  );
  return decision ? { approved: decision.buttonId === 'approve', by: decision.by } : null;
}

function approverRefusal(check: ApproverCheck): RichText | null {
  if (check.may) return null;
  if (check.reason === 'own_request') return 'You cannot approve your own deployment: another admin must.';
  return text`Only server admins, or members with Admin access to this project’s provider, can approve deployments. ${toText(check.refusal.text)}`;
}

export function notApprovedView(approval: Exclude<Approval, { approved: true }>): Message {
  return failureView('⛔ Not deployed', approval.reason === 'rejected' ? text`An admin (${member(approval.by)}) rejected the deployment.` : text`No admin approved it within 30 minutes. Run ${command('deploy')} again.`);
}
