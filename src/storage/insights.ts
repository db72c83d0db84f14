/**
 * Storage insights for a guild's S3-compatible credential (seed 000's tools): buckets, totals, largest and most
 * recent objects. Listings stream page by page through ListObjectsV2, so a bucket of millions of keys is walked in
 * constant memory: totals are running sums and "top N" lists are bounded heaps.
 */
import { ListBucketsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { UserError } from '../shared/errors.js';
import { parseBucketName } from './s3-client.js';
import { StorageRequestFailed, explainS3Error } from './s3-errors.js';
import { TopN } from './top-n.js';

export interface BucketInfo {
  name: string;
  createdAt: number | null;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: number | null;
}

export interface StorageSummary {
  totalBytes: number;
  objectCount: number;
}

export interface ListingOptions {
  /** Stops a long walk (e.g. when the member's interaction expires). */
  signal?: AbortSignal;
}

export const MAX_TOP_N = 100;
const MAX_PREFIX_LENGTH = 1024;

export class InvalidInsightsRequest extends UserError {
  constructor(problem: string) {
    super('storage.invalid_request', problem);
  }
}

export function checkPrefix(prefix: string | undefined): string | undefined {
  if (prefix === undefined || prefix === '') return undefined;
  if (prefix.length > MAX_PREFIX_LENGTH) throw new InvalidInsightsRequest(`The prefix is longer than ${MAX_PREFIX_LENGTH} characters.`);
  return prefix;
}

function checkCount(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_TOP_N) {
    throw new InvalidInsightsRequest(`The number of objects must be a whole number from 1 to ${MAX_TOP_N}.`);
  }
  return n;
}

/** The buckets the credential can see. */
export async function listBuckets(client: S3Client, options: ListingOptions = {}): Promise<BucketInfo[]> {
  const buckets: BucketInfo[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListBucketsCommand(token === undefined ? {} : { ContinuationToken: token }), {
        abortSignal: options.signal,
      });
    } catch (error) {
      throw new StorageRequestFailed(explainS3Error(error, { action: 'list buckets' }));
    }
    for (const bucket of page.Buckets ?? []) {
      if (bucket.Name !== undefined) buckets.push({ name: bucket.Name, createdAt: bucket.CreationDate?.getTime() ?? null });
    }
    token = page.ContinuationToken;
  } while (token !== undefined && token !== '');
  return buckets;
}

/**
 * Every object under the prefix, one page (up to 1,000 keys) in memory at a time.
 * Throws StorageRequestFailed (NoSuchBucket, AccessDenied...) with an explanation.
 */
export async function* iterateObjects(
  client: S3Client,
  bucket: string,
  prefix?: string,
  options: ListingOptions = {},
): AsyncGenerator<ObjectInfo> {
  const name = parseBucketName(bucket);
  const checkedPrefix = checkPrefix(prefix);
  let token: string | undefined;
  for (;;) {
    let page;
    try {
      page = await client.send(
        new ListObjectsV2Command({ Bucket: name, Prefix: checkedPrefix, ContinuationToken: token }),
        { abortSignal: options.signal },
      );
    } catch (error) {
      throw new StorageRequestFailed(explainS3Error(error, { bucket: name, action: 'list objects' }));
    }
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      yield { key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified?.getTime() ?? null };
    }
    const next = page.NextContinuationToken;
    // A truncated page without a new token would loop forever on a misbehaving store; stop instead.
    if (page.IsTruncated !== true || next === undefined || next === '' || next === token) return;
    token = next;
  }
}

/** Total bytes and object count under an optional prefix, through every page. */
export async function storageSummary(
  client: S3Client,
  bucket: string,
  prefix?: string,
  options: ListingOptions = {},
): Promise<StorageSummary> {
  let totalBytes = 0;
  let objectCount = 0;
  for await (const object of iterateObjects(client, bucket, prefix, options)) {
    totalBytes += object.size;
    objectCount += 1;
  }
  return { totalBytes, objectCount };
}

/** The n largest objects, largest first (ties by key). */
export async function largestObjects(
  client: S3Client,
  bucket: string,
  n: number,
  prefix?: string,
  options: ListingOptions = {},
): Promise<ObjectInfo[]> {
  const top = new TopN<ObjectInfo>(checkCount(n), (a, b) => a.size > b.size || (a.size === b.size && a.key < b.key));
  for await (const object of iterateObjects(client, bucket, prefix, options)) top.offer(object);
  return top.sorted();
}

/** The n most recently modified objects, newest first (ties by key). */
export async function recentObjects(
  client: S3Client,
  bucket: string,
  n: number,
  prefix?: string,
  options: ListingOptions = {},
): Promise<ObjectInfo[]> {
  const time = (object: ObjectInfo) => object.lastModified ?? Number.NEGATIVE_INFINITY;
  const top = new TopN<ObjectInfo>(checkCount(n), (a, b) => time(a) > time(b) || (time(a) === time(b) && a.key < b.key));
  for await (const object of iterateObjects(client, bucket, prefix, options)) top.offer(object);
  return top.sorted();
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** Bytes in binary units: 0 B, 1023 B, 1.5 KiB, 12.3 MiB, 2 GiB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return 'unknown size';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // Three significant figures at most, without trailing zeros: 1.5 KiB, 12.3 MiB, 512 GiB.
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${Number(value.toFixed(digits))} ${UNITS[unit]}`;
}
