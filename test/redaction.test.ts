import { describe, expect, it } from 'vitest';
import { MIN_SECRET_LENGTH, Redactor } from '../src/shared/redaction.js';

const PROJECT_ID = 'acme-prod-381204';
const PRIVATE_KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
  'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu',
  'NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ',
  '-----END PRIVATE KEY-----',
  '',
].join('\n');
const KEY_FILE = JSON.stringify({
  type: 'service_account',
  project_id: PROJECT_ID,
  private_key_id: '4f1c2a9b8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b',
  private_key: PRIVATE_KEY,
  client_email: `deployer@${PROJECT_ID}.iam.gserviceaccount.com`,
  token_uri: 'https://oauth2.googleapis.com/token',
});
const KEY_LINE = 'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu';

const redactor = new Redactor([PROJECT_ID, KEY_FILE]);

/** Whether any piece of `secret` of `min` characters or more is still in `text`. */
function leaksPiece(text: string, secret: string, min = 6): boolean {
  const hay = text.toLowerCase();
  for (let i = 0; i + min <= secret.length; i++) if (hay.includes(secret.slice(i, i + min).toLowerCase())) return true;
  return false;
}

describe('one redactor for every spelling of a secret', () => {
  it('blanks a secret as given and in another case', () => {
    expect(redactor.text(`project ${PROJECT_ID} not found`)).toBe('project [redacted] not found');
    expect(redactor.text(`PROJECT ${PROJECT_ID.toUpperCase()} NOT FOUND`)).toBe('PROJECT [redacted] NOT FOUND');
    expect(redactor.text(`instance projects/${PROJECT_ID}/zones/us-central1-a/instances/vm-1`)).toBe(
      'instance projects/[redacted]/zones/us-central1-a/instances/vm-1',
    );
  });

  it('blanks a key file echoed JSON-escaped, with \\n, \\" and \\u002f escapes, even escaped twice', () => {
    const once = JSON.stringify(KEY_FILE).slice(1, -1);
    const twice = JSON.stringify(once).slice(1, -1);
    const unicode = once.replace(/\//g, '\\u002f');
    for (const echoed of [once, twice, unicode, JSON.stringify(PRIVATE_KEY)]) {
      const out = redactor.text(`error loading credentials: ${echoed} is not usable`);
      expect(out).toMatch(/^error loading credentials: .*\[redacted\].* is not usable$/);
      expect(leaksPiece(out, KEY_LINE, 12), out).toBe(false);
      expect(out).not.toContain(PROJECT_ID);
    }
  });

  it('blanks URL-encoded and form-encoded forms', () => {
    const encoded = encodeURIComponent(PRIVATE_KEY);
    expect(leaksPiece(redactor.text(`GET /token?assertion=${encoded}`), KEY_LINE, 12)).toBe(false);
    expect(redactor.text(`key=${encodeURIComponent(KEY_LINE).replace(/%2F/g, '%2f')}`)).toBe('key=[redacted]');
    const secretWithSpace = new Redactor(['open sesame 42']);
    expect(secretWithSpace.text('pw=open+sesame+42&x=1')).toBe('pw=[redacted]&x=1');
  });

  it('blanks a single line of a PEM key and the key body printed without line breaks', () => {
    expect(redactor.text(`bad line ${KEY_LINE}`)).toBe('bad line [redacted]');
    const body = PRIVATE_KEY.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    expect(redactor.text(`der=${body}`)).toBe('der=[redacted]');
  });

  it('leaves the public fields of a key file alone', () => {
    expect(redactor.text('expected a service_account key for https://oauth2.googleapis.com/token')).toBe(
      'expected a service_account key for https://oauth2.googleapis.com/token',
    );
  });

  it(`does not treat values shorter than ${MIN_SECRET_LENGTH} characters as secrets`, () => {
    const short = new Redactor(['us', 'eu-1', 'true']);
    expect(short.text('status: true in us-east-1 and eu-1')).toBe('status: true in us-east-1 and eu-1');
  });

  it('redacts before cutting: a secret across the limit leaves no prefix behind', () => {
    const text = `${'x'.repeat(290)} ${PROJECT_ID} and more`;
    const naive = `${text.slice(0, 299)}…`;
    expect(naive).toContain(PROJECT_ID.slice(0, 8));
    const clipped = redactor.clip(text, 300);
    expect(clipped.length).toBeLessThanOrEqual(300 + '[redacted]'.length);
    expect(leaksPiece(clipped, PROJECT_ID)).toBe(false);
  });

  it('blanks a trailing piece of a secret (6 characters or more), whether we cut the text or it came cut', () => {
    const ordinaryTail = `${'y'.repeat(400)} project ${PROJECT_ID.slice(0, 9)}`;
    // Cut at 299 characters, well before the piece: nothing is blanked.
    expect(redactor.clip(ordinaryTail, 300)).toBe(`${'y'.repeat(299)}…`);
    expect(redactor.clip(`quota exceeded in project ${PROJECT_ID.slice(0, 9)}`, 300)).toBe('quota exceeded in project [redacted]');
    const pieceAtLimit = `${'y'.repeat(290)} ${PROJECT_ID.slice(0, 8)}zzzzzzzzzzzzzzzz`;
    expect(redactor.clip(pieceAtLimit, 300)).toBe(`${'y'.repeat(290)} [redacted]…`);
    const tooShort = `${'y'.repeat(294)} ${PROJECT_ID.slice(0, 4)}zzzzzzzzzz`;
    expect(redactor.clip(tooShort, 300)).toBe(`${tooShort.slice(0, 299)}…`);
    expect(redactor.clip(`ends with ${PROJECT_ID.slice(0, 5)}`, 300)).toBe(`ends with ${PROJECT_ID.slice(0, 5)}`);
  });

  it('blanks a trailing piece of a JSON-escaped key cut in the middle of an escape', () => {
    const escaped = JSON.stringify(PRIVATE_KEY).slice(1, -1).replace(/\//g, '\\u002f');
    const slash = escaped.indexOf('\\u002f', escaped.indexOf(KEY_LINE.slice(0, 10)));
    for (const cut of [escaped.slice(0, slash + 1), escaped.slice(0, slash + 3), escaped.slice(0, slash - 20)]) {
      const clipped = redactor.clip(`${'z'.repeat(100)} ${cut}`, 5000);
      expect(clipped.endsWith('[redacted]'), clipped).toBe(true);
      expect(leaksPiece(clipped, KEY_LINE), clipped).toBe(false);
    }
  });

  it('blanks a leading piece of a secret when the start of the text was cut off', () => {
    const tail = `${PROJECT_ID.slice(5)} could not be reached\nError: boom`;
    expect(redactor.cutAtStart(tail)).toBe('[redacted] could not be reached\nError: boom');
    expect(redactor.cutAtStart('Error: nothing secret here')).toBe('Error: nothing secret here');
  });

  it('redacts every string of a value, keys included, and keeps other values', () => {
    const outputs = {
      vm_1_id: { sensitive: false, value: `projects/${PROJECT_ID}/zones/us-central1-a/instances/vm-1` },
      tags: { sensitive: false, value: [PROJECT_ID.toUpperCase(), 42, true, null, { [PROJECT_ID]: 'x' }] },
    };
    expect(redactor.deep(outputs)).toEqual({
      vm_1_id: { sensitive: false, value: 'projects/[redacted]/zones/us-central1-a/instances/vm-1' },
      tags: { sensitive: false, value: ['[redacted]', 42, true, null, { '[redacted]': 'x' }] },
    });
  });

  it('gives log entries an error with its message and stack redacted', () => {
    const logged = redactor.error(new Error(`cannot read ${PROJECT_ID}`));
    expect(logged.message).toBe('cannot read [redacted]');
    expect(logged.stack).not.toContain(PROJECT_ID);
  });
});
