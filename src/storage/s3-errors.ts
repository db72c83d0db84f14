/**
 * Turns what the SDK throws into the provider's error code and a message that says what to do. The provider's own
 * message text is never passed on: some providers echo request details in it. Neither is a code S3 does not
 * define: the SDK names the error after whatever the answer's <Code> says, and any server can write anything there.
 */
import { S3ServiceException } from '@aws-sdk/client-s3';
import { UserError } from '../shared/errors.js';

export interface S3Failure {
  /** The provider's error code (InvalidAccessKeyId, NoSuchBucket, AccessDenied...) or EndpointUnreachable / Timeout. */
  code: string;
  message: string;
}

export interface S3ErrorContext {
  /** What was being done, as a phrase: "list buckets", "write under terraform-state/…/". */
  action: string;
  bucket?: string | undefined;
  endpoint?: string | null | undefined;
}

/** Error codes S3 documents (and S3-compatible stores reuse); anything else is reported as UnknownError. */
const KNOWN_S3_CODES = new Set([
  'AccessDenied', 'AccountProblem', 'AllAccessDisabled', 'AuthorizationHeaderMalformed', 'BadDigest', 'BucketAlreadyExists',
  'BucketAlreadyOwnedByYou', 'BucketNotEmpty', 'EntityTooLarge', 'EntityTooSmall', 'ExpiredToken', 'IllegalLocationConstraintException',
  'IncompleteBody', 'InternalError', 'InvalidAccessKeyId', 'InvalidArgument', 'InvalidBucketName', 'InvalidBucketState',
  'InvalidDigest', 'InvalidLocationConstraint', 'InvalidObjectState', 'InvalidRange', 'InvalidRequest', 'InvalidSecurity',
  'InvalidStorageClass', 'InvalidToken', 'KeyTooLongError', 'MalformedXML', 'MethodNotAllowed', 'MissingContentLength',
  'MissingSecurityHeader', 'NoSuchBucket', 'NoSuchBucketPolicy', 'NoSuchKey', 'NoSuchUpload', 'NotImplemented', 'NotSignedUp',
  'OperationAborted', 'PermanentRedirect', 'PreconditionFailed', 'QuotaExceeded', 'RequestTimeTooSkewed', 'RequestTimeout',
  'ServiceUnavailable', 'SignatureDoesNotMatch', 'SlowDown', 'TemporaryRedirect', 'TokenRefreshRequired', 'TooManyBuckets',
  'XAmzContentSHA256Mismatch',
]);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE']);

/** The provider's error code, normalised: HEAD responses carry no body, so 404/403 arrive as NotFound/Forbidden. */
export function s3ErrorCode(error: unknown): string {
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    if (error.name === 'NotFound' || (error.name === 'UnknownError' && status === 404)) return 'NoSuchBucket';
    if (error.name === 'Forbidden' || (error.name === 'UnknownError' && status === 403)) return 'AccessDenied';
    if (status === 301 && (error.name === 'UnknownError' || error.name === 'MovedPermanently')) return 'PermanentRedirect';
    return KNOWN_S3_CODES.has(error.name) ? error.name : 'UnknownError';
  }
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
    if (code !== undefined && NETWORK_CODES.has(code)) return 'EndpointUnreachable';
    if (error.name === 'TimeoutError' || error.name === 'AbortError' || code === 'ECONNABORTED') return 'Timeout';
  }
  return 'UnknownError';
}

function httpStatus(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object' || !('$metadata' in error)) return undefined;
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/** Code plus an explanation written for the member: what is wrong and what to do. */
export function explainS3Error(error: unknown, context: S3ErrorContext): S3Failure {
  const code = s3ErrorCode(error);
  const bucket = context.bucket === undefined ? '' : ` bucket '${context.bucket}'`;
  const where = context.endpoint ? ` at ${context.endpoint}` : '';
  const messages: Record<string, string> = {
    InvalidAccessKeyId: 'The provider does not know this access key id. Check it was copied completely and has not been deleted or deactivated.',
    SignatureDoesNotMatch: 'The secret access key does not match the access key id. Enter the secret again.',
    InvalidToken: 'The session token is not valid. Enter a fresh one, or remove it for long-lived keys.',
    ExpiredToken: 'The session token has expired. Enter fresh temporary credentials.',
    TokenRefreshRequired: 'The session token has expired. Enter fresh temporary credentials.',
    AccessDenied: `The credential is not allowed to ${context.action}${bucket ? ` on${bucket}` : ''}. Grant that permission to the key, or use another credential.`,
    AllAccessDisabled: `All access to${bucket || ' this account'} is disabled by the provider.`,
    AccountProblem: 'The provider reports a problem with the account (billing or suspension). Check the account with the provider.',
    NoSuchBucket: `The${bucket || ' bucket'} does not exist${where}. Create it, fix the name, or check the credential's region and endpoint.`,
    PermanentRedirect: `The${bucket || ' bucket'} is in another region than the credential's. Set the credential's region to the bucket's.`,
    AuthorizationHeaderMalformed: "The credential's region does not match the provider's. Set the region to the bucket's region.",
    RequestTimeTooSkewed: "The bot's clock differs too much from the provider's. The operator should sync the host clock (NTP).",
    EndpointUnreachable: `Could not connect to the storage endpoint${where}. Check the endpoint URL and that the service is up.`,
    Timeout: `The storage endpoint${where} did not answer in time. Try again, or check the endpoint.`,
  };
  if (code === 'UnknownError') {
    // What the server said is not shown (it may be an HTML page, a proxy's debug output, or worse): only its status.
    const status = httpStatus(error);
    return {
      code,
      message: `The storage endpoint${where} gave an answer that is not a known S3 error${status === undefined ? '' : ` (HTTP ${status})`} when asked to ${context.action}. Check that the endpoint is an S3-compatible store and that it is working.`,
    };
  }
  return { code, message: messages[code] ?? `The provider refused to ${context.action} (${code}).` };
}

/** An S3 request failed in a way the member can act on; `failure.code` is the provider's error code. */
export class StorageRequestFailed extends UserError {
  constructor(readonly failure: S3Failure) {
    super(`storage.${failure.code}`, `${failure.message} (provider error: ${failure.code})`);
  }
}
