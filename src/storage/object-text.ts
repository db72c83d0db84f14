/** Reads an object as text, never more than a bound: a log or metrics file is read in full only when it is small. */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ListingOptions } from './insights.js';
import { StorageRequestFailed, explainS3Error } from './s3-errors.js';

export interface ObjectText {
  text: string;
  /** The object is longer than the bound; `text` is its beginning, cut at the last whole line. */
  truncated: boolean;
}

export const MAX_OBJECT_TEXT_BYTES = 4 * 1024 * 1024;

export async function readObjectText(
  client: S3Client,
  bucket: string,
  key: string,
  options: ListingOptions & { maxBytes?: number } = {},
): Promise<ObjectText> {
  const maxBytes = options.maxBytes ?? MAX_OBJECT_TEXT_BYTES;
  let body: string;
  let total: number | undefined;
  try {
    // Range asks for one byte more than the bound, so "exactly the bound" and "longer" can be told apart.
    const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${maxBytes}` }), {
      abortSignal: options.signal,
    });
    body = (await answer.Body?.transformToString('utf8')) ?? '';
    const range = /\/(\d+)$/.exec(answer.ContentRange ?? '');
    total = range ? Number(range[1]) : undefined;
  } catch (error) {
    throw new StorageRequestFailed(explainS3Error(error, { bucket, action: `read '${key}'` }));
  }
  const truncated = (total ?? Buffer.byteLength(body)) > maxBytes;
  if (!truncated) return { text: body, truncated };
  const cut = body.slice(0, maxBytes);
  const lastLine = cut.lastIndexOf('\n');
  return { text: lastLine >= 0 ? cut.slice(0, lastLine + 1) : '', truncated };
}
