import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { explainS3Error, s3ErrorCode } from '../src/storage/s3-errors.js';

// Refusals s3rver cannot produce (it has no bucket policies), built as the SDK builds them from a response.
function refusal(name: string, status: number, message = 'provider text that may echo request details'): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });
}

describe('explaining S3 refusals', () => {
  it('AccessDenied names the action and bucket, and never repeats the provider text', () => {
    const failure = explainS3Error(refusal('AccessDenied', 403), { action: 'write objects under terraform-state/1/x/', bucket: 'tf-state' });
    expect(failure.code).toBe('AccessDenied');
    expect(failure.message).toContain("not allowed to write objects under terraform-state/1/x/ on bucket 'tf-state'");
    expect(failure.message).not.toContain('provider text');
  });

  it('HEAD answers without a body still get a meaningful code', () => {
    expect(s3ErrorCode(refusal('NotFound', 404))).toBe('NoSuchBucket');
    expect(s3ErrorCode(refusal('Forbidden', 403))).toBe('AccessDenied');
    expect(s3ErrorCode(refusal('UnknownError', 301))).toBe('PermanentRedirect');
  });

  it('SignatureDoesNotMatch tells the member to re-enter the secret', () => {
    expect(explainS3Error(refusal('SignatureDoesNotMatch', 403), { action: 'list buckets' }).message).toContain('Enter the secret again');
  });

  it('an unknown code is passed through by name only', () => {
    expect(explainS3Error(refusal('SlowDown', 503), { action: 'list objects' })).toEqual({
      code: 'SlowDown',
      message: 'The provider refused to list objects (SlowDown).',
    });
    expect(s3ErrorCode(new Error('boom'))).toBe('UnknownError');
  });
});
