import { describe, expect, it } from 'vitest';
import { InvalidCredentialSecrets } from '../src/credentials/errors.js';
import { keyIdHint, parseProviderSecrets, secretFields } from '../src/credentials/secrets.js';

function problemsOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidCredentialSecrets);
    return (error as Error).message;
  }
  throw new Error('expected InvalidCredentialSecrets');
}

const serviceAccount = JSON.stringify({
  type: 'service_account',
  project_id: 'my-project-123',
  client_email: 'bot@my-project-123.iam.gserviceaccount.com',
  private_key: '-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----\n',
});

describe('provider secret fields', () => {
  it('aws keeps the key pair and optional session token, trims, and drops unknown fields', () => {
    expect(parseProviderSecrets('aws', { access_key_id: ' AKIAEXAMPLEEXAMPLE1 ', secret_access_key: 's3cr3t', session_token: '', extra: 'x' })).toEqual({
      access_key_id: 'AKIAEXAMPLEEXAMPLE1',
      secret_access_key: 's3cr3t',
    });
  });

  it('lists every missing field of azure at once', () => {
    const message = problemsOf(() => parseProviderSecrets('azure', { client_secret: 'shh', tenant_id: 'nope-not-a-guid' }));
    expect(message).toContain('subscription_id is missing');
    expect(message).toContain('client_id is missing');
    expect(message).toContain('tenant_id must be a GUID');
    expect(message).not.toContain('nope-not-a-guid');
    expect(message).not.toContain('shh');
  });

  it('gcp accepts a service-account key file and refuses other JSON without quoting it', () => {
    expect(parseProviderSecrets('gcp', { project_id: 'my-project-123', credentials_json: serviceAccount }).credentials_json).toBe(serviceAccount);
    const notJson = problemsOf(() => parseProviderSecrets('gcp', { project_id: 'my-project-123', credentials_json: '{"private_key": "leak' }));
    expect(notJson).toContain('credentials_json is not valid JSON');
    expect(notJson).not.toContain('leak');
    const userAccount = problemsOf(() =>
      parseProviderSecrets('gcp', { project_id: 'my-project-123', credentials_json: JSON.stringify({ type: 'authorized_user', private_key: 'leak' }) }),
    );
    expect(userAccount).toContain('"type": "service_account"');
    expect(userAccount).toContain('client_email');
    expect(userAccount).not.toContain('leak');
  });

  it('something that is not a set of fields is refused', () => {
    expect(problemsOf(() => parseProviderSecrets('aws', 'AKIA:secret'))).toContain('expected a set of named fields');
  });

  it('only the last four characters of an access key id are ever kept as a hint', () => {
    expect(keyIdHint('aws', { access_key_id: 'AKIAIOSFODNN7EXAMPLE' })).toBe('MPLE');
    expect(keyIdHint('s3', { access_key_id: 'short' })).toBeNull();
    expect(keyIdHint('gcp', { project_id: 'my-project-123' })).toBeNull();
  });

  it('describes the fields a form must ask for', () => {
    expect(secretFields('aws')).toEqual([
      { name: 'access_key_id', optional: false },
      { name: 'secret_access_key', optional: false },
      { name: 'session_token', optional: true },
    ]);
  });
});
