import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleDriver } from './support/console-driver.js';
import { startS3Server, type TestS3Server } from './support/s3-server.js';

/** A secret nobody could guess, to look for in every output. */
const SECRET = `sk-${randomBytes(12).toString('hex')}`;
/** An access key id s3rver does not know; its last four characters are the only fragment ever shown. */
const UNKNOWN_KEY_ID = 'AKIATESTUNKNOWN0WXYZ';

const newMasterKey = () => randomBytes(32).toString('base64');

let server: TestS3Server;
const drivers: ConsoleDriver[] = [];

function start(argv: string[], env: Record<string, string> = {}): ConsoleDriver {
  const driver = new ConsoleDriver({ argv, env });
  drivers.push(driver);
  return driver;
}

beforeAll(async () => {
  server = await startS3Server({ buckets: ['media'] });
}, 30_000);

afterAll(async () => {
  await server.stop();
});

afterEach(async () => {
  // Reverse order: a later console may share an earlier one's database file.
  for (const driver of drivers.reverse()) await driver.close();
  drivers.length = 0;
});

/** Adds a credential through /cloud-credentials add and its hidden form; returns the reply. */
async function addCredential(shell: ConsoleDriver, options: string, keyId: string, secret: string): Promise<string> {
  await shell.run(`/cloud-credentials add ${options}`, 'Access key id [hidden]: ');
  await shell.run(keyId, 'Secret access key [hidden]: ');
  return shell.run(secret, '└─');
}

describe('/cloud-credentials', () => {
  it('stores a credential through the private form and lists metadata only: the key hint, never the secret', async () => {
    const shell = start(['--user', 'alice', '--admin'], { CREDENTIALS_MASTER_KEY: newMasterKey() });
    await shell.waitFor('You are @alice (server admin)');
    const stored = await addCredential(shell, `name:Prod-AWS provider:aws region:eu-west-1 make_default:true`, UNKNOWN_KEY_ID, SECRET);
    expect(stored).toContain('Credential prod-aws stored (encrypted)');
    expect(stored).toContain('key …WXYZ');

    const listed = await shell.run('/cloud-credentials list', '└─');
    expect(listed).toContain('prod-aws');
    expect(listed).toContain('aws ⭐ default');
    expect(listed).toContain('region eu-west-1');
    expect(listed).toContain('key …WXYZ');
    expect(listed).toContain('stored by @alice');
    expect(listed).toContain('never used');
    await shell.quit();

    for (const output of [shell.transcript, shell.logs, shell.databaseBytes()]) {
      expect(output).not.toContain(SECRET);
      expect(output).not.toContain(UNKNOWN_KEY_ID);
    }
  });

  it('validates against a real S3-compatible server: accepted, and refused with the provider’s code for an unknown key id', async () => {
    const shell = start(['--user', 'alice', '--admin'], { CREDENTIALS_MASTER_KEY: newMasterKey() });
    await shell.waitFor('You are @alice');
    await addCredential(shell, `name:spaces provider:s3 region:us-east-1 endpoint:"${server.endpoint}"`, server.accessKeyId, server.secretAccessKey);
    await addCredential(shell, `name:stale provider:s3 endpoint:"${server.endpoint}"`, UNKNOWN_KEY_ID, SECRET);

    const ok = await shell.run('/cloud-credentials validate name:spaces', '└─');
    expect(ok).toContain('✅ spaces works');
    const okBucket = await shell.run('/cloud-credentials validate name:spaces bucket:media', '└─');
    expect(okBucket).toContain('on bucket `media`');
    const missingBucket = await shell.run('/cloud-credentials validate name:spaces bucket:nowhere', '└─');
    expect(missingBucket).toContain('❌ spaces was refused');
    expect(missingBucket).toContain('NoSuchBucket');

    const refused = await shell.run('/cloud-credentials validate name:stale', '└─');
    expect(refused).toContain('❌ stale was refused');
    expect(refused).toContain('InvalidAccessKeyId');
    expect(refused).toContain('does not know this access key id');
    expect(await shell.run('/cloud-credentials list', '└─')).toMatch(/spaces[^\n]*\n[^\n]*last used/);
    await shell.quit();
    expect(shell.transcript).not.toContain(SECRET);
  });

  it('a removed credential is unusable at once and its name can be stored again', async () => {
    const shell = start(['--user', 'alice', '--admin'], { CREDENTIALS_MASTER_KEY: newMasterKey() });
    await shell.waitFor('You are @alice');
    await addCredential(shell, `name:spaces provider:s3 endpoint:"${server.endpoint}"`, server.accessKeyId, server.secretAccessKey);
    const taken = await shell.run(`/cloud-credentials add name:Spaces provider:s3 endpoint:"${server.endpoint}"`, '⛔');
    expect(taken).toContain("A stored credential named 'spaces' already exists");
    expect(taken).not.toContain('[hidden]');

    expect(await shell.run('/cloud-credentials remove name:spaces', 'removed')).toContain('Credential spaces removed: it can no longer be used');
    expect(await shell.run('/cloud-credentials validate name:spaces', '⛔')).toContain("There is no stored credential named 'spaces'");
    expect(await shell.run('/cloud-credentials default name:spaces', '⛔')).toContain("There is no stored credential named 'spaces'");
    expect(await shell.run('/cloud-credentials list', '└─')).toContain('No stored credentials');
    await addCredential(shell, `name:spaces provider:s3 endpoint:"${server.endpoint}"`, server.accessKeyId, server.secretAccessKey);
    expect(await shell.run('/cloud-credentials validate name:spaces', '└─')).toContain('✅ spaces works');
    await shell.quit();
  });

  it('one default per provider: making another the default replaces it', async () => {
    const shell = start(['--user', 'alice', '--admin'], { CREDENTIALS_MASTER_KEY: newMasterKey() });
    await shell.waitFor('You are @alice');
    await addCredential(shell, `name:first provider:s3 endpoint:"${server.endpoint}" make_default:true`, server.accessKeyId, server.secretAccessKey);
    await addCredential(shell, `name:second provider:s3 endpoint:"${server.endpoint}"`, server.accessKeyId, server.secretAccessKey);
    expect(await shell.run('/cloud-credentials default name:second', 'is now')).toContain('second is now this server’s default s3 credential');
    const listed = await shell.run('/cloud-credentials list', '└─');
    expect(listed).toMatch(/second — s3 ⭐ default/);
    expect(listed).toMatch(/first — s3 ·/);
    await shell.quit();
  });

  it('refuses bad details before the form, so no secret is typed in vain', async () => {
    const shell = start(['--user', 'alice', '--admin'], { CREDENTIALS_MASTER_KEY: newMasterKey() });
    await shell.waitFor('You are @alice');
    const noEndpoint = await shell.run('/cloud-credentials add name:spaces provider:s3', '⛔');
    expect(noEndpoint).toContain('endpoint is required for an S3-compatible credential');
    const metadata = await shell.run('/cloud-credentials add name:sneaky provider:aws endpoint:http://169.254.169.254', '⛔');
    expect(metadata).toContain('must not point at a link-local or cloud metadata address');
    expect(shell.transcript).not.toContain('[hidden]');
    await shell.quit();
  });

  it('is for server admins only: a member is refused, even to list', async () => {
    const shell = start(['--user', 'bob'], { CREDENTIALS_MASTER_KEY: newMasterKey() });
    await shell.waitFor('You are @bob (member)');
    expect(await shell.run('/cloud-credentials list', '⛔')).toContain('is for server admins');
    const add = await shell.run(`/cloud-credentials add name:mine provider:s3 endpoint:"${server.endpoint}"`, '⛔');
    expect(add).toContain('is for server admins');
    expect(add).not.toContain('[hidden]');
    await shell.quit();
  });

  it('without a master key, storing and using stored credentials are refused with a message saying what to set', async () => {
    const shell = start(['--user', 'alice', '--admin']);
    await shell.waitFor('You are @alice');
    const refused = await shell.run(`/cloud-credentials add name:spaces provider:s3 endpoint:"${server.endpoint}"`, '⛔');
    expect(refused).toContain('Stored credentials need CREDENTIALS_MASTER_KEY');
    expect(refused).not.toContain('[hidden]');
    expect(await shell.run('/cloud-credentials rotate', '⛔')).toContain('Stored credentials need CREDENTIALS_MASTER_KEY');
    expect(await shell.run('/cloud-credentials list', '└─')).toContain('No stored credentials');
    await shell.quit();
  });

  it('rotation re-encrypts under the new master key; credentials keep working before and after', async () => {
    const oldKey = newMasterKey();
    const before = start(['--user', 'alice', '--admin'], { CREDENTIALS_MASTER_KEY: oldKey, CREDENTIALS_MASTER_KEY_ID: 'k1' });
    await before.waitFor('You are @alice');
    await addCredential(before, `name:spaces provider:s3 endpoint:"${server.endpoint}"`, server.accessKeyId, server.secretAccessKey);
    await before.quit();

    const shared = { DATABASE_PATH: before.config.DATABASE_PATH };
    const rotated = start(['--user', 'alice', '--admin'], {
      ...shared,
      CREDENTIALS_MASTER_KEY: newMasterKey(),
      CREDENTIALS_MASTER_KEY_ID: 'k2',
      CREDENTIALS_PREVIOUS_MASTER_KEYS: `k1:${oldKey}`,
    });
    await rotated.waitFor('You are @alice');
    expect(await rotated.run('/cloud-credentials validate name:spaces', '└─')).toContain('✅ spaces works');
    const report = await rotated.run('/cloud-credentials rotate', '└─');
    expect(report).toContain('Re-encrypted under the current master key: 1.');
    expect(report).toContain('Every stored credential is now under the current master key');
    expect(await rotated.run('/cloud-credentials rotate', '└─')).toContain('Re-encrypted under the current master key: 0.');
    await rotated.quit();

    // The old key is gone now; the credential still opens with the new one alone.
    const after = start(['--user', 'alice', '--admin'], { ...shared, CREDENTIALS_MASTER_KEY: rotated.config.CREDENTIALS_MASTER_KEY ?? '', CREDENTIALS_MASTER_KEY_ID: 'k2' });
    await after.waitFor('You are @alice');
    expect(await after.run('/cloud-credentials validate name:spaces', '└─')).toContain('✅ spaces works');
    await after.quit();
  });

  it('rotation names the credentials it cannot read (encrypted with a key no longer configured) and leaves them', async () => {
    const before = start(['--user', 'alice', '--admin'], { CREDENTIALS_MASTER_KEY: newMasterKey(), CREDENTIALS_MASTER_KEY_ID: 'k1' });
    await before.waitFor('You are @alice');
    await addCredential(before, `name:orphan provider:s3 endpoint:"${server.endpoint}"`, server.accessKeyId, server.secretAccessKey);
    await before.quit();

    const after = start(['--user', 'alice', '--admin'], {
      DATABASE_PATH: before.config.DATABASE_PATH,
      CREDENTIALS_MASTER_KEY: newMasterKey(),
      CREDENTIALS_MASTER_KEY_ID: 'k2',
    });
    await after.waitFor('You are @alice');
    const report = await after.run('/cloud-credentials rotate', '└─');
    expect(report).toContain('Re-encrypted under the current master key: 0.');
    expect(report).toContain('• orphan (encrypted with key `k1`)');
    const unreadable = await after.run('/cloud-credentials validate name:orphan', '⛔');
    expect(unreadable).toContain("The stored credential 'orphan' cannot be read");
    expect(unreadable).toContain("master key 'k1', which is no longer configured");
    await after.quit();
  });
});
