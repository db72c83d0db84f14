import { execa } from 'execa';
import { symlinkSync, writeFileSync } from 'node:fs';
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
    // Well above a start-up on a loaded machine; a start-up that hangs is killed here and fails on `timedOut`.
    timeout: 30_000,
  });
}

/** A start-up that must stop at once with one clear line: exit 1, not killed by the timeout, no stack trace. */
function expectRefusedStartUp(result: Awaited<ReturnType<typeof start>>): void {
  expect(result.timedOut).toBe(false);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
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

  it('without a Discord token, in a terminal, runs the same bot there (the console) as a server admin', async () => {
    // `script` gives the bot a real terminal, as a newcomer typing `npm start` has; its input is the typed lines.
    const result = await execa('script', ['-qefc', 'node --import tsx src/main.ts', '/dev/null'], {
      cwd: REPO_ROOT,
      input: '/cloud-guild-policy action:view\n/quit\n',
      env: { PATH: process.env.PATH ?? '', HOME: tmp.dir, TERM: 'dumb', DATABASE_PATH: join(tmp.dir, 'tty.sqlite'), DEPLOYMENTS_DIR: join(tmp.dir, 'tty-deployments') },
      extendEnv: false,
      reject: false,
      timeout: 30_000,
    });
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/DISCORD_TOKEN is not set, so the bot runs here, in this terminal/);
    expect(result.stdout).toMatch(/\(server admin\)/);
    // The command ran against the configured database: the policy view answered.
    expect(result.stdout).toMatch(/Guild policies[\s\S]*Monthly budget: \$1,000\.00/);
    expect(result.stdout).not.toMatch(/\n\s+at /);
  });

  it('refuses a database under /proc instead of hanging in mkdir', async () => {
    // With a token the start-up goes on to open the database, where mkdir under /proc used to spin forever.
    const result = await start({ DATABASE_PATH: '/proc/x/y.db', DISCORD_TOKEN: 'not-a-real-token' });
    expectRefusedStartUp(result);
    expect(result.stderr).toMatch(/DATABASE_PATH: expected a path on a real disk, not under \/proc, \/sys or \/dev/);
  }, 40_000);

  it('refuses a database reached through a link into /proc, and a deployments folder under /sys', async () => {
    symlinkSync('/proc', join(tmp.dir, 'kernel'));
    const result = await start({ DATABASE_PATH: join(tmp.dir, 'kernel', 'x', 'y.db'), DEPLOYMENTS_DIR: '/sys/x', DISCORD_TOKEN: 'not-a-real-token' });
    expectRefusedStartUp(result);
    expect(result.stderr).toMatch(/DATABASE_PATH: expected a path on a real disk/);
    expect(result.stderr).toMatch(/DEPLOYMENTS_DIR: expected a path on a real disk/);
  }, 40_000);

  it('names the place a pricing file stops being JSON, never its content', async () => {
    const file = join(tmp.dir, 'secrets.env');
    writeFileSync(file, 'API_TOKEN=hunter2-do-not-print\nroot:x:0:0:root:/root:/bin/bash\n');
    // A token is set so start-up gets as far as loading prices; nothing connects before that fails.
    const result = await start({ PRICING_OVERRIDES_FILE: file, DISCORD_TOKEN: 'not-a-real-token' });
    expectRefusedStartUp(result);
    expect(result.stderr).toMatch(/PRICING_OVERRIDES_FILE .*secrets\.env is not a valid pricing file/);
    expect(result.stderr).toMatch(/not valid JSON at line 1, column 1/);
    expect(result.stderr).not.toMatch(/hunter2|API_TOKEN|root:x/);
  }, 40_000);

  it('does not echo /etc/passwd given as the pricing file', async () => {
    const result = await start({ PRICING_OVERRIDES_FILE: '/etc/passwd', DISCORD_TOKEN: 'not-a-real-token' });
    expectRefusedStartUp(result);
    expect(result.stderr).toMatch(/not a valid pricing file/);
    expect(result.stderr).not.toMatch(/root:|\/bin\/(ba)?sh|nologin/);
  }, 40_000);

  it('names a bad field of a JSON pricing file by its path, hiding keys that are not field names', async () => {
    const file = join(tmp.dir, 'prices.json');
    writeFileSync(file, JSON.stringify({ providers: { aws: { diskPerGbMonthUsd: 'cheap' } }, 'password=hunter2': 1 }));
    const result = await start({ PRICING_OVERRIDES_FILE: file, DISCORD_TOKEN: 'not-a-real-token' });
    expectRefusedStartUp(result);
    expect(result.stderr).toMatch(/providers\.aws\.diskPerGbMonthUsd/);
    expect(result.stderr).toMatch(/unknown field \(a field name that is not shown\)/);
    expect(result.stderr).not.toMatch(/hunter2|cheap/);
  }, 40_000);
});

describe('npm start as a newcomer tries it', () => {
  it('--help prints the usage, even without a token or with a bad configuration', async () => {
    const result = await execa('node', ['--import', 'tsx', 'src/main.ts', '--help'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: tmp.dir, VAULT_TTL_MINUTES: 'soon' },
      extendEnv: false,
      reject: false,
      timeout: 30_000,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Usage: npm start');
    expect(result.stdout).toContain('--console');
    expect(result.stderr).not.toContain('DISCORD_TOKEN is not set');
  });

  it('with no network, says Discord cannot be reached and what to check, not the raw getaddrinfo error', async () => {
    const result = await start({ DISCORD_TOKEN: 'abc.def.ghi', DISCORD_API_URL: 'http://chatops-no-such-host.invalid/api' });
    expectRefusedStartUp(result);
    expect(result.stderr).toContain('Cannot reach the Discord API at http://chatops-no-such-host.invalid/api');
    expect(result.stderr).toMatch(/no network or no working DNS/);
    expect(result.stderr).toMatch(/Check the network connection, DNS and any proxy/);
    expect(result.stderr).not.toMatch(/could not start: getaddrinfo/);
  });

  it('a refused connection says so and names DISCORD_API_URL to check', async () => {
    const result = await start({ DISCORD_TOKEN: 'abc.def.ghi', DISCORD_API_URL: 'http://127.0.0.1:9/api' });
    expectRefusedStartUp(result);
    expect(result.stderr).toMatch(/Cannot reach the Discord API at http:\/\/127\.0\.0\.1:9\/api \(DISCORD_API_URL\): the connection failed \(ECONNREFUSED\)/);
  });
});
