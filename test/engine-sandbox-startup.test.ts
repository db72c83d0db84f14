/**
 * Start-up and the engine sandbox: without a bubblewrap that works here the bot, the console and the demo refuse to
 * start, saying what to install and how to turn the sandbox off by name; turned off, every start logs a warning.
 */
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/index.js';
import { LocalEngineExecutor } from '../src/engine/executor.js';
import { EngineSandboxUnavailable, engineExecutorFor, type SandboxStartupOptions } from '../src/engine/sandbox-check.js';
import { SandboxedEngineExecutor } from '../src/engine/sandbox.js';
import { startAppHarness } from './support/app-harness.js';
import { REPO_ROOT } from './support/bot-process.js';
import { memoryLogger } from './support/engine-env.js';
import { makeTempDir } from './support/tmp.js';

const tmp = makeTempDir('chatops-sandbox-startup-');
afterAll(() => tmp.cleanup());

/** A bwrap that fails the way it does in an unprivileged container. */
const brokenBwrap = join(tmp.dir, 'bwrap');
writeFileSync(brokenBwrap, '#!/bin/sh\necho "bwrap: Creating new namespace failed: Operation not permitted" >&2\nexit 1\n', { mode: 0o755 });

function options(extra: Partial<SandboxStartupOptions> = {}): SandboxStartupOptions {
  return {
    sandbox: 'bwrap',
    readOnlyPaths: [],
    deploymentsRoot: join(tmp.dir, 'deployments'),
    databasePath: join(tmp.dir, 'data', 'chatops.db'),
    pathEnv: process.env.PATH ?? '',
    logger: memoryLogger().logger,
    ...extra,
  };
}

/** `npm start` (or the console, or the demo) with only this environment. */
function start(script: string[], env: Record<string, string>) {
  return execa('node', ['--import', 'tsx', ...script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: tmp.dir, DATABASE_PATH: join(tmp.dir, 'db.sqlite'), DEPLOYMENTS_DIR: join(tmp.dir, 'deployments'), ...env },
    extendEnv: false,
    reject: false,
    input: '/quit\n',
    timeout: 60_000,
  });
}

function expectClearRefusal(result: Awaited<ReturnType<typeof start>>): void {
  expect(result.timedOut).toBe(false);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr).toContain('ENGINE_SANDBOX=off');
}

describe('choosing how engines run', () => {
  it('sandboxes them with the bwrap found on this host, after trying it once', () => {
    expect(engineExecutorFor(options())).toBeInstanceOf(SandboxedEngineExecutor);
  });

  it('says what to install when bwrap is not where it was said to be', () => {
    expect(() => engineExecutorFor(options({ bwrapPath: join(tmp.dir, 'nowhere', 'bwrap') }))).toThrow(EngineSandboxUnavailable);
    expect(() => engineExecutorFor(options({ bwrapPath: join(tmp.dir, 'nowhere', 'bwrap') }))).toThrow(/apt-get install bubblewrap.*ENGINE_SANDBOX=off/);
  });

  it('says why when bwrap is there but cannot make a sandbox here, quoting it', () => {
    expect(() => engineExecutorFor(options({ bwrapPath: brokenBwrap }))).toThrow(/could not start a sandbox here \("bwrap: Creating new namespace failed: Operation not permitted"\).*user namespaces/);
  });

  it('refuses extra read-only folders that would show engines a workspace, the database or the whole bot folder', () => {
    expect(() => engineExecutorFor(options({ readOnlyPaths: [tmp.dir] }))).toThrow(/ENGINE_SANDBOX_READ_ONLY_PATHS names .* which would show engines/);
    expect(() => engineExecutorFor(options({ readOnlyPaths: [REPO_ROOT] }))).toThrow(/ENGINE_SANDBOX_READ_ONLY_PATHS/);
    expect(() => engineExecutorFor(options({ readOnlyPaths: [join(tmp.dir, 'missing')] }))).toThrow(/does not exist/);
    expect(engineExecutorFor(options({ readOnlyPaths: [join(REPO_ROOT, 'test', 'fake-engine')] }))).toBeInstanceOf(SandboxedEngineExecutor);
  });

  it('runs them unsandboxed only when ENGINE_SANDBOX=off, with a warning', () => {
    const { logger, entries } = memoryLogger();
    expect(engineExecutorFor(options({ sandbox: 'off', bwrapPath: brokenBwrap, logger }))).toBeInstanceOf(LocalEngineExecutor);
    expect(entries.filter((e) => e.level === 40).map((e) => e.msg)).toEqual([expect.stringMatching(/engines run without a sandbox.*remove ENGINE_SANDBOX=off/)]);
  });

  it('reads ENGINE_SANDBOX (bwrap by default, or off, nothing else) and the extra folders, made absolute', () => {
    expect(parseConfig({}).ENGINE_SANDBOX).toBe('bwrap');
    expect(parseConfig({ ENGINE_SANDBOX: '' }).ENGINE_SANDBOX).toBe('bwrap');
    expect(parseConfig({ ENGINE_SANDBOX: 'off' }).ENGINE_SANDBOX).toBe('off');
    expect(() => parseConfig({ ENGINE_SANDBOX: 'no' })).toThrow(ConfigError);
    expect(() => parseConfig({ ENGINE_SANDBOX: 'no' })).toThrow(/ENGINE_SANDBOX: expected bwrap or off/);
    expect(parseConfig({ ENGINE_SANDBOX_READ_ONLY_PATHS: `/opt/tofu:tools::${join(tmp.dir, 'x')}` }).ENGINE_SANDBOX_READ_ONLY_PATHS).toEqual(['/opt/tofu', join(process.cwd(), 'tools'), join(tmp.dir, 'x')]);
  });
});

describe('every front end follows the same rule', () => {
  it('the bot refuses to start without a working bwrap, before it connects, in one clear message', async () => {
    const result = await start(['src/main.ts'], { DISCORD_TOKEN: 'not-a-real-token', BWRAP_PATH: brokenBwrap });
    expectClearRefusal(result);
    expect(result.stderr).toMatch(/^Cloud ChatOps could not start: bubblewrap .* could not start a sandbox here/m);
  }, 70_000);

  it('so does the console, and the demo adds how to run the demo alone without it', async () => {
    const console = await start(['src/main.ts', '--console', '--user', 'alice'], { BWRAP_PATH: join(tmp.dir, 'nowhere') });
    expectClearRefusal(console);
    expect(console.stderr).toMatch(/BWRAP_PATH is .*nowhere, which does not exist\. Install bubblewrap \(Debian\/Ubuntu: apt-get install bubblewrap\)/);
    const demo = await start(['demo/start.ts'], { BWRAP_PATH: join(tmp.dir, 'nowhere') });
    expectClearRefusal(demo);
    expect(demo.stderr).toContain('ENGINE_SANDBOX=off npm run demo');
  }, 130_000);

  it('with ENGINE_SANDBOX=off the bot starts, logging the warning at every start', async () => {
    for (let start = 0; start < 2; start++) {
      const harness = await startAppHarness({ ENGINE_SANDBOX: 'off', BWRAP_PATH: brokenBwrap });
      expect(harness.logs()).toMatch(/"level":40.*engines run without a sandbox/);
      await harness.stop();
    }
  });
});
