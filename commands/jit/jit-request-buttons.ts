/**
 * Approve and Deny on a JIT request card, and the forms they open (`jitreq:<action>:<requestId>`). Everything is read
 * from the database at the press: the request of this guild (another guild's is not found), still open, and a
 * reviewer who may decide it now. A press on a closed request refreshes the card and says how it ended.
 */
import type { DurableComponentHandler } from '../../src/interaction/durable-components.js';
import { RequestClosed, RequestNotFound } from '../../src/jit/request-errors.js';
import { REQUEST_NAMESPACE, requestCard } from '../../src/jit/request-notices.js';
import { approveForm, denyForm, minutesTyped } from '../views/jit-requests.js';

export const jitRequestButtons: DurableComponentHandler = {
  namespace: REQUEST_NAMESPACE,

  async handle({ press, app }) {
    const requestId = press.id.recordId;
    // Requests are posted in a server's channels; a press from anywhere else names nothing it may see.
    if (press.guildId === null) throw new RequestNotFound(requestId);
    const guildId = press.guildId;
    const reviewer = { id: press.actor.id, isGuildAdmin: press.actor.isGuildAdmin };
    try {
      switch (press.id.action) {
        case 'approve': {
          const request = await app.jitRequests.openForReview(guildId, requestId, reviewer, 'jit.request.approve');
          const max = (await app.policies.get(guildId)).maxJitMinutes;
          await press.showForm(approveForm(request, request.kind === 'access' ? Math.min(request.durationMinutes, max) : request.durationMinutes));
          return;
        }
        case 'deny':
          await press.showForm(denyForm(await app.jitRequests.openForReview(guildId, requestId, reviewer, 'jit.request.deny')));
          return;
        case 'approve-form': {
          const approval = await app.jitRequests.approve({ guildId, requestId, reviewer, minutes: minutesTyped(press.values.minutes) });
          await press.update({ notices: [requestCard(approval.request, approval.outcome === 'approved' ? approval.grant : undefined)] });
          if (approval.outcome === 'grant_ended') {
            await press.reply({ content: 'The grant ended before your approval, so there was nothing left to extend. The request is closed and the requester told.', ephemeral: true });
          }
          await app.jitRequests.tellRequester(approval.request.id);
          return;
        }
        case 'deny-form': {
          const denied = await app.jitRequests.deny({ guildId, requestId, reviewer, note: press.values.words });
          await press.update({ notices: [requestCard(denied)] });
          await app.jitRequests.tellRequester(denied.id);
          return;
        }
        default:
          throw new RequestNotFound(requestId);
      }
    } catch (error) {
      // The card may still show buttons for a request decided elsewhere or expired: show how it ended, then say so.
      if (error instanceof RequestClosed) await press.update({ notices: [requestCard(error.request)] });
      throw error;
    }
  },
};
