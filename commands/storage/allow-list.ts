/** /cloud-storage allow-list: which buckets a stored credential is for (seed 000's FALLBACK_BUCKETS, per credential). */
import type { AppContext } from '../../src/app/context.js';
import { parseAllowedBuckets } from '../../src/credentials/credential-settings.js';
import type { Conversation } from '../../src/interaction/conversation.js';
import { AdminOnly } from '../../src/interaction/errors.js';
import { STORAGE_PROVIDERS } from '../views/credentials.js';
import { allowListView } from '../views/storage.js';
import { requireStorageAccess } from './storage-access.js';

export async function setAllowList(
  app: AppContext,
  conversation: Conversation,
  options: { credential: string; buckets?: string | undefined },
): Promise<void> {
  const { guildId, actor } = conversation;
  if (options.buckets === undefined) {
    // Seeing the list is what any storage viewer may do; changing it is an admin's.
    await requireStorageAccess(app, conversation, 'viewer');
    const chosen = await app.credentials.requireFor(guildId, options.credential, STORAGE_PROVIDERS, 'storage (aws or s3)');
    await conversation.reply(allowListView(chosen.name, (await app.credentials.settings(guildId, chosen.name)).allowedBuckets, false));
    return;
  }
  if (!actor.isGuildAdmin) throw new AdminOnly('cloud-storage allow-list');
  const buckets = parseAllowedBuckets(options.buckets);
  const chosen = await app.credentials.requireFor(guildId, options.credential, STORAGE_PROVIDERS, 'storage (aws or s3)');
  await app.credentials.updateSettings(guildId, chosen.name, { allowedBuckets: buckets });
  app.audit.record({
    guildId,
    userId: actor.id,
    action: 'storage.allow_list',
    target: chosen.name,
    outcome: 'success',
    details: { credentialName: chosen.name, buckets },
  });
  await conversation.reply(allowListView(chosen.name, buckets, true));
}
