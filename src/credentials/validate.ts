/**
 * Checks a credential against its provider with a real, signed request, and reports the provider's verdict.
 * AWS and S3-compatible: ListBuckets (or HeadBucket when a bucket is named, for keys scoped to one bucket).
 * Google Cloud and Azure: what can be checked offline (src/credentials/offline-checks.ts), reported as such.
 */
import { HeadBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import type { CredentialProvider } from '../db/schema.js';
import { parseBucketName, withS3Client } from '../storage/s3-client.js';
import { explainS3Error } from '../storage/s3-errors.js';
import { isUserError } from '../shared/errors.js';
import { checkAzureOffline, checkGcpOffline, type OfflineCheck } from './offline-checks.js';
import type { RichText } from '../shared/text.js';

/** `offline`: only the format could be checked; `note` says so, and what was found, without reading as a failure. */
export type CredentialValidation = { ok: true } | OfflineCheck | { ok: false; code: string; message: RichText };

export interface ValidationTarget {
  provider: CredentialProvider;
  region: string | null;
  endpoint: string | null;
}

/**
 * Makes one signed call with the credential. Never throws for a provider refusal: the result carries the
 * provider's error code (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied...) and what to do about it.
 */
export async function validateCredential(
  target: ValidationTarget,
  secrets: Record<string, string>,
  options: { bucket?: string; timeoutMs?: number } = {},
): Promise<CredentialValidation> {
  if (target.provider === 'gcp' || target.provider === 'azure') {
    try {
      return target.provider === 'gcp' ? checkGcpOffline(secrets) : checkAzureOffline(secrets);
    } catch (error) {
      if (isUserError(error)) return { ok: false, code: error.code, message: error.text };
      throw error;
    }
  }
  let bucket: string | undefined;
  try {
    bucket = options.bucket === undefined ? undefined : parseBucketName(options.bucket);
    return await withS3Client(
      { secrets, region: target.region, endpoint: target.endpoint },
      async (client) => {
        if (bucket === undefined) await client.send(new ListBucketsCommand({}));
        else await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return { ok: true } as const;
      },
      // One attempt: a refusal will not change on retry, and the member is waiting.
      { maxAttempts: 1, requestTimeoutMs: options.timeoutMs ?? 15_000 },
    );
  } catch (error) {
    if (isUserError(error)) return { ok: false, code: error.code, message: error.text };
    const action = bucket === undefined ? 'list buckets' : 'read the bucket';
    return { ok: false, ...explainS3Error(error, { action, bucket, endpoint: target.endpoint }) };
  }
}
