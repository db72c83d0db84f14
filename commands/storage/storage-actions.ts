/**
 * Runs a /cloud-storage subcommand: checks the options and the member's access before asking for anything, then
 * reads (or, for a snapshot, writes) with a client that lives only for the request, and audits what was looked at.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { AppContext } from '../../src/app/context.js';
import type { PermissionLevel } from '../../src/db/schema.js';
import type { Conversation, Message } from '../../src/interaction/conversation.js';
import { largestObjects, listBuckets, recentObjects, storageSummary } from '../../src/storage/insights.js';
import { listObjectPage } from '../../src/storage/object-pages.js';
import { StorageRequestFailed } from '../../src/storage/s3-errors.js';
import { parseBucketName, withS3Client } from '../../src/storage/s3-client.js';
import { bucketsView, objectsView, scope, summaryView } from '../views/credentials.js';
import { objectPageView } from '../views/storage.js';
import type { StorageAction } from './cloud-storage.js';
import { logAction, logTargets, logWhere } from './log-actions.js';
import { metricsAction, metricsTargets } from './metrics-actions.js';
import { showPages } from './pager.js';
import { requireBucketAllowed, requireStorageAccess, resolveStorageAccess, type StorageAccess } from './storage-access.js';

/** A walk over a huge bucket stops before the interaction's 15 minutes run out, so the member still gets an answer. */
const LISTING_TIME_LIMIT_MS = 12 * 60_000;

type Action = Exclude<StorageAction, { action: 'allow-list' }>;

/** Writing a metrics line changes the member's bucket: that takes deployer, reading takes viewer. */
function neededLevel(options: Action): PermissionLevel {
  return options.action === 'snapshot' ? 'deployer' : 'viewer';
}

/** Every bucket the subcommand touches, validated before a key is asked for. */
function bucketsTouched(options: Action): string[] {
  const named = 'bucket' in options && options.bucket !== undefined ? [options.bucket] : [];
  return [...named, ...metricsTargets(options), ...logTargets(options)].map((bucket) => parseBucketName(bucket));
}

export async function runStorageAction(app: AppContext, conversation: Conversation, options: Action): Promise<void> {
  const needed = neededLevel(options);
  const touched = bucketsTouched(options);
  metricsAction.validate(options);
  logAction.validate(options);
  const access = await resolveStorageAccess(app, conversation, options, needed);
  if (access === null) return;
  requireBucketAllowed(access, ...touched);
  // Listing can take a while on a big bucket.
  await conversation.defer({ ephemeral: true });
  const signal = AbortSignal.timeout(LISTING_TIME_LIMIT_MS);
  const audit = () =>
    app.audit.record({
      guildId: conversation.guildId,
      userId: conversation.actor.id,
      action: `storage.${options.action.replace(' ', '.')}`,
      target: touched[0] ?? access.via.name,
      outcome: 'success',
      details: { credentialName: access.credentialName ?? 'one-off key', buckets: touched },
    });

  const paged = pagedListing(app, conversation, access, options, needed, signal);
  if (paged !== undefined) {
    audit();
    await showPages(conversation, paged);
    return;
  }
  const message = await withS3Client(await access.target(), (client) => oneAnswer(app, client, access, options, signal));
  audit();
  await conversation.edit(message);
}

async function oneAnswer(app: AppContext, client: S3Client, access: StorageAccess, options: Action, signal: AbortSignal): Promise<Message> {
  const listing = { signal };
  switch (options.action) {
    case 'buckets':
      return bucketsAnswer(client, access, signal);
    case 'summary':
      return summaryView(access.via, options.bucket, options.prefix, await storageSummary(client, options.bucket, options.prefix, listing));
    case 'largest':
      return objectsView('largest', access.via, options.bucket, options.prefix, await largestObjects(client, options.bucket, options.count, options.prefix, listing));
    case 'recent':
      return objectsView('recent', access.via, options.bucket, options.prefix, await recentObjects(client, options.bucket, options.count, options.prefix, listing));
    case 'snapshot':
    case 'metrics sources':
    case 'metrics series':
      return metricsAction.run(app, client, access, options, signal);
    default:
      return logAction.run(app, client, access, options, signal);
  }
}

/** Seed 000's fallback: a key that may read some buckets but not list them shows the credential's allow-list. */
async function bucketsAnswer(client: S3Client, access: StorageAccess, signal: AbortSignal): Promise<Message> {
  try {
    const buckets = await listBuckets(client, { signal });
    const allowed = access.allowedBuckets;
    return bucketsView(access.via, allowed.length === 0 ? buckets : buckets.filter((bucket) => allowed.includes(bucket.name)));
  } catch (error) {
    if (error instanceof StorageRequestFailed && error.failure.code === 'AccessDenied' && access.allowedBuckets.length > 0) {
      return bucketsView(access.via, access.allowedBuckets.map((name) => ({ name, createdAt: null })), true);
    }
    throw error;
  }
}

/** `list` and `logs list` page with buttons; every page is fetched with a fresh client and a fresh access check. */
function pagedListing(app: AppContext, conversation: Conversation, access: StorageAccess, options: Action, needed: PermissionLevel, signal: AbortSignal) {
  let listing: { bucket: string; prefix: string | undefined; title: { icon: string; what: string }; where: string };
  if (options.action === 'list') {
    listing = { bucket: options.bucket, prefix: options.prefix, title: { icon: '📂', what: 'Objects' }, where: `Bucket ${scope(options.bucket, options.prefix)}` };
  } else if (options.action === 'logs list') {
    const where = logWhere(options);
    listing = { ...where, title: { icon: '🧾', what: 'Access log files' }, where: `Log bucket ${scope(where.bucket, where.prefix)}` };
  } else return undefined;
  return {
    recheck: () => requireStorageAccess(app, conversation, needed),
    fetch: async (token: string | undefined, pageNumber: number) => {
      const page = await withS3Client(await access.target(), (client) => listObjectPage(client, listing.bucket, listing.prefix, token, { signal }));
      return {
        message: objectPageView(listing.title, access.via, listing.where, page.objects, pageNumber, page.nextToken !== undefined),
        nextToken: page.nextToken,
      };
    },
  };
}
