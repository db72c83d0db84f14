import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/index.js';

describe('configuration', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = parseConfig({});
    expect(config.DATABASE_PATH).toBe('./data/chatops.db');
    expect(config.DEPLOYMENTS_DIR).toBe('./deployments');
    expect(config.VAULT_TTL_MINUTES).toBe(30);
    expect(config.JANITOR_SCHEDULE).toBe('* * * * *');
    expect(config.MAX_CONCURRENT_RUNS).toBe(2);
    expect(config.DISCORD_TOKEN).toBeUndefined();
  });

  it('coerces numbers and accepts a cron expression with a seconds field', () => {
    const config = parseConfig({ VAULT_TTL_MINUTES: '5', JANITOR_SCHEDULE: '*/10 * * * * *', MAX_CONCURRENT_RUNS: '4' });
    expect(config.VAULT_TTL_MINUTES).toBe(5);
    expect(config.JANITOR_SCHEDULE).toBe('*/10 * * * * *');
    expect(config.MAX_CONCURRENT_RUNS).toBe(4);
  });

  it('lists every bad variable at once, without echoing the values', () => {
    const secretish = 'not-base64-but-secret-looking-value';
    let caught: unknown;
    try {
      parseConfig({
        VAULT_TTL_MINUTES: '-3',
        JANITOR_SCHEDULE: 'every minute',
        LOG_LEVEL: 'loud',
        DISCORD_APPLICATION_ID: 'abc',
        CREDENTIALS_MASTER_KEY: secretish,
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    for (const name of ['VAULT_TTL_MINUTES', 'JANITOR_SCHEDULE', 'LOG_LEVEL', 'DISCORD_APPLICATION_ID', 'CREDENTIALS_MASTER_KEY']) {
      expect(problems).toContain(name);
    }
    expect(problems).not.toContain(secretish);
  });

  it('treats empty strings as unset', () => {
    expect(parseConfig({ DISCORD_TOKEN: '', DISCORD_APPLICATION_ID: '' }).DISCORD_APPLICATION_ID).toBeUndefined();
  });
});

describe('engine folders', () => {
  it('makes a relative IAC_BIN_DIR and TF_PLUGIN_CACHE_DIR absolute against the start-up folder', () => {
    const config = parseConfig({ IAC_BIN_DIR: 'tools/bin', TF_PLUGIN_CACHE_DIR: './cache' });
    expect(config.IAC_BIN_DIR).toBe(resolve('tools/bin'));
    expect(config.TF_PLUGIN_CACHE_DIR).toBe(resolve('cache'));
    expect(parseConfig({ IAC_BIN_DIR: '' }).IAC_BIN_DIR).toBeUndefined();
  });
});

describe('.env.example', () => {
  it('lists every variable the configuration reads, and none it does not', async () => {
    const { readFileSync } = await import('node:fs');
    const { configSchema } = await import('../src/config/index.js');
    const listed = readFileSync('.env.example', 'utf8')
      .split('\n')
      .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    expect([...listed].sort()).toEqual(Object.keys(configSchema.shape).sort());
  });
});

describe('an .env copied from .env.example', () => {
  it('is a valid configuration as it stands: empty values, CREDENTIALS_MASTER_KEY_ID= included, mean unset', async () => {
    const { loadConfig } = await import('../src/config/index.js');
    const config = loadConfig({}, '.env.example');
    expect(config.CREDENTIALS_MASTER_KEY_ID).toBe('k1');
    expect(config.IAC_BIN_DIR).toBeUndefined();
  });
});

describe('configuration errors read as one clean sentence per variable', () => {
  const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
    try {
      parseConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('the configuration was accepted');
  };

  it('says what is expected without the validator’s own phrasing ("expected Invalid option: expected one of …")', () => {
    const problems = problemsOf({ LOG_LEVEL: 'loud', DATABASE_PATH: ' ', VAULT_TTL_MINUTES: 'soon', ADVISOR_ENABLED: 'yes' });
    expect(problems).toContain('LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent');
    for (const problem of problems) {
      expect(problem).toMatch(/^[A-Z_]+: expected [a-z0-9"]/);
      expect(problem).not.toMatch(/expected .*expected|Invalid|Too (small|big)|received/);
    }
    const names = problems.map((problem) => problem.slice(0, problem.indexOf(':')));
    expect(names).toEqual([...new Set(names)]);
  });

  it('refuses a malformed CREDENTIALS_PREVIOUS_MASTER_KEYS at start-up, naming the variable and never its value', () => {
    const malformed = 'old-key-without-an-id-SECRETISH';
    for (const env of [{ CREDENTIALS_PREVIOUS_MASTER_KEYS: malformed }, { CREDENTIALS_PREVIOUS_MASTER_KEYS: `k0:${malformed}` }]) {
      const problems = problemsOf(env).join('\n');
      expect(problems).toMatch(/^CREDENTIALS_PREVIOUS_MASTER_KEYS: expected /);
      expect(problems).toMatch(/entry 1/);
      expect(problems).not.toContain('SECRETISH');
    }
    const valid = `k0:${Buffer.alloc(32, 7).toString('base64')}`;
    expect(parseConfig({ CREDENTIALS_PREVIOUS_MASTER_KEYS: valid }).CREDENTIALS_PREVIOUS_MASTER_KEYS).toBe(valid);
  });
});
