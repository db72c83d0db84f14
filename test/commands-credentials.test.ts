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
});
