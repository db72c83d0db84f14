/**
 * Searching S3 server access logs kept in a log bucket (seed 000's list_access_logs, read_log, search_logs,
 * object_audit and top-ips). Log files are read newest-key-last as listed, each bounded in size, and a search stops
 * at a bound on files read; the result says when it stopped early, so a member never mistakes "not read" for "none".
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { parseAccessLogLine, type AccessLogEntry } from './access-log-line.js';
import { InvalidInsightsRequest, checkPrefix, iterateObjects, type ListingOptions } from './insights.js';
import { readObjectText } from './object-text.js';
import { parseBucketName } from './s3-client.js';
import { TopN } from './top-n.js';

export const MAX_LOG_FILES = 500;
export const MAX_LOG_MATCHES = 50;
const DAY_MS = 86_400_000;

export interface LogLocation {
  bucket: string;
  prefix: string | undefined;
}

export interface LogFilter {
  /** Only requests to this bucket (a log bucket may collect several buckets' logs). */
  sourceBucket?: string | undefined;
  method?: string | undefined;
  /** Exact object key. */
  key?: string | undefined;
  /** "4" for every 4xx, "40" for 400-409, "404" exactly. */
  statusPrefix?: string | undefined;
  /** A UTC day, YYYY-MM-DD. */
  date?: string | undefined;
  /** Case-insensitive text anywhere in the raw line. */
  contains?: string | undefined;
  /** Epoch ms window (audit). */
  since?: number | undefined;
}

export interface LogScan {
  matches: AccessLogEntry[];
  filesRead: number;
  linesRead: number;
  /** Lines that are not access-log lines, skipped. */
  unparsed: number;
  /** Stopped at MAX_LOG_FILES files or at the match limit: there may be more. */
  stoppedEarly: boolean;
}

export function checkLogDate(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const at = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== value) {
    throw new InvalidInsightsRequest(`'${value}' is not a date: write it as YYYY-MM-DD, for example 2024-01-31.`);
  }
  return value;
}

export function checkStatusPrefix(value: string): string {
  if (!/^[1-5]\d{0,2}$/.test(value)) {
    throw new InvalidInsightsRequest(`'${value}' is not an HTTP status or the start of one: use for example 4, 40 or 404.`);
  }
  return value;
}

export function logLocation(bucket: string, prefix: string | undefined): LogLocation {
  return { bucket: parseBucketName(bucket), prefix: checkPrefix(prefix) };
}

/** The day a log file's name says it was delivered (AWS's simple or date-partitioned key format), if it says one. */
function keyDay(key: string): number | undefined {
  const m = /(\d{4})-(\d{2})-(\d{2})-\d{2}-\d{2}-\d{2}-[^/]*$/.exec(key) ?? /(\d{4})\/(\d{2})\/(\d{2})\/[^/]*$/.exec(key);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined;
}

/** Whether a file can hold lines of the window: delivery may lag a day behind the request. */
function fileMayMatch(key: string, filter: LogFilter): boolean {
  const day = keyDay(key);
  if (day === undefined) return true;
  if (filter.date !== undefined) {
    const wanted = Date.parse(`${filter.date}T00:00:00Z`);
    if (day < wanted || day > wanted + DAY_MS) return false;
  }
  return filter.since === undefined || day >= filter.since - DAY_MS;
}

export function entryMatches(entry: AccessLogEntry, raw: string, filter: LogFilter): boolean {
  if (filter.sourceBucket !== undefined && entry.bucket !== filter.sourceBucket) return false;
  if (filter.method !== undefined && entry.method !== filter.method.toUpperCase()) return false;
  if (filter.key !== undefined && entry.key !== filter.key) return false;
  if (filter.statusPrefix !== undefined && !String(entry.httpStatus ?? '').startsWith(filter.statusPrefix)) return false;
  if (filter.date !== undefined && new Date(entry.at).toISOString().slice(0, 10) !== filter.date) return false;
  if (filter.since !== undefined && entry.at < filter.since) return false;
  if (filter.contains !== undefined && !raw.toLowerCase().includes(filter.contains.toLowerCase())) return false;
  return true;
}

/** Walks the log files and hands each matching entry to `onMatch`; `onMatch` returns false to stop. */
async function scanLogs(
  client: S3Client,
  location: LogLocation,
  filter: LogFilter,
  onMatch: (entry: AccessLogEntry) => boolean,
  options: ListingOptions,
): Promise<Omit<LogScan, 'matches'>> {
  const scan = { filesRead: 0, linesRead: 0, unparsed: 0, stoppedEarly: false };
  for await (const object of iterateObjects(client, location.bucket, location.prefix, options)) {
    if (!fileMayMatch(object.key, filter)) continue;
    if (scan.filesRead >= MAX_LOG_FILES) {
      scan.stoppedEarly = true;
      break;
    }
    scan.filesRead += 1;
    const { text, truncated } = await readObjectText(client, location.bucket, object.key, options);
    if (truncated) scan.stoppedEarly = true;
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue;
      scan.linesRead += 1;
      const entry = parseAccessLogLine(raw);
      if (entry === undefined) {
        scan.unparsed += 1;
        continue;
      }
      if (entryMatches(entry, raw, filter) && !onMatch(entry)) {
        scan.stoppedEarly = true;
        return scan;
      }
    }
  }
  return scan;
}

/** The first `limit` matching requests, in the order the logs hold them. */
export async function searchLogs(client: S3Client, location: LogLocation, filter: LogFilter, limit: number, options: ListingOptions = {}): Promise<LogScan> {
  const matches: AccessLogEntry[] = [];
  const scan = await scanLogs(client, location, filter, (entry) => {
    matches.push(entry);
    return matches.length < limit;
  }, options);
  return { ...scan, matches };
}

/** One object's requests in the window, oldest first (seed 000's object_audit). */
export async function auditObject(
  client: S3Client,
  location: LogLocation,
  target: { bucket: string; key: string; since: number },
  limit: number,
  options: ListingOptions = {},
): Promise<LogScan> {
  const scan = await searchLogs(client, location, { sourceBucket: target.bucket, key: target.key, since: target.since }, MAX_LOG_FILES * 100, options);
  const matches = scan.matches.sort((a, b) => a.at - b.at);
  return { ...scan, matches: matches.slice(-limit), stoppedEarly: scan.stoppedEarly || matches.length > limit };
}

export interface Requester {
  /** The client IP, or the requester's id where the log has no IP. */
  who: string;
  requests: number;
}

/** Who made the most matching requests (seed 000's top-ips plot). */
export async function topRequesters(
  client: S3Client,
  location: LogLocation,
  filter: LogFilter,
  n: number,
  options: ListingOptions = {},
): Promise<{ requesters: Requester[]; scan: Omit<LogScan, 'matches'>; total: number }> {
  const counts = new Map<string, number>();
  let total = 0;
  const scan = await scanLogs(client, location, filter, (entry) => {
    const who = entry.remoteIp ?? entry.requester ?? 'unknown';
    counts.set(who, (counts.get(who) ?? 0) + 1);
    total += 1;
    return true;
  }, options);
  const top = new TopN<Requester>(n, (a, b) => a.requests > b.requests || (a.requests === b.requests && a.who < b.who));
  for (const [who, requests] of counts) top.offer({ who, requests });
  return { requesters: top.sorted(), scan, total };
}

/** The last `tail` entries of one log file. */
export async function readLogFile(
  client: S3Client,
  bucket: string,
  key: string,
  tail: number,
  options: ListingOptions = {},
): Promise<{ entries: AccessLogEntry[]; lines: number; unparsed: number; truncated: boolean }> {
  const { text, truncated } = await readObjectText(client, parseBucketName(bucket), key, options);
  const entries: AccessLogEntry[] = [];
  let lines = 0;
  let unparsed = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    lines += 1;
    const entry = parseAccessLogLine(raw);
    if (entry === undefined) unparsed += 1;
    else entries.push(entry);
  }
  return { entries: entries.slice(-tail), lines, unparsed, truncated };
}
