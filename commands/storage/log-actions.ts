/** /cloud-storage logs read|search|top-requesters and audit object (logs list pages through storage-actions). */
import type { S3Client } from '@aws-sdk/client-s3';
import type { AppContext } from '../../src/app/context.js';
import { svgToPng } from '../../src/charts/png.js';
import { barChartSvg } from '../../src/charts/svg-charts.js';
import type { Message } from '../../src/interaction/conversation.js';
import { text } from '../../src/shared/text.js';
import {
  auditObject,
  checkLogDate,
  checkStatusPrefix,
  logLocation,
  readLogFile,
  searchLogs,
  topRequesters,
  type LogFilter,
} from '../../src/storage/access-logs.js';
import { checkPrefix } from '../../src/storage/insights.js';
import { checkHours } from '../../src/storage/metrics-store.js';
import { code } from '../views/format.js';
import { logEntriesView, topRequestersView } from '../views/storage.js';
import type { StorageAction } from './cloud-storage.js';
import type { StorageAccess } from './storage-access.js';

type LogOptions = Extract<StorageAction, { action: 'logs list' | 'logs read' | 'logs search' | 'logs top-requesters' | 'audit object' }>;

function isLog(options: StorageAction): options is LogOptions {
  return options.action.startsWith('logs ') || options.action === 'audit object';
}

export function logTargets(options: StorageAction): string[] {
  return isLog(options) ? [options.log_bucket] : [];
}

/** Where `logs list` pages: with a date, AWS's key format (`<prefix>YYYY-MM-DD-…`) narrows the listing itself. */
export function logWhere(options: Extract<StorageAction, { action: 'logs list' }>): { bucket: string; prefix: string | undefined } {
  const location = logLocation(options.log_bucket, options.log_prefix);
  if (options.date === undefined) return location;
  return { bucket: location.bucket, prefix: checkPrefix(`${location.prefix ?? ''}${checkLogDate(options.date)}`) };
}

function filterOf(options: Extract<LogOptions, { action: 'logs search' | 'logs top-requesters' }>): LogFilter {
  return {
    sourceBucket: options.bucket,
    date: options.date === undefined ? undefined : checkLogDate(options.date),
    ...(options.action === 'logs search'
      ? { method: options.method, key: options.key, statusPrefix: options.status === undefined ? undefined : checkStatusPrefix(options.status), contains: options.contains }
      : {}),
  };
}

export const logAction = {
  /** Throws on a bad date, status or prefix before anything is asked. */
  validate(options: StorageAction): void {
    if (!isLog(options)) return;
    if ('log_prefix' in options) logLocation(options.log_bucket, options.log_prefix);
    if (options.action === 'logs list') logWhere(options);
    if (options.action === 'logs search' || options.action === 'logs top-requesters') filterOf(options);
    if (options.action === 'audit object') checkHours(options.hours);
  },

  async run(app: AppContext, client: S3Client, access: StorageAccess, options: StorageAction, signal: AbortSignal): Promise<Message> {
    if (!isLog(options)) throw new Error(`not a log action: ${options.action}`);
    const listing = { signal };
    switch (options.action) {
      case 'logs read': {
        const read = await readLogFile(client, options.log_bucket, options.key, options.tail, listing);
        const scan = { matches: read.entries, filesRead: 1, linesRead: read.lines, unparsed: read.unparsed, stoppedEarly: read.truncated };
        return logEntriesView({ icon: '🧾', what: 'Log file' }, access.via, text`The last ${read.entries.length} request(s) in ${code(options.key)}:`, scan);
      }
      case 'logs search': {
        const scan = await searchLogs(client, logLocation(options.log_bucket, options.log_prefix), filterOf(options), options.limit, listing);
        return logEntriesView({ icon: '🔎', what: 'Access log search' }, access.via, text`Requests in the logs of ${code(options.log_bucket)} matching the filters:`, scan);
      }
      case 'logs top-requesters': {
        const result = await topRequesters(client, logLocation(options.log_bucket, options.log_prefix), filterOf(options), options.count, listing);
        const svg = barChartSvg({
          title: `Top requesters${options.bucket ? ` of ${options.bucket}` : ''}${options.date ? ` on ${options.date}` : ''}`,
          bars: result.requesters.map((r) => ({ label: r.who, value: r.requests })),
          formatValue: (value) => value.toLocaleString('en-US'),
        });
        const chart = { name: 'top-requesters.png', data: svgToPng(svg), description: 'Requests per client address' };
        return topRequestersView(access.via, text`Logs in ${code(options.log_bucket)}`, result, chart);
      }
      case 'audit object': {
        const since = app.clock.now() - options.hours * 3_600_000;
        const scan = await auditObject(client, logLocation(options.log_bucket, options.log_prefix), { bucket: options.bucket, key: options.key, since }, options.limit, listing);
        return logEntriesView({ icon: '🕵️', what: 'Object audit' }, access.via, text`Requests for ${code(options.key)} in ${code(options.bucket)} over the last ${options.hours} h, oldest first:`, scan);
      }
      case 'logs list':
        throw new Error('logs list pages through storage-actions');
    }
  },
};
