import type { AppContext } from '../../src/app/context.js';
import type { Actor, Conversation } from '../../src/interaction/conversation.js';
import { accessLostAt } from '../../src/jit/access-at-step.js';
import type { Project } from '../../src/projects/project-repository.js';
import type { Resource } from '../../src/projects/resource-repository.js';
import { failureView } from './deploy.js';
import { command, member, money, strong, text, toText } from './format.js';
import { deliverResult } from './run-progress.js';

/** How long admins have to answer; past the interaction token's life the result goes to the channel. */
const APPROVAL_WINDOW_MS = 30 * 60_000;

/**
 * Asks the admins (not the requester) to approve; true when one does. An approver is whoever is an admin at the
 * moment of the press: Manage Server, or a JIT Admin grant on the project's provider still in force.
 */
export async function askAdminApproval(input: {
  conversation: Conversation;
  app: AppContext;
  requester: Actor;
  project: Pick<Project, 'name' | 'provider'>;
  resource: Resource;
  monthlyUsd: number;
}): Promise<boolean> {
  const { conversation, app, requester, project, resource, monthlyUsd } = input;
  const projectName = project.name;
  const request = {
    notices: [
      {
        title: '🛂 Approval needed',
        tone: 'warning' as const,
        description: text`${member(requester.id)} wants to deploy a ${resource.resourceType}${resource.instanceType ? text` (${resource.instanceType})` : undefined} in ${strong(projectName)}, about ${money(monthlyUsd)}/month. This server’s policy requires an admin’s approval.`,
      },
    ],
  };
  const decision = await conversation.offerButtons(
    { ...request, buttons: [{ id: 'approve', label: 'Approve', style: 'success' }, { id: 'reject', label: 'Reject', style: 'danger' }] },
    {
      where: 'channel',
      timeoutMs: APPROVAL_WINDOW_MS,
      authorize: (by) => {
        if (by.id === requester.id) return 'You cannot approve your own deployment: another admin must.';
        const lost = accessLostAt(app, {
          guildId: conversation.guildId,
          provider: project.provider,
          action: 'deploy.approval',
          target: projectName,
          step: 'approve',
          participants: [{ userId: by.id, isGuildAdmin: by.isGuildAdmin, needed: 'admin', role: 'approver' }],
          outcome: 'Your press did not count: the deployment still waits for an admin’s approval.',
          afterwards: 'press Approve again while the request waits',
          details: { resourceId: resource.id, requester: requester.id },
        });
        return lost ? text`Only server admins, or members with Admin access to this project’s provider, can approve deployments. ${toText(lost.text)}` : null;
      },
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
  const outcome = decision?.buttonId === 'approve' ? 'success' : 'denied';
  app.audit.record({ guildId: conversation.guildId, userId: decision?.by.id ?? requester.id, action: 'deploy.approval', target: projectName, outcome, details: { resourceId: resource.id, answer: decision?.buttonId ?? 'expired' } });
  if (decision?.buttonId !== 'approve') {
    await deliverResult(conversation, failureView('⛔ Not deployed', decision ? text`An admin (${member(decision.by.id)}) rejected the deployment.` : text`No admin approved it within 30 minutes. Run ${command('deploy')} again.`));
    return false;
  }
  return true;
}
