/**
 * The one place an S3 client is built from a credential, for AWS and S3-compatible stores alike
 * (seed 000's per-request client: key pair, region and optional endpoint).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { parseProviderSecrets } from '../credentials/secrets.js';
import { guardedLookup } from '../shared/endpoint.js';
import { UserError } from '../shared/errors.js';
import { quietSdkNodeVersionWarning } from './sdk-node-warning.js';

export interface S3Target {
  /** access_key_id, secret_access_key and optionally session_token, as stored or held by the vault. */
  secrets: Record<string, string>;
  region?: string | null | undefined;
  /** An S3-compatible origin (Spaces, MinIO, R2...); absent for AWS itself. */
  endpoint?: string | null | undefined;
}

export interface S3ClientOptions {
  /** Attempts per request including the first; validation uses 1 to answer quickly. */
  maxAttempts?: number;
  requestTimeoutMs?: number;
}

/** S3 requires a region for signing even where the store ignores it (most S3-compatible ones accept us-east-1). */
export const DEFAULT_S3_REGION = 'us-east-1';

/**
 * Builds a client for the credential. Call `destroy()` when done (or use `withS3Client`) so sockets are released.
 * Throws InvalidCredentialSecrets if the key pair is incomplete.
 */
export function createS3Client(target: S3Target, options: S3ClientOptions = {}): S3Client {
  const secrets = parseProviderSecrets('s3', target.secrets);
  const endpoint = target.endpoint ?? undefined;
  quietSdkNodeVersionWarning();
  return new S3Client({
    region: target.region ?? DEFAULT_S3_REGION,
    credentials: {
      accessKeyId: secrets.access_key_id,
      secretAccessKey: secrets.secret_access_key,
      ...(secrets.session_token === undefined ? {} : { sessionToken: secrets.session_token }),
    },
    ...(endpoint === undefined
      ? {}
      : {
          endpoint,
          // S3-compatible stores rarely have wildcard DNS for virtual-hosted buckets.
          forcePathStyle: true,
        }),
    // Many S3-compatible stores reject the SDK's newer default integrity headers; send them only where required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: 5_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      // Every connection re-checks where the name resolves now: no request reaches a metadata service.
      httpAgent: { keepAlive: true, lookup: guardedLookup },
      httpsAgent: { keepAlive: true, lookup: guardedLookup },
    },
  });
}

/** Runs `work` with a fresh client and always releases it. */
export async function withS3Client<T>(target: S3Target, work: (client: S3Client) => Promise<T>, options?: S3ClientOptions): Promise<T> {
  const client = createS3Client(target, options);
  try {
    return await work(client);
  } finally {
    client.destroy();
  }
}

export class InvalidBucketName extends UserError {
  constructor() {
    super(
      'storage.invalid_bucket',
      "That is not a valid bucket name: use 3 to 63 lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit.",
    );
  }
}

const bucketNameSchema = z.string().trim().regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/);

/** Validates a bucket name before it goes into a request path. */
export function parseBucketName(value: string): string {
  const result = bucketNameSchema.safeParse(value);
  if (!result.success) throw new InvalidBucketName();
  return result.data;
}
