import { InteractionContextType, SlashCommandBuilder, type SlashCommandSubcommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { MAX_TOP_N, largestObjects, listBuckets, recentObjects, storageSummary } from '../../src/storage/insights.js';
import { withS3Client } from '../../src/storage/s3-client.js';
import {
  STORAGE_PROVIDERS,
  bucketsView,
  completeStoredCredentials,
  objectsView,
  summaryView,
} from '../views/credentials.js';

const DEFAULT_COUNT = 10;
/** A walk over a huge bucket stops before the interaction's 15 minutes run out, so the member still gets an answer. */
const LISTING_TIME_LIMIT_MS = 12 * 60_000;

function credentialOption(s: SlashCommandSubcommandBuilder): SlashCommandSubcommandBuilder {
  return s.addStringOption((o) =>
    o.setName('credential').setDescription('A stored aws or s3 credential of this server').setRequired(true).setAutocomplete(true).setMaxLength(64),
  );
}

function bucketOptions(s: SlashCommandSubcommandBuilder, withCount: boolean): SlashCommandSubcommandBuilder {
  credentialOption(s).addStringOption((o) => o.setName('bucket').setDescription('Bucket name').setRequired(true).setMinLength(3).setMaxLength(63));
  if (withCount) {
    s.addIntegerOption((o) =>
      o.setName('count').setDescription(`How many objects (default ${DEFAULT_COUNT})`).setMinValue(1).setMaxValue(MAX_TOP_N),
    );
  }
  return s.addStringOption((o) => o.setName('prefix').setDescription('Only keys starting with this, e.g. logs/2024/').setMaxLength(1024));
}

const credential = z.string().trim().min(1).max(64);
const bucket = z.string().trim().min(3).max(63);
const prefix = z.string().max(1024).optional();
const count = z.number().int().min(1).max(MAX_TOP_N).default(DEFAULT_COUNT);

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-storage')
    .setDescription('Storage insights for a bucket, with a stored aws or S3-compatible credential (viewer)')
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) => credentialOption(s.setName('buckets').setDescription('The buckets the credential can see')))
    .addSubcommand((s) => bucketOptions(s.setName('summary').setDescription('Total size and object count of a bucket'), false))
    .addSubcommand((s) => bucketOptions(s.setName('largest').setDescription('The largest objects in a bucket'), true))
    .addSubcommand((s) => bucketOptions(s.setName('recent').setDescription('The most recently modified objects in a bucket'), true)),
  options: z.discriminatedUnion('subcommand', [
    z.object({ subcommand: z.literal('buckets'), credential }),
    z.object({ subcommand: z.literal('summary'), credential, bucket, prefix }),
    z.object({ subcommand: z.literal('largest'), credential, bucket, prefix, count }),
    z.object({ subcommand: z.literal('recent'), credential, bucket, prefix, count }),
  ]),

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    // S3-compatible stores count as aws for permissions.
    app.jit.require({ guildId, userId: actor.id, provider: 'aws', isGuildAdmin: actor.isGuildAdmin, needed: 'viewer' });
    // Only this guild's stored credentials: another guild's name is simply not found.
    const chosen = app.credentials.requireFor(guildId, options.credential, STORAGE_PROVIDERS, 'storage (aws or s3)');
    // Listing can take a while on a big bucket.
    await conversation.defer({ ephemeral: true });
    const { metadata, secrets } = app.credentials.reveal(guildId, chosen.name);
    const target = { secrets, region: metadata.region, endpoint: metadata.endpoint };
    const listing = { signal: AbortSignal.timeout(LISTING_TIME_LIMIT_MS) };
    const message = await withS3Client(target, async (client) => {
      switch (options.subcommand) {
        case 'buckets':
          return bucketsView(metadata, await listBuckets(client, listing));
        case 'summary':
          return summaryView(metadata, options.bucket, options.prefix, await storageSummary(client, options.bucket, options.prefix, listing));
        case 'largest':
          return objectsView('largest', metadata, options.bucket, options.prefix, await largestObjects(client, options.bucket, options.count, options.prefix, listing));
        case 'recent':
          return objectsView('recent', metadata, options.bucket, options.prefix, await recentObjects(client, options.bucket, options.count, options.prefix, listing));
      }
    });
    app.audit.record({
      guildId,
      userId: actor.id,
      action: `storage.${options.subcommand}`,
      target: options.subcommand === 'buckets' ? metadata.name : options.bucket,
      outcome: 'success',
      details: { credentialName: metadata.name },
    });
    await conversation.edit(message);
  },

  async autocomplete(request, app) {
    return completeStoredCredentials(app, request, STORAGE_PROVIDERS);
  },
});
