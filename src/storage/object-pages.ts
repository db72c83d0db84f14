/**
 * One page of a bucket listing at a time, for a member paging with buttons: ListObjectsV2 hands back a continuation
 * token with each truncated page, and the next page is asked for with it (seed 000's list_objects).
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ListingOptions, ObjectInfo } from './insights.js';
import { checkPrefix } from './insights.js';
import { parseBucketName } from './s3-client.js';
import { StorageRequestFailed, explainS3Error } from './s3-errors.js';

export const OBJECT_PAGE_SIZE = 15;

export interface ObjectPage {
  objects: ObjectInfo[];
  /** Absent on the last page. */
  nextToken: string | undefined;
}

export async function listObjectPage(
  client: S3Client,
  bucket: string,
  prefix: string | undefined,
  token: string | undefined,
  options: ListingOptions & { pageSize?: number } = {},
): Promise<ObjectPage> {
  const name = parseBucketName(bucket);
  let page;
  try {
    page = await client.send(
      new ListObjectsV2Command({
        Bucket: name,
        Prefix: checkPrefix(prefix),
        ContinuationToken: token,
        MaxKeys: options.pageSize ?? OBJECT_PAGE_SIZE,
      }),
      { abortSignal: options.signal },
    );
  } catch (error) {
    throw new StorageRequestFailed(explainS3Error(error, { bucket: name, action: 'list objects' }));
  }
  const objects: ObjectInfo[] = [];
  for (const object of page.Contents ?? []) {
    if (object.Key !== undefined) objects.push({ key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified?.getTime() ?? null });
  }
  const next = page.NextContinuationToken;
  // A store that says "truncated" but gives no new token would page forever: treat it as the last page.
  const more = page.IsTruncated === true && next !== undefined && next !== '' && next !== token;
  return { objects, nextToken: more ? next : undefined };
}
