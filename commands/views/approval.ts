/**
 * What a deployment that needs an admin's approval shows: in the command's response, that the request is waiting;
 * on the request's card, once approved, the apply's live progress and then its outcome (src/deploy/deploy-approval.ts
 * decides; the card's words are src/deploy/approval-notices.ts).
 */
import type { ShowProgress } from '../../src/deploy/steps.js';
import type { DeployApprovalRecord } from '../../src/deploy/approval-repository.js';
import type { ConfirmedDeployment } from '../../src/deploy/deploy-service.js';
import type { ComponentPress } from '../../src/interaction/durable-components.js';
import { ThrottledEditor } from '../../src/interaction/throttled-editor.js';
import type { Message } from '../../src/interaction/conversation.js';
import type { Notice, Notifier } from '../../src/notify/notifier.js';
import { deploymentLabel, ProgressLog } from './deploy.js';
import { command, text, time, type RichText } from './format.js';

/** Discord allows about five edits per five seconds per message; one every three seconds leaves room. */
const PROGRESS_EDIT_INTERVAL_MS = 3_000;

/** In the command's response, in place of the plan's buttons: the request waits in the channel, durable. */
export function approvalRequestedView(deployment: ConfirmedDeployment, approval: DeployApprovalRecord): Message {
  return {
    notices: [
      {
        title: text`🛂 Waiting for an admin’s approval: ${deployment.project.name}, ${deploymentLabel(deployment.resource)} #${deployment.resource.id}`,
        tone: 'warning',
        description: text`The request (deployment approval #${approval.id}) is posted in this channel with Approve and Reject. It waits until ${time(approval.expiresAt, 'datetime')}, across restarts of the bot; the requester is told how it ends, and once approved the apply runs there, its progress on the request's message. Nothing more to do here.`,
      },
    ],
  };
}

/** The apply's live progress on the request's card (under the approved card), from the approving press. */
export function approvalApplyProgress(press: ComponentPress, card: Notice, deployment: ConfirmedDeployment): ShowProgress {
  return async (run) => {
    const log = new ProgressLog(text`🚀 Applying ${deploymentLabel(deployment.resource)} in ${deployment.project.name}…`);
    const show = (message: Message) => press.update({ notices: [card, ...(message.notices ?? [])] }).catch(() => undefined);
    const editor = new ThrottledEditor(show, PROGRESS_EDIT_INTERVAL_MS);
    editor.update(log.view());
    try {
      return await run({
        onEvent: (event) => {
          if (log.add(event)) editor.update(log.view());
        },
        onQueued: (position) => {
          log.queued(position);
          editor.update(log.view());
        },
      });
    } finally {
      await editor.cancel();
    }
  };
}

/**
 * The apply's outcome on the request's card; past the press's token (an apply can outlast it) it is posted in the
 * channel instead, so the result is never lost.
 */
export async function showApprovalOutcome(press: ComponentPress, notifier: Notifier, channelId: string, card: Notice, outcome: Message): Promise<void> {
  const notices = [card, ...(outcome.notices ?? [])];
  try {
    await press.update({ notices });
  } catch {
    for (const notice of notices.slice(1)) await notifier.sendToChannel(channelId, notice);
  }
}

/** Told to the presser privately when a check at the press closed the request (the card shows how it ended). */
export function approvalClosedReply(why: RichText): Message {
  return { content: text`⛔ ${why} Nothing was applied and the plan was discarded; the requester can run ${command('deploy')} again.`, ephemeral: true };
}
