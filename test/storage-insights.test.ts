import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidInsightsRequest,
  formatBytes,
  iterateObjects,
  largestObjects,
  listBuckets,
  recentObjects,
  storageSummary,
} from '../src/storage/insights.js';
import { createS3Client } from '../src/storage/s3-client.js';
import { StorageRequestFailed } from '../src/storage/s3-errors.js';
import { TopN } from '../src/storage/top-n.js';
import { startS3Server, type TestS3Server } from './support/s3-server.js';

const OBJECT_COUNT = 1_100;
/** Object i is i % 50 + 1 bytes; three larger ones sit under big/. */
const sizeOf = (i: number) => (i % 50) + 1;
const BIG = [
  { key: 'big/a.bin', size: 5_000 },
  { key: 'big/b.bin', size: 7_000 },
  { key: 'big/c.bin', size: 6_000 },
];

describe('storage insights on a real S3-compatible server', () => {
  let server: TestS3Server;
  let client: S3Client;

  beforeAll(async () => {
    server = await startS3Server({ buckets: ['media', 'logs'] });
    client = createS3Client({ secrets: { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey }, endpoint: server.endpoint });
    const uploads = [
      ...Array.from({ length: OBJECT_COUNT }, (_, i) => ({ key: `small/${String(i).padStart(5, '0')}.txt`, size: sizeOf(i) })),
      ...BIG,
    ];
    // In modest batches: quick, without opening a thousand sockets at once.
    for (let start = 0; start < uploads.length; start += 50) {
      await Promise.all(
        uploads
          .slice(start, start + 50)
          .map(({ key, size }) => client.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: 'x'.repeat(size) }))),
      );
    }
  }, 120_000);

  afterAll(async () => {
    client.destroy();
    await server.stop();
  });

  const smallBytes = Array.from({ length: OBJECT_COUNT }, (_, i) => sizeOf(i)).reduce((a, b) => a + b, 0);
  const bigBytes = BIG.reduce((total, object) => total + object.size, 0);

  it('lists the buckets the credential sees', async () => {
    expect((await listBuckets(client)).map((bucket) => bucket.name).sort()).toEqual(['logs', 'media']);
  });

  it('the summary pages past 1,000 objects to count everything', async () => {
    expect(await storageSummary(client, 'media')).toEqual({ totalBytes: smallBytes + bigBytes, objectCount: OBJECT_COUNT + BIG.length });
    expect(await storageSummary(client, 'media', 'small/')).toEqual({ totalBytes: smallBytes, objectCount: OBJECT_COUNT });
    expect(await storageSummary(client, 'logs')).toEqual({ totalBytes: 0, objectCount: 0 });
  });

  it('walks the listing one page at a time, each key once, in order', async () => {
    const seen: string[] = [];
    for await (const object of iterateObjects(client, 'media', 'small/')) seen.push(object.key);
    expect(seen).toHaveLength(OBJECT_COUNT);
    expect(new Set(seen).size).toBe(OBJECT_COUNT);
    expect(seen[1_000]).toBe('small/01000.txt');
  });

  it('finds the largest objects across every page', async () => {
    expect((await largestObjects(client, 'media', 3)).map((object) => [object.key, object.size])).toEqual([
      ['big/b.bin', 7_000],
      ['big/c.bin', 6_000],
      ['big/a.bin', 5_000],
    ]);
    // Among the small ones, size 50 is the largest; ties are broken by key.
    const smallest = await largestObjects(client, 'media', 2, 'small/');
    expect(smallest.map((object) => [object.key, object.size])).toEqual([
      ['small/00049.txt', 50],
      ['small/00099.txt', 50],
    ]);
  });

  it('finds the most recently modified objects, newest first', async () => {
    server.setLastModified('media', 'small/00007.txt', new Date(Date.UTC(2031, 0, 1)));
    server.setLastModified('media', 'small/01099.txt', new Date(Date.UTC(2031, 0, 3)));
    server.setLastModified('media', 'big/a.bin', new Date(Date.UTC(2031, 0, 2)));
    const recent = await recentObjects(client, 'media', 3);
    expect(recent).toEqual([
      { key: 'small/01099.txt', size: sizeOf(1099), lastModified: Date.UTC(2031, 0, 3) },
      { key: 'big/a.bin', size: 5_000, lastModified: Date.UTC(2031, 0, 2) },
      { key: 'small/00007.txt', size: sizeOf(7), lastModified: Date.UTC(2031, 0, 1) },
    ]);
  });

  it('a missing bucket or a bad count is explained', async () => {
    await expect(storageSummary(client, 'no-such-bucket')).rejects.toThrow(StorageRequestFailed);
    await expect(storageSummary(client, 'no-such-bucket')).rejects.toThrow(/does not exist.*NoSuchBucket/);
    await expect(largestObjects(client, 'media', 0)).rejects.toThrow(InvalidInsightsRequest);
    await expect(recentObjects(client, 'media', 101)).rejects.toThrow(InvalidInsightsRequest);
  });

  it('an unknown key cannot list buckets, and the reason is the provider code', async () => {
    const stranger = createS3Client({ secrets: { access_key_id: 'AKIANOTKNOWNTOS3RVER', secret_access_key: 'x' }, endpoint: server.endpoint });
    try {
      await expect(listBuckets(stranger)).rejects.toMatchObject({ code: 'storage.InvalidAccessKeyId' });
    } finally {
      stranger.destroy();
    }
  });
});

describe('bounded top-N', () => {
  it('keeps only the best n of a long stream, in order', () => {
    const top = new TopN<number>(5, (a, b) => a > b);
    const values = Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10_007);
    for (const value of values) {
      top.offer(value);
      expect(top.size).toBeLessThanOrEqual(5);
    }
    expect(top.sorted()).toEqual([...values].sort((a, b) => b - a).slice(0, 5));
  });
});

describe('human sizes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024 + 300 * 1024, '10.3 MiB'],
    [5 * 1024 ** 3, '5 GiB'],
    [123.4 * 1024 ** 4, '123 TiB'],
    [-1, 'unknown size'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
