import { randomBytes } from 'node:crypto';
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

/** Key → size; modified one day apart in this order, so the last is the newest. */
const OBJECTS: Array<{ key: string; size: number }> = [
  { key: 'img/big.bin', size: 5_000 },
  { key: 'logs/b.txt', size: 3_000 },
  { key: 'img/small.png', size: 10 },
  { key: 'logs/a.txt', size: 100 },
];

let server: TestS3Server;
let shell: ConsoleDriver | undefined;

beforeAll(async () => {
  server = await startS3Server({ buckets: ['media', 'empty'] });
  const secrets = { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey };
  await withS3Client({ secrets, endpoint: server.endpoint }, async (client) => {
    for (const { key, size } of OBJECTS) {
      await client.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: 'x'.repeat(size) }));
    }
  });
  OBJECTS.forEach(({ key }, i) => server.setLastModified('media', key, new Date(Date.UTC(2024, 0, 1 + i))));
}, 30_000);

afterAll(async () => {
  await server.stop();
});

afterEach(async () => {
  await shell?.close();
  shell = undefined;
});

/** A console with a master key and an admin who has stored the s3rver key pair as `spaces`. */
async function consoleWithCredential(): Promise<ConsoleDriver> {
  shell = new ConsoleDriver({ argv: ['--user', 'alice', '--admin'], env: { CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64') } });
  await shell.waitFor('You are @alice');
  await shell.run(`/cloud-credentials add name:spaces provider:s3 region:us-east-1 endpoint:"${server.endpoint}"`, 'Access key id [hidden]: ');
  await shell.run(server.accessKeyId, 'Secret access key [hidden]: ');
  await shell.run(server.secretAccessKey, 'stored (encrypted)');
  return shell;
}

describe('/cloud-storage on a real S3-compatible server', () => {
  it('lists buckets, sums a bucket or a prefix, and shows the largest and the newest objects in human units', async () => {
    const shell = await consoleWithCredential();
    const buckets = await shell.run('/cloud-storage buckets credential:spaces', '└─');
    expect(buckets).toContain('Buckets — via spaces');
    expect(buckets).toContain('`media`');
    expect(buckets).toContain('`empty`');

    const summary = await shell.run('/cloud-storage summary credential:spaces bucket:media', '└─');
    expect(summary).toContain('Storage summary — via spaces');
    expect(summary).toContain('7.92 KiB (8,110 bytes)');
    expect(summary).toMatch(/Objects\W+4/);
    const logs = await shell.run('/cloud-storage summary credential:spaces bucket:media prefix:logs/', '└─');
    expect(logs).toContain('under `logs/`');
    expect(logs).toContain('3.03 KiB (3,100 bytes)');
    expect(logs).toMatch(/Objects\W+2/);
    expect(await shell.run('/cloud-storage summary credential:spaces bucket:empty', '└─')).toContain('0 B (0 bytes)');

    const largest = await shell.run('/cloud-storage largest credential:spaces bucket:media count:2', '└─');
    expect(largest).toMatch(/1\. `img\/big\.bin` — 4\.88 KiB[\s\S]*2\. `logs\/b\.txt` — 2\.93 KiB/);
    expect(largest).not.toContain('small.png');

    const recent = await shell.run('/cloud-storage recent credential:spaces bucket:media count:3', '└─');
    expect(recent).toMatch(/1\. `logs\/a\.txt` — 100 B[\s\S]*2\. `img\/small\.png` — 10 B[\s\S]*3\. `logs\/b\.txt`/);
    expect(recent).not.toContain('big.bin');
    const recentImages = await shell.run('/cloud-storage recent credential:spaces bucket:media prefix:img/', '└─');
    expect(recentImages).toMatch(/1\. `img\/small\.png`[\s\S]*2\. `img\/big\.bin`/);
    await shell.quit();
  });

  it('says what is wrong with a missing bucket or a bad bucket name', async () => {
    const shell = await consoleWithCredential();
    const missing = await shell.run('/cloud-storage summary credential:spaces bucket:nowhere', '⛔');
    expect(missing).toContain("The bucket 'nowhere' does not exist");
    expect(missing).toContain('(provider error: NoSuchBucket)');
    expect(await shell.run('/cloud-storage largest credential:spaces bucket:Bad_Name!', '⛔')).toContain('That is not a valid bucket name');
    await shell.quit();
  });

  it('needs viewer access to AWS: a member without a grant is refused, and allowed once granted', async () => {
    const shell = await consoleWithCredential();
    await shell.run('/as bob', 'You are now @bob (member)');
    const denied = await shell.run('/cloud-storage buckets credential:spaces', '⛔');
    expect(denied).toMatch(/needs viewer access to AWS/i);
    expect(denied).not.toContain('media');

    await shell.run('/as alice', 'You are now @alice');
    await shell.run('/cloud-jit-grant user:@bob provider:aws level:viewer duration:30', 'JIT permission granted');
    await shell.run('/as bob', 'You are now @bob');
    expect(await shell.run('/cloud-storage summary credential:spaces bucket:media', '└─')).toMatch(/Objects\W+4/);
    await shell.quit();
  });

  it("uses only this server's credentials: another server's, a removed one or a non-S3 one is refused", async () => {
    const shell = await consoleWithCredential();
    // Another guild stores the same key pair under its own name, in the same database.
    const handle = openDatabase(shell.config.DATABASE_PATH);
    try {
      const store = new CredentialStore(sqliteDataAccess(handle), MasterKeyring.fromConfig(shell.config));
      await store.create({
        guildId: OTHER_GUILD,
        name: 'theirs',
        provider: 's3',
        endpoint: server.endpoint,
        secrets: { access_key_id: server.accessKeyId, secret_access_key: server.secretAccessKey },
        createdBy: OTHER_ADMIN,
      });
    } finally {
      handle.close();
    }
    const theirs = await shell.run('/cloud-storage buckets credential:theirs', '⛔');
    expect(theirs).toContain("There is no stored credential named 'theirs' in this server");
    expect(await shell.run('/cloud-credentials list', '└─')).not.toContain('theirs');

    await shell.run('/cloud-credentials add name:gcp-main provider:gcp', 'GCP project id [hidden]: ');
    await shell.run('my-project-123456', '[hidden]: ');
    await shell.run('', 'stored (encrypted)');
    const wrongProvider = await shell.run('/cloud-storage buckets credential:gcp-main', '⛔');
    expect(wrongProvider).toContain("The stored credential 'gcp-main' is for gcp, but this needs a storage (aws or s3) credential");

    await shell.run('/cloud-credentials remove name:spaces', 'removed');
    expect(await shell.run('/cloud-storage buckets credential:spaces', '⛔')).toContain("There is no stored credential named 'spaces'");
    await shell.quit();
  });
});
