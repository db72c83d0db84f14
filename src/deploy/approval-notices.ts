/**
 * The words (and durable buttons) of deployment approvals: the card reviewers see in the channel, and what the
 * requester is told once it is decided, refused by a check at the press, or expired. One place, so the card posted
 * at the request and the card a press refreshes after a restart say the same.
 */
import { durableId } from '../interaction/durable-components.js';
import type { DurableButton, Notice } from '../notify/notifier.js';
import type { ApprovalReason } from '../policy/plan-policy.js';
import type { Resource } from '../projects/resource-repository.js';
import { command, join, member, money, strong, text, time, type Text } from '../shared/text.js';
import type { DeployApprovalRecord } from './approval-repository.js';

/** Custom ids `deployapr:<action>:<approvalId>`: Approve and Reject on an approval card. */
export const APPROVAL_NAMESPACE = 'deployapr';

export const approvalIds = {
  approve: (approvalId: number) => durableId(APPROVAL_NAMESPACE, 'approve', approvalId),
  reject: (approvalId: number) => durableId(APPROVAL_NAMESPACE, 'reject', approvalId),
};

/** What a card names besides the record: read when the card is made (or refreshed). */
export interface ApprovalFacts {
  projectName: string;
  resource: Pick<Resource, 'resourceType' | 'instanceType' | 'template' | 'estimatedMonthlyCost'>;
  /** Known when the request is made; a card refreshed later leaves them out. */
  reasons?: { approvalReasons: readonly ApprovalReason[]; notEstimated: number };
}

function what(facts: ApprovalFacts): Text {
  const { resource } = facts;
  return resource.resourceType === null
    ? text`template ${strong(resource.template)}`
    : text`a ${resource.resourceType}${resource.instanceType ? text` (${resource.instanceType})` : undefined}`;
}

function asked(approval: DeployApprovalRecord, facts: ApprovalFacts): Text {
  const notEstimated = facts.reasons?.notEstimated ?? 0;
  return text`${member(approval.requester.id)} wants to deploy ${what(facts)} in ${strong(facts.projectName)}, about ${money(facts.resource.estimatedMonthlyCost)}/month${notEstimated ? ' (what could be estimated)' : undefined}.`;
}

function why(facts: ApprovalFacts): Text | undefined {
  const reasons = facts.reasons;
  if (!reasons) return undefined;
  return join(
    [
      reasons.approvalReasons.includes('policy') ? text`This server’s policy requires an admin’s approval.` : undefined,
      reasons.approvalReasons.includes('unpriced')
        ? text`${reasons.notEstimated} of its resources could not be estimated, and this server’s policy requires an admin’s approval for that.`
        : undefined,
    ],
    ' ',
  );
}

/** How a closed request ended, in one sentence. */
export function approvalOutcomeLine(approval: DeployApprovalRecord): Text {
  const by = approval.decidedBy ? member(approval.decidedBy) : text`an admin`;
  switch (approval.status) {
    case 'approved':
      return text`Approved by ${by}.`;
    case 'rejected':
      return text`Rejected by ${by}.`;
    case 'expired':
      return approval.closeReason === 'plan_gone'
        ? text`Closed: its plan can no longer be applied (it expired or was discarded).`
        : text`Expired: nobody approved it by ${time(approval.expiresAt, 'datetime')}.`;
    case 'refused':
      return approval.closeReason === 'policy'
        ? text`Not applied: the plan no longer meets this server’s policy (checked when ${by} pressed Approve).`
        : text`Not applied: ${approval.closeReason === 'resource_gone' ? 'the deployment it was for is gone' : 'its plan changed or disappeared since it was shown'}.`;
    case 'pending':
      return text`Waiting for an admin until ${time(approval.expiresAt)}.`;
  }
}

/** The card in the channel: Approve and Reject while pending, how it ended once closed. */
export function approvalCard(approval: DeployApprovalRecord, facts: ApprovalFacts): Notice {
  if (approval.status === 'pending') {
    const buttons: DurableButton[] = [
      { customId: approvalIds.approve(approval.id), label: 'Approve', style: 'success' },
      { customId: approvalIds.reject(approval.id), label: 'Reject', style: 'danger' },
    ];
    return {
      title: `🛂 Approval needed: deployment approval #${approval.id}`,
      tone: 'warning',
      description: join([asked(approval, facts), why(facts), text`\n\nServer admins and members with Admin access to this project’s provider may approve; the requester may not. ${approvalOutcomeLine(approval)}`], ' '),
      buttons,
    };
  }
  const icon = approval.status === 'approved' ? '✅' : approval.status === 'rejected' ? '⛔' : approval.status === 'expired' ? '⌛' : '🚫';
  return {
    title: `${icon} Deployment approval #${approval.id}`,
    tone: approval.status === 'approved' ? 'success' : approval.status === 'expired' ? 'info' : 'danger',
    description: text`${asked(approval, facts)}\n\n${approvalOutcomeLine(approval)}`,
  };
}

/**
 * What the requester is told once the request is closed. `viaChannel` words it for the channel, used when the
 * requester's DMs are closed.
 */
export function approvalRequesterNotice(approval: DeployApprovalRecord, facts: ApprovalFacts, viaChannel = false): Notice {
  const whose = viaChannel ? text`${member(approval.requester.id)}, your` : text`Your`;
  const subject = text`${whose} deployment of ${what(facts)} in ${strong(facts.projectName)} (approval #${approval.id})`;
  switch (approval.status) {
    case 'approved':
      return { title: 'Deployment approved', tone: 'success', description: text`${subject} was approved by ${member(approval.decidedBy ?? '')}; it is being applied now, with its progress in the channel it was asked in.` };
    case 'rejected':
      return { title: 'Deployment rejected', tone: 'danger', description: text`${subject} was rejected by ${member(approval.decidedBy ?? '')}. Nothing was applied.` };
    case 'expired':
      return {
        title: 'Deployment approval expired',
        tone: 'warning',
        description: text`${subject} ${approval.closeReason === 'plan_gone' ? 'was closed: its plan can no longer be applied' : text`expired: nobody approved it by ${time(approval.expiresAt, 'datetime')}`}. Its plan was discarded and nothing was applied. Run ${command('deploy')} again if you still need it.`,
      };
    default:
      return { title: 'Deployment not applied', tone: 'danger', description: text`${subject}: ${approvalOutcomeLine(approval)} Its plan was discarded. Run ${command('deploy')} again if you still need it.` };
  }
}
