/** Replies of the /cloud-storage subcommands added after the first four (listing pages, metrics, access logs). */
import type { Message, MessageAttachment } from '../../src/interaction/conversation.js';
import type { AccessLogEntry } from '../../src/storage/access-log-line.js';
import type { LogScan, Requester } from '../../src/storage/access-logs.js';
import { formatBytes, type ObjectInfo } from '../../src/storage/insights.js';
import type { MetricLine, MetricsLocation, MetricsRead, MetricSource } from '../../src/storage/metrics-store.js';
import { scope, storageTitle, type StorageVia } from './credentials.js';
import { code, join, text, time, type Text } from './format.js';

function objectLine(o: ObjectInfo): Text {
  const modified = o.lastModified === null ? undefined : text` — ${time(o.lastModified, 'datetime')}`;
  return text`• ${code(o.key)} — ${formatBytes(o.size)}${modified}`;
}

export function objectPageView(
  title: { icon: string; what: string },
  via: StorageVia,
  where: string,
  objects: readonly ObjectInfo[],
  pageNumber: number,
  more: boolean,
): Message {
  const body = objects.length ? join(objects.map(objectLine), '\n') : text`No objects there.`;
  return {
    ephemeral: true,
    notices: [
      {
        title: storageTitle(title.icon, title.what, via),
        description: text`${where} — page ${pageNumber}${more ? '' : ' (last)'}\n${body}`,
      },
    ],
  };
}

function metricsWhere(location: MetricsLocation): string {
  return scope(location.bucket, location.prefix || undefined);
}

export function snapshotView(via: StorageVia, location: MetricsLocation, key: string, line: MetricLine): Message {
  return {
    ephemeral: true,
    notices: [
      {
        title: storageTitle('📸', 'Metrics snapshot written', via),
        tone: 'success',
        description: text`Measured ${scope(line.bucket, line.prefix || undefined)} and wrote the line to ${code(key)} in ${code(location.bucket)}.`,
        fields: [
          { name: 'Total size', value: `${formatBytes(line.bytes)} (${line.bytes.toLocaleString('en-US')} bytes)` },
          { name: 'Objects', value: line.objects.toLocaleString('en-US') },
        ],
      },
    ],
  };
}

function readNotes(read: MetricsRead): string {
  const notes: string[] = [];
  if (read.skipped > 0) notes.push(`${read.skipped} line(s) that are not this bot's metrics were skipped.`);
  if (read.truncated) notes.push('Stopped after 2,000 metrics files: older points are missing; ask for fewer hours.');
  return notes.length ? `\n${notes.join('\n')}` : '';
}

export function metricSourcesView(via: StorageVia, location: MetricsLocation, hours: number, sources: readonly MetricSource[], read: MetricsRead): Message {
  const lines = sources.map(
    (s) => text`• ${scope(s.bucket, s.prefix || undefined)} — ${s.points} point(s), latest ${formatBytes(s.latest.bytes)} / ${s.latest.objects.toLocaleString('en-US')} objects ${time(s.latest.at, 'relative')}`,
  );
  return {
    ephemeral: true,
    notices: [
      {
        title: storageTitle('📈', 'Metrics sources', via),
        description: text`Snapshots in ${metricsWhere(location)} over the last ${hours} h:\n${lines.length ? join(lines, '\n') : text`None. Write one with /cloud-storage snapshot.`}${readNotes(read)}`,
      },
    ],
  };
}

export function metricSeriesView(
  via: StorageVia,
  source: { bucket: string; prefix: string | undefined },
  hours: number,
  points: readonly MetricLine[],
  read: MetricsRead,
  chart: MessageAttachment,
): Message {
  const first = points[0];
  const last = points[points.length - 1];
  const change = first !== undefined && last !== undefined ? last.bytes - first.bytes : 0;
  const summary =
    first === undefined || last === undefined
      ? text`No snapshots of it in that window. Write one with /cloud-storage snapshot.`
      : text`${points.length} point(s) from ${time(first.at, 'datetime')} to ${time(last.at, 'datetime')}; now ${formatBytes(last.bytes)} (${change >= 0 ? '+' : '−'}${formatBytes(Math.abs(change))} over the window).`;
  return {
    ephemeral: true,
    notices: [
      {
        title: storageTitle('📈', 'Bytes over time', via),
        description: text`${scope(source.bucket, source.prefix)}, last ${hours} h: ${summary}${readNotes(read)}`,
      },
    ],
    attachments: [chart],
  };
}

function entryLine(e: AccessLogEntry): Text {
  const status = e.httpStatus === null ? '—' : String(e.httpStatus);
  const error = e.errorCode === null ? '' : ` ${e.errorCode}`;
  const size = e.bytesSent === null ? '' : ` · ${formatBytes(e.bytesSent)}`;
  return text`• ${new Date(e.at).toISOString().replace('T', ' ').slice(0, 19)} UTC · ${e.method ?? e.operation ?? '?'} ${status}${error} · ${code(e.key ?? '(no key)')} · ${e.remoteIp ?? e.requester ?? 'unknown'}${size}`;
}

function scanNotes(scan: Omit<LogScan, 'matches'>): string {
  const notes = [`Read ${scan.filesRead} log file(s), ${scan.linesRead.toLocaleString('en-US')} line(s).`];
  if (scan.unparsed > 0) notes.push(`${scan.unparsed} line(s) were not access-log lines and were skipped.`);
  if (scan.stoppedEarly) notes.push('Stopped early (a limit was reached): there may be more; narrow it with date:, bucket: or a prefix.');
  return notes.join(' ');
}

export function logEntriesView(title: { icon: string; what: string }, via: StorageVia, heading: Text | string, scan: LogScan): Message {
  const lines = scan.matches.map(entryLine);
  return {
    ephemeral: true,
    notices: [
      {
        title: storageTitle(title.icon, title.what, via),
        description: text`${heading}\n${lines.length ? join(lines, '\n') : text`No matching requests.`}\n${scanNotes(scan)}`,
      },
    ],
  };
}

export function topRequestersView(
  via: StorageVia,
  heading: Text | string,
  result: { requesters: readonly Requester[]; scan: Omit<LogScan, 'matches'>; total: number },
  chart: MessageAttachment,
): Message {
  const lines = result.requesters.map((r, i) => text`${i + 1}. ${code(r.who)} — ${r.requests.toLocaleString('en-US')} request(s)`);
  return {
    ephemeral: true,
    notices: [
      {
        title: storageTitle('🧭', 'Top requesters', via),
        description: text`${heading} — ${result.total.toLocaleString('en-US')} matching request(s)\n${lines.length ? join(lines, '\n') : text`No requests.`}\n${scanNotes(result.scan)}`,
      },
    ],
    attachments: [chart],
  };
}

export function allowListView(credential: string, buckets: readonly string[], changed: boolean): Message {
  const list = buckets.length ? join(buckets.map((b) => code(b)), ', ') : undefined;
  const description = list
    ? text`${changed ? 'From now on, the' : 'The'} credential '${credential}' is only for: ${list}. Storage commands refuse other buckets with it, and show these when the key may not list buckets.`
    : text`${changed ? 'Cleared: the' : 'The'} credential '${credential}' has no bucket list: it may be used on any bucket the key can reach.`;
  return { ephemeral: true, notices: [{ title: '🪣 Bucket allow-list', tone: changed ? 'success' : 'info', description }] };
}
