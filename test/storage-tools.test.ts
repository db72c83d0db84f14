import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../src/credentials/credential-store.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { MasterKeyring } from '../src/credentials/master-keys.js';
import { openDatabase } from '../src/db/index.js';
import { withS3Client } from '../src/storage/s3-client.js';
import { ConsoleDriver } from './support/console-driver.js';
import { startS3Server, type TestS3Server } from './support/s3-server.js';

const OTHER_GUILD = '222222222222222222';
const OTHER_ADMIN = '333333333333333333';
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** The console's fake clock starts here; log lines are written relative to it. */
const NOW = Date.UTC(2024, 2, 10, 12, 0, 0);
const OWNER = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be';

let server: TestS3Server;
let shell: ConsoleDriver | undefined;

const secrets = () => ({ access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey });

function logTime(at: number): string {
  const d = new Date(at);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** One line in S3's server access log format: quoted fields with spaces, '-' for none, bracketed time. */
function logLine(at: number, ip: string, method: string, key: string | null, status: number, agent = 'aws-cli/2.15 Python/3.11 "quoted"'): string {
  const op = `REST.${method}.OBJECT`;
  const uri = key === null ? `"${method} /media HTTP/1.1"` : `"${method} /media/${encodeURIComponent(key)} HTTP/1.1"`;
  const error = status >= 400 ? 'NoSuchKey' : '-';
  const escapedAgent = agent.replace(/"/g, '\\"');
  return `${OWNER} media [${logTime(at)}] ${ip} ${OWNER} 3E57427F3EXAMPLE ${op} ${key === null ? '-' : encodeURIComponent(key)} ${uri} ${status} ${error} 113 113 7 6 "-" "${escapedAgent}" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader media.s3.amazonaws.com TLSv1.2 - -`;
}

const HOUR = 3_600_000;

beforeAll(async () => {
  server = await startS3Server({ buckets: ['media', 'pages', 'logs', 'metrics'] });
  await withS3Client({ secrets: secrets(), endpoint: server.endpoint }, async (client) => {
    // 35 objects: three pages of 15.
    for (let i = 0; i < 35; i += 1) {
      await client.send(new PutObjectCommand({ Bucket: 'pages', Key: `docs/file-${String(i).padStart(2, '0')}.txt`, Body: 'x'.repeat(i + 1) }));
    }
    await client.send(new PutObjectCommand({ Bucket: 'media', Key: 'photos/cat one.jpg', Body: 'x'.repeat(2048) }));
    const dayOne = [
      logLine(NOW - 30 * HOUR, '10.0.0.1', 'PUT', 'photos/cat one.jpg', 200),
      logLine(NOW - 29 * HOUR, '10.0.0.2', 'GET', 'photos/cat one.jpg', 200),
      'this line is not an access log line',
    ].join('\n');
    const dayTwo = [
      logLine(NOW - 3 * HOUR, '10.0.0.2', 'GET', 'photos/cat one.jpg', 200),
      logLine(NOW - 2 * HOUR, '10.0.0.2', 'GET', 'missing.jpg', 404),
      logLine(NOW - 1 * HOUR, '10.0.0.3', 'DELETE', 'photos/cat one.jpg', 204, 'Mozilla/5.0 (X11; Linux)'),
      logLine(NOW - 1 * HOUR, '10.0.0.2', 'GET', null, 200),
    ].join('\n');
    await client.send(new PutObjectCommand({ Bucket: 'logs', Key: 'access/2024-03-09-06-00-00-AAAA1111', Body: `${dayOne}\n` }));
    await client.send(new PutObjectCommand({ Bucket: 'logs', Key: 'access/2024-03-10-11-00-00-BBBB2222', Body: `${dayTwo}\n` }));
  });
}, 60_000);

afterAll(async () => {
  await server.stop();
});

afterEach(async () => {
  await shell?.close();
  shell = undefined;
});

async function consoleWithCredential(): Promise<ConsoleDriver> {
  shell = new ConsoleDriver({ argv: ['--user', 'alice', '--admin'], env: { CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64') } });
  shell.clock.set(NOW);
  await shell.waitFor('You are @alice');
  await shell.run(`/cloud-credentials add name:spaces provider:s3 region:us-east-1 endpoint:"${server.endpoint}"`, 'Access key id [hidden]: ');
  await shell.run(server.accessKeyId, 'Secret access key [hidden]: ');
  await shell.run(server.secretAccessKey, 'stored (encrypted)');
  return shell;
}

/** The PNG a console reply saved, checked by its signature and the size in its IHDR header. */
function savedPng(output: string, name: string): { width: number; height: number } {
  const path = new RegExp(`📎 ${name} \\([\\d,]+ bytes\\) saved to (\\S+)`).exec(output)?.[1];
  expect(path, `no saved ${name} in:\n${output}`).toBeDefined();
  const bytes = readFileSync(path as string);
  expect([...bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
  expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('/cloud-storage list pages through ListObjectsV2 continuation tokens', () => {
  it('shows 15 objects a page, Next and Previous fetch the pages with the tokens, the last page has no Next', async () => {
    const shell = await consoleWithCredential();
    const first = await shell.run('/cloud-storage list bucket:pages prefix:docs/ credential:spaces', 'type a number');
    expect(first).toContain('page 1');
    expect(first).toContain('docs/file-00.txt');
    expect(first).toContain('docs/file-14.txt');
    expect(first).not.toContain('docs/file-15.txt');
    expect(first).toContain('[1] Next ▶');
    const second = await shell.run('1', 'type a number');
    expect(second).toContain('page 2');
    expect(second).toContain('docs/file-15.txt');
    expect(second).toContain('docs/file-29.txt');
    expect(second).toContain('[1] ◀ Previous  [2] Next ▶');
    const third = await shell.run('2', 'type a number');
    expect(third).toMatch(/page 3 \(last\)/);
    expect(third).toContain('docs/file-34.txt');
    expect(third.slice(third.indexOf('page 3'))).not.toContain('Next ▶');
    const back = await shell.run('1', 'type a number');
    expect(back).toContain('page 2');
    expect(back).toContain('docs/file-15.txt');
    await shell.quit();
  });

  it('only the member who asked may page, and a member whose access ended cannot fetch the next page', async () => {
    const shell = await consoleWithCredential();
    await shell.run('/cloud-jit-grant user:@bob provider:aws level:viewer duration:30', 'JIT permission granted');
    await shell.run('/as bob', 'You are now @bob');
    await shell.run('/cloud-storage list bucket:pages credential:spaces', 'type a number');
    expect(await shell.run('1 as carol', 'still waiting')).toContain('Only the member who asked');
    // Bob's grant ends while the buttons wait: the next page is refused at the press.
    shell.clock.advance(31 * 60_000);
    const refused = await shell.run('1', '⛔');
    expect(refused).toMatch(/needs viewer access to AWS/i);
    expect(refused).not.toContain('file-15');
    await shell.quit();
  });
});

describe('/cloud-storage snapshot and metrics', () => {
  it('writes a JSON line per snapshot, lists the sources and charts bytes over time as a PNG', async () => {
    const shell = await consoleWithCredential();
    const snap = await shell.run('/cloud-storage snapshot bucket:media metrics_bucket:metrics credential:spaces', '└─');
    expect(snap).toContain('Metrics snapshot written');
    expect(snap).toContain('2 KiB (2,048 bytes)');
    expect(snap).toContain('chatops-metrics/2024/03/10/12/');

    await withS3Client({ secrets: secrets(), endpoint: server.endpoint }, (client) =>
      client.send(new PutObjectCommand({ Bucket: 'media', Key: 'photos/dog.jpg', Body: 'y'.repeat(1024) })),
    );
    shell.clock.advance(2 * HOUR);
    await shell.run('/cloud-storage snapshot bucket:media metrics_bucket:metrics credential:spaces', '└─');

    const sources = await shell.run('/cloud-storage metrics sources metrics_bucket:metrics credential:spaces', '└─');
    expect(sources).toMatch(/`media` — 2 point\(s\), latest 3 KiB \/ 2 objects/);

    const series = await shell.run('/cloud-storage metrics series metrics_bucket:metrics bucket:media credential:spaces hours:6', '📎');
    expect(series).toContain('2 point(s)');
    expect(series).toContain('+1 KiB over the window');
    expect(savedPng(series, 'bytes-over-time.png')).toEqual({ width: 800, height: 400 });

    // A window that ends before the first snapshot has no points (the window is honoured, not ignored).
    shell.clock.advance(30 * HOUR);
    const none = await shell.run('/cloud-storage metrics series metrics_bucket:metrics bucket:media credential:spaces hours:1', '📎');
    expect(none).toContain('No snapshots of it in that window');
    await shell.quit();
  });

  it('a snapshot writes to the bucket, so it needs deployer: a viewer is refused and nothing is written', async () => {
    const shell = await consoleWithCredential();
    await shell.run('/cloud-jit-grant user:@bob provider:aws level:viewer duration:30', 'JIT permission granted');
    await shell.run('/as bob', 'You are now @bob');
    const denied = await shell.run('/cloud-storage snapshot bucket:media metrics_bucket:metrics metrics_prefix:bob/ credential:spaces', '⛔');
    expect(denied).toMatch(/needs deployer access to AWS/i);
    const sources = await shell.run('/cloud-storage metrics sources metrics_bucket:metrics metrics_prefix:bob/ credential:spaces', '└─');
    expect(sources).toContain('None.');
    await shell.quit();
  });
});

describe('/cloud-storage logs and audit over S3 server access logs', () => {
  it('reads a log file, parsing quoted fields, "-" and the bracketed time, and counts a line that is not a log line', async () => {
    const shell = await consoleWithCredential();
    const read = await shell.run('/cloud-storage logs read log_bucket:logs key:access/2024-03-09-06-00-00-AAAA1111 credential:spaces', '└─');
    expect(read).toContain('2024-03-09 06:00:00 UTC · PUT 200 · `photos/cat one.jpg` · 10.0.0.1 · 113 B');
    expect(read).toContain('1 line(s) were not access-log lines');
    const list = await shell.run('/cloud-storage logs list log_bucket:logs log_prefix:access/ date:2024-03-10 credential:spaces', '└─');
    expect(list).toContain('access/2024-03-10-11-00-00-BBBB2222');
    expect(list).not.toContain('AAAA1111');
    await shell.quit();
  });

  it('searches by method, status prefix, key, date and text', async () => {
    const shell = await consoleWithCredential();
    const notFound = await shell.run('/cloud-storage logs search log_bucket:logs status:4 credential:spaces', '└─');
    expect(notFound).toContain('GET 404 NoSuchKey · `missing.jpg`');
    expect(notFound).not.toContain('GET 200');
    const deletes = await shell.run('/cloud-storage logs search log_bucket:logs method:delete credential:spaces', '└─');
    expect(deletes).toContain('DELETE 204 · `photos/cat one.jpg` · 10.0.0.3');
    expect(deletes).not.toContain('PUT 200');
    const onDay = await shell.run('/cloud-storage logs search log_bucket:logs key:"photos/cat one.jpg" date:2024-03-09 credential:spaces', '└─');
    expect(onDay).toContain('PUT 200');
    expect(onDay).toContain('2024-03-09 07:00:00 UTC · GET 200');
    expect(onDay).not.toContain('DELETE');
    const byAgent = await shell.run('/cloud-storage logs search log_bucket:logs contains:mozilla credential:spaces', '└─');
    expect(byAgent).toContain('DELETE 204');
    expect(byAgent).not.toContain('PUT 200');
    await shell.quit();
  });

  it("audits one object over the last hours, oldest first, and charts the top requesters as a PNG", async () => {
    const shell = await consoleWithCredential();
    const audit = await shell.run('/cloud-storage audit object log_bucket:logs bucket:media key:"photos/cat one.jpg" hours:24 credential:spaces', '└─');
    expect(audit).toMatch(/09:00:00 UTC · GET 200[\s\S]*11:00:00 UTC · DELETE 204/);
    // The PUT of 30 hours ago is outside the window.
    expect(audit).not.toContain('PUT');
    expect(audit).not.toContain('missing.jpg');

    const top = await shell.run('/cloud-storage logs top-requesters log_bucket:logs bucket:media credential:spaces', '📎');
    expect(top).toMatch(/1\. `10\.0\.0\.2` — 4 request\(s\)[\s\S]*2\. `10\.0\.0\.1` — 1 request\(s\)[\s\S]*3\. `10\.0\.0\.3` — 1 request\(s\)/);
    expect(savedPng(top, 'top-requesters.png')).toEqual({ width: 800, height: 400 });
    await shell.quit();
  });

  it('refuses a date that is not a day, a status that is not one, and a bad bucket name, before any request', async () => {
    const shell = await consoleWithCredential();
    expect(await shell.run('/cloud-storage logs search log_bucket:logs date:2024-02-30 credential:spaces', '⛔')).toContain("'2024-02-30' is not a date: write it as YYYY-MM-DD");
    expect(await shell.run('/cloud-storage logs search log_bucket:logs status:99 credential:spaces', '⛔')).toContain("'99' is not an HTTP status");
    expect(await shell.run('/cloud-storage logs list log_bucket:Bad_Logs! credential:spaces', '⛔')).toContain('That is not a valid bucket name');
    // Checked before the one-off key's form is shown: nobody types a secret for a request that is refused anyway.
    const early = await shell.run(`/cloud-storage logs search log_bucket:logs date:yesterday one_off:true endpoint:"${server.endpoint}"`, '⛔');
    expect(early).toContain("'yesterday' is not a date");
    expect(early).not.toContain('[hidden]');
    await shell.quit();
  });
});

describe('/cloud-storage keys: stored, one-off, another guild, allow-list', () => {
  it('a one-off key typed into the private form is used once and never stored', async () => {
    const shell = await consoleWithCredential();
    await shell.run(`/cloud-storage summary bucket:media one_off:true endpoint:"${server.endpoint}"`, 'Access key id [hidden]: ');
    await shell.run(server.accessKeyId, 'Secret access key [hidden]: ');
    const summary = await shell.run('one-off-secret-value-xyz', '└─');
    expect(summary).toContain('Storage summary — via a one-off key');
    expect(summary).toMatch(/Objects\W+\d/);
    expect(shell.databaseBytes()).not.toContain('one-off-secret-value-xyz');
    // An endpoint aimed at a cloud metadata service is refused before the form asks for a secret.
    const metadata = await shell.run('/cloud-storage summary bucket:media one_off:true endpoint:http://metadata.google.internal', '⛔');
    expect(metadata).toContain('must not point at a link-local or cloud metadata address');
    expect(metadata).not.toContain('[hidden]');
    expect(await shell.run('/cloud-credentials list', '└─')).not.toContain('one-off');
    await shell.quit();
  });

  it("another server's credential is not found, and a member without a grant is refused", async () => {
    const shell = await consoleWithCredential();
    const handle = openDatabase(shell.config.DATABASE_PATH);
    try {
      await new CredentialStore(sqliteDataAccess(handle), MasterKeyring.fromConfig(shell.config)).create({
        guildId: OTHER_GUILD,
        name: 'theirs',
        provider: 's3',
        endpoint: server.endpoint,
        secrets: secrets(),
        createdBy: OTHER_ADMIN,
      });
    } finally {
      handle.close();
    }
    expect(await shell.run('/cloud-storage logs search log_bucket:logs credential:theirs', '⛔')).toContain("There is no stored credential named 'theirs' in this server");
    expect(await shell.run('/cloud-storage allow-list credential:theirs buckets:logs', '⛔')).toContain("There is no stored credential named 'theirs'");
    await shell.run('/as bob', 'You are now @bob (member)');
    const denied = await shell.run('/cloud-storage logs search log_bucket:logs credential:spaces', '⛔');
    expect(denied).toMatch(/needs viewer access to AWS/i);
    expect(denied).not.toContain('10.0.0');
    await shell.quit();
  });

  it('an admin limits a credential to some buckets: others are refused, buckets lists only those, members cannot change it', async () => {
    const shell = await consoleWithCredential();
    const set = await shell.run('/cloud-storage allow-list credential:spaces buckets:"media, logs"', '└─');
    expect(set).toContain('is only for: `media`, `logs`');
    const refused = await shell.run('/cloud-storage summary bucket:pages credential:spaces', '⛔');
    expect(refused).toContain("The credential 'spaces' is only for the buckets media, logs; `pages` is not one of them");
    const buckets = await shell.run('/cloud-storage buckets credential:spaces', '└─');
    expect(buckets).toContain('`media`');
    expect(buckets).not.toContain('`pages`');
    expect(await shell.run('/cloud-storage summary bucket:media credential:spaces', '└─')).toContain('Storage summary');

    await shell.run('/cloud-jit-grant user:@bob provider:aws level:admin duration:30', 'JIT permission granted');
    await shell.run('/as bob', 'You are now @bob');
    expect(await shell.run('/cloud-storage allow-list credential:spaces', '└─')).toContain('is only for: `media`, `logs`');
    expect(await shell.run('/cloud-storage allow-list credential:spaces buckets:none', '⛔')).toContain('is for server admins');
    await shell.run('/as alice', 'You are now @alice');
    expect(await shell.run('/cloud-storage allow-list credential:spaces buckets:none', '└─')).toContain('Cleared');
    expect(await shell.run('/cloud-storage summary bucket:pages credential:spaces', '└─')).toContain('Storage summary');
    await shell.quit();
  });
});
