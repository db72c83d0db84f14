import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { MAX_LOG_MATCHES } from '../../src/storage/access-logs.js';
import { MAX_TOP_N } from '../../src/storage/insights.js';
import { MAX_METRICS_HOURS } from '../../src/storage/metrics-store.js';
import { STORAGE_PROVIDERS, completeStoredCredentials } from '../views/credentials.js';
import { setAllowList } from './allow-list.js';
import { runStorageAction } from './storage-actions.js';
import { accessOptionsSchema } from './storage-access.js';
import {
  DEFAULT_COUNT,
  DEFAULT_HOURS,
  bucket,
  count,
  hours,
  key,
  matchLimit,
  optionalBucket,
  optionalBucketValue,
  optionalInteger,
  optionalText,
  optionalText1024,
  prefix,
  requiredBucket,
  requiredText,
  subcommand,
} from './storage-options.js';

const b = requiredBucket('bucket', 'Bucket name');
const p = optionalText('prefix', 'Only keys starting with this, e.g. logs/2024/');
const n = optionalInteger('count', `How many (default ${DEFAULT_COUNT})`, MAX_TOP_N);
const metricsBucket = requiredBucket('metrics_bucket', 'Bucket the metrics lines are kept in');
const metricsPrefix = optionalText('metrics_prefix', 'Folder for the metrics lines (default chatops-metrics/)');
const h = optionalInteger('hours', `How many hours back (default ${DEFAULT_HOURS})`, MAX_METRICS_HOURS);
const logBucket = requiredBucket('log_bucket', 'Bucket the access logs are delivered to');
const logPrefix = optionalText('log_prefix', 'Folder of the log files, e.g. logs/');
const date = optionalText('date', 'Only this UTC day, YYYY-MM-DD', 10);
const sourceBucket = optionalBucket('bucket', 'Only requests to this bucket');

const access = accessOptionsSchema;
const actions = z.discriminatedUnion('action', [
  z.object({ action: z.literal('buckets'), ...access }),
  z.object({ action: z.literal('summary'), ...access, bucket, prefix }),
  z.object({ action: z.literal('largest'), ...access, bucket, prefix, count }),
  z.object({ action: z.literal('recent'), ...access, bucket, prefix, count }),
  z.object({ action: z.literal('list'), ...access, bucket, prefix }),
  z.object({ action: z.literal('snapshot'), ...access, bucket, prefix, metrics_bucket: bucket, metrics_prefix: prefix }),
  z.object({ action: z.literal('metrics sources'), ...access, metrics_bucket: bucket, metrics_prefix: prefix, hours }),
  z.object({ action: z.literal('metrics series'), ...access, metrics_bucket: bucket, bucket, prefix, metrics_prefix: prefix, hours }),
  z.object({ action: z.literal('logs list'), ...access, log_bucket: bucket, log_prefix: prefix, date: z.string().max(10).optional() }),
  z.object({ action: z.literal('logs read'), ...access, log_bucket: bucket, key, tail: matchLimit }),
  z.object({
    action: z.literal('logs search'),
    ...access,
    log_bucket: bucket,
    log_prefix: prefix,
    bucket: optionalBucketValue,
    method: z.string().trim().toUpperCase().regex(/^[A-Z]{3,7}$/, 'must be an HTTP method such as GET, PUT or DELETE').optional(),
    key: key.optional(),
    status: z.string().trim().max(3).optional(),
    date: z.string().max(10).optional(),
    contains: optionalText1024,
    limit: matchLimit,
  }),
  z.object({ action: z.literal('logs top-requesters'), ...access, log_bucket: bucket, log_prefix: prefix, bucket: optionalBucketValue, date: z.string().max(10).optional(), count }),
  z.object({ action: z.literal('audit object'), ...access, log_bucket: bucket, bucket, key, log_prefix: prefix, hours, limit: matchLimit }),
  z.object({ action: z.literal('allow-list'), credential: z.string().trim().min(1).max(64), buckets: z.string().max(2000).optional() }),
]);

/** Subcommand groups and subcommands arrive as two fields; the handlers see one action name ("logs search"). */
const optionsSchema = z.preprocess((raw) => {
  if (raw === null || typeof raw !== 'object') return raw;
  const { subcommand_group: group, subcommand: sub, ...rest } = raw as Record<string, unknown>;
  return { ...rest, action: typeof group === 'string' ? `${group} ${String(sub)}` : sub };
}, actions);

export type StorageAction = z.output<typeof actions>;

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-storage')
    .setDescription('Storage insights with a stored aws or S3-compatible credential, or a one-off key (viewer)')
    .setContexts(InteractionContextType.Guild)
    .addSubcommand(subcommand('buckets', 'The buckets the key can see'))
    .addSubcommand(subcommand('summary', 'Total size and object count of a bucket', b, p))
    .addSubcommand(subcommand('largest', 'The largest objects in a bucket', b, n, p))
    .addSubcommand(subcommand('recent', 'The most recently modified objects in a bucket', b, n, p))
    .addSubcommand(subcommand('list', 'The objects under a prefix, a page at a time', b, p))
    .addSubcommand(subcommand('snapshot', "Measure a bucket and write the line to a metrics bucket (deployer)", b, metricsBucket, p, metricsPrefix))
    .addSubcommandGroup((g) =>
      g
        .setName('metrics')
        .setDescription('Metrics snapshots read back')
        .addSubcommand(subcommand('sources', 'Which buckets have snapshots in the window', metricsBucket, metricsPrefix, h))
        .addSubcommand(subcommand('series', "A bucket's bytes over time, with a chart", metricsBucket, b, p, metricsPrefix, h)),
    )
    .addSubcommandGroup((g) =>
      g
        .setName('logs')
        .setDescription('S3 server access logs')
        .addSubcommand(subcommand('list', 'The log files, a page at a time', logBucket, logPrefix, date))
        .addSubcommand(subcommand('read', 'The last requests in one log file', logBucket, requiredText('key', 'The log file'), optionalInteger('tail', 'How many requests (default 20)', MAX_LOG_MATCHES)))
        .addSubcommand(
          subcommand(
            'search',
            'Requests matching filters',
            logBucket,
            logPrefix,
            sourceBucket,
            optionalText('method', 'GET, PUT, DELETE…', 7),
            optionalText('key', 'Exact object key'),
            optionalText('status', 'HTTP status or its start: 4, 40, 404', 3),
            date,
            optionalText('contains', 'Text anywhere in the line'),
            optionalInteger('limit', 'How many matches (default 20)', MAX_LOG_MATCHES),
          ),
        )
        .addSubcommand(subcommand('top-requesters', 'Who made the most requests, with a chart', logBucket, logPrefix, sourceBucket, date, n)),
    )
    .addSubcommandGroup((g) =>
      g
        .setName('audit')
        .setDescription("An object's history from the access logs")
        .addSubcommand(
          subcommand('object', "One object's requests over the last hours", logBucket, b, requiredText('key', 'The object key'), logPrefix, h, optionalInteger('limit', 'How many requests (default 20)', MAX_LOG_MATCHES)),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName('allow-list')
        .setDescription('Show or set the buckets a stored credential is for (setting: server admins)')
        .addStringOption((o) => o.setName('credential').setDescription('A stored aws or s3 credential').setRequired(true).setAutocomplete(true).setMaxLength(64))
        .addStringOption((o) => o.setName('buckets').setDescription("Bucket names separated by commas; 'none' clears the list").setMaxLength(2000)),
    ),
  options: optionsSchema,

  async execute({ conversation, options, app }) {
    if (options.action === 'allow-list') return setAllowList(app, conversation, options);
    await runStorageAction(app, conversation, options);
  },

  async autocomplete(request, app) {
    return completeStoredCredentials(app, request, STORAGE_PROVIDERS);
  },
});
