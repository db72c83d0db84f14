import type { AppContext } from '../../src/app/context.js';
import type { Actor, Conversation } from '../../src/interaction/conversation.js';
import type { Resource } from '../../src/projects/resource-repository.js';
import { failureView } from './deploy.js';
import { escapeMarkdown, mention, usd } from './format.js';
import { deliverResult } from './run-progress.js';

/** How long admins have to answer; past the interaction token's life the result goes to the channel. */
const APPROVAL_WINDOW_MS = 30 * 60_000;

/** Asks the server's admins (not the requester) to approve; true when one does. */
export async function askAdminApproval(input: {
  conversation: Conversation;
  app: AppContext;
  requester: Actor;
  projectName: string;
  resource: Resource;
  monthlyUsd: number;
}): Promise<boolean> {
  const { conversation, app, requester, projectName, resource, monthlyUsd } = input;
  const request = {
    notices: [
      {
        title: '🛂 Approval needed',
        tone: 'warning' as const,
        description: `${mention(requester.id)} wants to deploy a ${resource.resourceType}${resource.instanceType ? ` (${escapeMarkdown(resource.instanceType)})` : ''} in **${escapeMarkdown(projectName)}**, about ${usd(monthlyUsd)}/month. This server’s policy requires an admin’s approval.`,
      },
    ],
  };
  const decision = await conversation.offerButtons(
    { ...request, buttons: [{ id: 'approve', label: 'Approve', style: 'success' }, { id: 'reject', label: 'Reject', style: 'danger' }] },
    {
      where: 'channel',
      timeoutMs: APPROVAL_WINDOW_MS,
      authorize: (by) =>
        !by.isGuildAdmin
          ? 'Only server admins can approve deployments.'
          : by.id === requester.id
            ? 'You cannot approve your own deployment: another admin must.'
            : null,
      settled: (pressed) => ({
        notices: [
          {
            ...request.notices[0]!,
            title: !pressed ? '⌛ Approval request expired' : pressed.buttonId === 'approve' ? '✅ Approved' : '⛔ Rejected',
            description: `${request.notices[0]!.description}\n\n${pressed ? `${pressed.buttonId === 'approve' ? 'Approved' : 'Rejected'} by ${mention(pressed.by.id)}.` : 'Nobody answered in time.'}`,
          },
        ],
      }),
    },
  );
  const outcome = decision?.buttonId === 'approve' ? 'success' : 'denied';
  app.audit.record({ guildId: conversation.guildId, userId: decision?.by.id ?? requester.id, action: 'deploy.approval', target: projectName, outcome, details: { resourceId: resource.id, answer: decision?.buttonId ?? 'expired' } });
  if (decision?.buttonId !== 'approve') {
    await deliverResult(conversation, failureView('⛔ Not deployed', decision ? `An admin (${mention(decision.by.id)}) rejected the deployment.` : 'No admin approved it within 30 minutes. Run `/cloud-deploy` again.'));
    return false;
  }
  return true;
}
