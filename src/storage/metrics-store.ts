/**
 * Storage metrics kept in the member's own bucket (seed 000's snapshot, metrics sources and series): each snapshot
 * writes one small JSON-lines object under `<metrics prefix>YYYY/MM/DD/HH/`, one line per measured bucket/prefix.
 * Reading back walks only the day folders of the window asked for, and stops at a bound on objects read.
 */
import { randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { InvalidInsightsRequest, checkPrefix, iterateObjects, type ListingOptions, type StorageSummary } from './insights.js';
import { readObjectText } from './object-text.js';
import { parseBucketName } from './s3-client.js';
import { StorageRequestFailed, explainS3Error } from './s3-errors.js';

export const DEFAULT_METRICS_PREFIX = 'chatops-metrics/';
export const MAX_METRICS_HOURS = 720;
/** A window of a month of hourly snapshots is ~720 objects per source; beyond this many, the reply says it stopped. */
const MAX_METRIC_OBJECTS = 2_000;
const HOUR_MS = 3_600_000;

export const metricLineSchema = z.object({
  v: z.literal(1),
  at: z.number().int().nonnegative(),
  bucket: z.string().min(1).max(63),
  prefix: z.string().max(1024),
  bytes: z.number().nonnegative(),
  objects: z.number().int().nonnegative(),
});
export type MetricLine = z.infer<typeof metricLineSchema>;

export interface MetricsLocation {
  bucket: string;
  /** Ends with '/' (added when missing), or is empty for the bucket's top. */
  prefix: string;
}

export function metricsLocation(bucket: string, prefix: string | undefined): MetricsLocation {
  const checked = checkPrefix(prefix ?? DEFAULT_METRICS_PREFIX) ?? '';
  return { bucket: parseBucketName(bucket), prefix: checked === '' || checked.endsWith('/') ? checked : `${checked}/` };
}

export function checkHours(hours: number): number {
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_METRICS_HOURS) {
    throw new InvalidInsightsRequest(`The number of hours must be a whole number from 1 to ${MAX_METRICS_HOURS}.`);
  }
  return hours;
}

const pad = (n: number) => String(n).padStart(2, '0');

function dayFolder(location: MetricsLocation, at: number): string {
  const d = new Date(at);
  return `${location.prefix}${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/`;
}

/** Writes one snapshot line; returns the key written. */
export async function writeSnapshot(
  client: S3Client,
  location: MetricsLocation,
  source: { bucket: string; prefix: string | undefined },
  summary: StorageSummary,
  at: number,
): Promise<{ key: string; line: MetricLine }> {
  const line: MetricLine = { v: 1, at, bucket: source.bucket, prefix: source.prefix ?? '', bytes: summary.totalBytes, objects: summary.objectCount };
  // The random part keeps two snapshots in the same millisecond from overwriting each other.
  const key = `${dayFolder(location, at)}${pad(new Date(at).getUTCHours())}/${at}-${randomBytes(4).toString('hex')}.jsonl`;
  try {
    await client.send(
      new PutObjectCommand({ Bucket: location.bucket, Key: key, Body: `${JSON.stringify(line)}\n`, ContentType: 'application/x-ndjson' }),
    );
  } catch (error) {
    throw new StorageRequestFailed(explainS3Error(error, { bucket: location.bucket, action: `write metrics under ${location.prefix || 'the top'}` }));
  }
  return { key, line };
}

export interface MetricsRead {
  lines: MetricLine[];
  /** Lines that were not metrics this bot writes (edited by hand, another tool's): skipped, counted. */
  skipped: number;
  /** Stopped at the bound on objects read: older points may be missing. */
  truncated: boolean;
}

/** Every metric line written in the last `hours` hours before `now`, oldest first. */
export async function readMetrics(
  client: S3Client,
  location: MetricsLocation,
  hours: number,
  now: number,
  options: ListingOptions = {},
): Promise<MetricsRead> {
  const since = now - checkHours(hours) * HOUR_MS;
  const result: MetricsRead = { lines: [], skipped: 0, truncated: false };
  let read = 0;
  // Newest day first, so a bound cuts off the oldest points rather than the newest.
  for (let day = Math.floor(now / 86_400_000) * 86_400_000; day >= since - 86_400_000; day -= 86_400_000) {
    for await (const object of iterateObjects(client, location.bucket, dayFolder(location, day), options)) {
      if (!object.key.endsWith('.jsonl')) continue;
      if (read >= MAX_METRIC_OBJECTS) {
        result.truncated = true;
        break;
      }
      read += 1;
      const { text } = await readObjectText(client, location.bucket, object.key, { ...options, maxBytes: 64 * 1024 });
      for (const raw of text.split('\n')) {
        if (raw.trim() === '') continue;
        const parsed = parseMetricLine(raw);
        if (parsed === undefined) result.skipped += 1;
        else if (parsed.at >= since && parsed.at <= now) result.lines.push(parsed);
      }
    }
    if (result.truncated) break;
  }
  result.lines.sort((a, b) => a.at - b.at);
  return result;
}

function parseMetricLine(raw: string): MetricLine | undefined {
  try {
    const parsed = metricLineSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export interface MetricSource {
  bucket: string;
  prefix: string;
  points: number;
  latest: MetricLine;
}

/** The bucket/prefix pairs measured in the window, each with its latest point. */
export function metricSources(lines: readonly MetricLine[]): MetricSource[] {
  const sources = new Map<string, MetricSource>();
  for (const line of lines) {
    const id = JSON.stringify([line.bucket, line.prefix]);
    const known = sources.get(id);
    if (known === undefined) sources.set(id, { bucket: line.bucket, prefix: line.prefix, points: 1, latest: line });
    else {
      known.points += 1;
      if (line.at >= known.latest.at) known.latest = line;
    }
  }
  return [...sources.values()].sort((a, b) => a.bucket.localeCompare(b.bucket) || a.prefix.localeCompare(b.prefix));
}

/** One source's points, oldest first. */
export function metricSeries(lines: readonly MetricLine[], bucket: string, prefix: string | undefined): MetricLine[] {
  return lines.filter((line) => line.bucket === bucket && line.prefix === (prefix ?? ''));
}
