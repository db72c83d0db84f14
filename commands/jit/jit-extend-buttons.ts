/**
 * Extend on a grant's reminder (in a DM or the notification channel), and the form it opens
 * (`jitext:<action>:<grantId>`). Only the grant's holder may use it; in a DM the grant is looked up among the
 * presser's own, in a server among that server's.
 */
import type { DurableComponentHandler } from '../../src/interaction/durable-components.js';
import { GrantNotFound } from '../../src/jit/errors.js';
import { EXTEND_NAMESPACE } from '../../src/jit/request-notices.js';
import { extendForm, extensionResultView, minutesTyped } from '../views/jit-requests.js';

export const jitExtendButtons: DurableComponentHandler = {
  namespace: EXTEND_NAMESPACE,

  async handle({ press, app, requireServed }) {
    const ref = { guildId: press.guildId, grantId: press.id.recordId };
    const channelId = press.guildId === null ? null : press.channelId;
    // A press in a DM names its server only through the grant: that server must still be one the bot serves.
    requireServed((await app.jitExtensions.holdersGrant(ref, press.actor.id)).guildId);
    const offer = await app.jitExtensions.offer(ref, press.actor.id, channelId);
    switch (press.id.action) {
      case 'extend':
        await press.showForm(extendForm(offer));
        return;
      case 'extend-form': {
        const result = await app.jitExtensions.ask(ref, press.actor.id, {
          minutes: minutesTyped(press.values.minutes),
          reason: press.values.reason ?? '',
          channelId,
        });
        await press.update(extensionResultView(result, offer.grant));
        return;
      }
      default:
        throw new GrantNotFound(ref.grantId);
    }
  },
};
