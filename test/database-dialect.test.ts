/**
 * DATABASE_URL (issue 16): validated with the rest of the configuration, and, when set, the database the bot runs on:
 * never silently ignored in favour of DATABASE_PATH. A server the bot cannot reach stops it with a message that names
 * the server, never the password, and no SQLite file is made meanwhile.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/index.js';
import { chooseDatabase } from '../src/db/dialect.js';
import { REPO_ROOT } from './support/bot-process.js';
import { makeTempDir } from './support/tmp.js';

const URL_WITH_PASSWORD = 'postgres://chatops:hunter2-secret@db.example.test:5432/chatops';
/** Port 9 (discard) on loopback: nothing listens, so the connection is refused at once, with no DNS asked. */
const UNREACHABLE_URL = 'postgres://chatops:hunter2-secret@127.0.0.1:9/chatops';

describe('DATABASE_URL in the configuration', () => {
  it('is unset by default, and an empty value counts as unset', () => {
    expect(parseConfig({}).DATABASE_URL).toBeUndefined();
    expect(parseConfig({ DATABASE_URL: '  ' }).DATABASE_URL).toBeUndefined();
  });

  it('takes postgres:// and postgresql:// URLs, a socket folder given as ?host= included', () => {
    for (const url of [URL_WITH_PASSWORD, 'postgresql://db.internal/chatops', 'postgres:///chatops?host=/var/run/postgresql']) {
      expect(parseConfig({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
    }
  });

  it('refuses another scheme or no URL at all, saying what it expects, without echoing the value', () => {
    for (const value of ['mysql://chatops:hunter2-secret@db/chatops', 'hunter2-secret', 'sqlite:./data/chatops.db']) {
      let caught: unknown;
      try {
        parseConfig({ DATABASE_URL: value });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).problems).toEqual(['DATABASE_URL: expected a postgres:// URL such as postgres://chatops:password@db.example:5432/chatops']);
      expect((caught as ConfigError).message).not.toContain('hunter2');
    }
  });
});

describe('choosing the database', () => {
  it('is SQLite at DATABASE_PATH without DATABASE_URL, PostgreSQL with it', () => {
    expect(chooseDatabase({ DATABASE_PATH: './data/chatops.db', DATABASE_URL: undefined })).toEqual({ dialect: 'sqlite', path: './data/chatops.db' });
    expect(chooseDatabase({ DATABASE_PATH: './data/chatops.db', DATABASE_URL: URL_WITH_PASSWORD })).toEqual({ dialect: 'postgres', url: URL_WITH_PASSWORD });
  });
});

describe('starting the bot with DATABASE_URL set to a server that does not answer', () => {
  const tmp = makeTempDir('chatops-dialect-');
  afterAll(() => tmp.cleanup());

  function start(args: string[], env: Record<string, string>) {
    return execa('node', ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: tmp.dir, DEPLOYMENTS_DIR: join(tmp.dir, 'deployments'), DATABASE_URL: UNREACHABLE_URL, ENGINE_SANDBOX: 'off', ...env },
      extendEnv: false,
      reject: false,
      input: '',
      timeout: 30_000,
    });
  }

  it.each([
    ['in the console', ['--console'], {}],
    // A token that would never connect: the database is opened before Discord is asked anything.
    ['for Discord', [], { DISCORD_TOKEN: 'not-a-real-token', DISCORD_API_URL: 'http://127.0.0.1:9/api' }],
  ])('%s: exits 1 naming the server it could not reach, never the password, touching no SQLite file', async (where, args, env) => {
    const databasePath = join(tmp.dir, `${where.replaceAll(' ', '-')}.db`);
    const result = await start(args, { DATABASE_PATH: databasePath, ...env });
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/Cloud ChatOps could not start: Could not connect to PostgreSQL at 127\.0\.0\.1:9\/chatops/);
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(databasePath)).toBe(false);
    expect(existsSync(`${databasePath}.lock`)).toBe(false);
  });
});
