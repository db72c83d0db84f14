import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/bot-process.js';
import { makeTempDir } from './support/tmp.js';

const tmp = makeTempDir('chatops-startup-');
afterAll(() => tmp.cleanup());

/** `npm start` as a newcomer runs it, with only the environment given. */
function start(env: Record<string, string>) {
  return execa('node', ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: tmp.dir, DATABASE_PATH: join(tmp.dir, 'db.sqlite'), DEPLOYMENTS_DIR: join(tmp.dir, 'deployments'), ...env },
    extendEnv: false,
    reject: false,
    timeout: 30_000,
  });
}

describe('starting the bot', () => {
  it('exits 1 listing every bad variable and what it expects, without a stack trace or the values', async () => {
    const result = await start({ VAULT_TTL_MINUTES: 'soon', LOG_LEVEL: 'chatty', CREDENTIALS_MASTER_KEY: 'hunter2-not-a-key' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/VAULT_TTL_MINUTES: expected a whole number from 1 to 1440/);
    expect(result.stderr).toMatch(/LOG_LEVEL/);
    expect(result.stderr).toMatch(/CREDENTIALS_MASTER_KEY: expected 32 random bytes/);
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('without a Discord token says what to set, and points to the console', async () => {
    const result = await start({});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/DISCORD_TOKEN is not set/);
    expect(result.stderr).toMatch(/npm run console/);
  });
});
