/**
 * Extend (and the form it opens) and Destroy now on a deployment's TTL notices (`ttl:<action>:<resourceId>`), in a DM
 * or the notification channel. Everything is read from the row at the press: in a server only that server's
 * deployments are found, in a DM only the presser's own; who may act is checked there (src/ttl/ttl-service.ts).
 */
import type { DurableComponentHandler } from '../../src/interaction/durable-components.js';
import { TtlDeploymentNotFound } from '../../src/ttl/ttl-service.js';
import { TTL_NAMESPACE, ttlExtendedNotice } from '../../src/ttl/ttl-notices.js';
import { ttlDestroyNowView, ttlDestroyStartedView, ttlExtendForm, ttlTyped } from '../views/ttl.js';

export const ttlButtons: DurableComponentHandler = {
  namespace: TTL_NAMESPACE,

  async handle({ press, app, requireServed }) {
    const ref = { guildId: press.guildId, resourceId: press.id.recordId };
    const presser = { id: press.actor.id, isGuildAdmin: press.actor.isGuildAdmin };
    // A press in a DM names its server only through the row: that server must still be one the bot serves. One
    // read by primary key (a settled promise on SQLite), so an Extend press still shows its form at once.
    requireServed(await app.deploymentTtls.guildOf(ref, presser.id));
    switch (press.id.action) {
      case 'extend':
        await press.showForm(ttlExtendForm(await app.deploymentTtls.offerExtend(ref, presser)));
        return;
      case 'extend-form': {
        const extended = await app.deploymentTtls.extend(ref, presser, ttlTyped(press.values.more));
        await press.update({ notices: [ttlExtendedNotice(extended.subject, presser.id, extended.beyondMax)] });
        return;
      }
      case 'destroy': {
        const { subject, outcome } = await app.deploymentTtls.destroyNow(ref, presser, (subject) => press.update(ttlDestroyStartedView(subject, presser.id)));
        await press.reply({ ...ttlDestroyNowView(subject, presser.id, outcome), ephemeral: true });
        return;
      }
      default:
        throw new TtlDeploymentNotFound(ref.resourceId);
    }
  },
};
