/**
 * Approve and Reject on a deployment's approval card (`deployapr:<action>:<approvalId>`). Everything is read from the
 * database at the press (src/deploy/deploy-approval.ts), so a press after a restart works like any other. An
 * approved deployment applies here, its progress and outcome on the card; a press on a closed request refreshes the
 * card and says how it ended.
 */
import { ApprovalClosed, ApprovalNotFound } from '../../src/deploy/approval-errors.js';
import { APPROVAL_NAMESPACE } from '../../src/deploy/approval-notices.js';
import { DeployService } from '../../src/deploy/deploy-service.js';
import type { DurableComponentHandler } from '../../src/interaction/durable-components.js';
import { approvalApplyProgress, approvalClosedReply, showApprovalOutcome } from '../views/approval.js';
import { applyOutcomeView } from '../views/deploy-steps.js';
import { planRefusedView } from '../views/plan-policy.js';

export const deployApprovalButtons: DurableComponentHandler = {
  namespace: APPROVAL_NAMESPACE,

  async handle({ press, app }) {
    const approvalId = press.id.recordId;
    // Approval cards are posted in a server's channels; a press from anywhere else names nothing it may see.
    if (press.guildId === null) throw new ApprovalNotFound(approvalId);
    const guildId = press.guildId;
    const reviewer = { id: press.actor.id, isGuildAdmin: press.actor.isGuildAdmin };
    const deploys = DeployService.from(app);
    const { approvals } = deploys;
    try {
      switch (press.id.action) {
        case 'reject': {
          const rejected = await approvals.reject({ guildId, approvalId, reviewer });
          await press.update({ notices: [await approvals.card(rejected)] });
          await approvals.tellRequester(rejected.id);
          return;
        }
        case 'approve': {
          const result = await approvals.approve({ guildId, approvalId, reviewer });
          const card = await approvals.card(result.approval);
          if (result.outcome === 'refused_by_policy') {
            await press.update({ notices: [card, ...(planRefusedView(result.decision).notices ?? [])] });
          } else if (result.outcome === 'closed') {
            await press.update({ notices: [card] });
            await press.reply(approvalClosedReply(result.why.text));
          }
          // Told while the apply runs; a notice that cannot be sent now is left queued for the janitor.
          const told = approvals.tellRequester(result.approval.id);
          try {
            if (result.outcome === 'approved') {
              const { deployment } = result;
              const applied = await deploys.apply(deployment, approvalApplyProgress(press, card, deployment));
              await showApprovalOutcome(press, app.notifier, result.approval.channelId, card, applyOutcomeView(deployment, applied));
            }
          } finally {
            await told;
          }
          return;
        }
        default:
          throw new ApprovalNotFound(approvalId);
      }
    } catch (error) {
      // The card may still show buttons for a request decided elsewhere or expired: show how it ended, then say so.
      if (error instanceof ApprovalClosed) await press.update({ notices: [await approvals.card(error.approval)] });
      throw error;
    }
  },
};
