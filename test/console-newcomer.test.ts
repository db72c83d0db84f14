/**
 * What a newcomer trying the console hits (issue 15): each test drives the real console front end with the real core.
 */
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSOLE_GUILD_ID } from '../src/console/directory.js';
import { ConsoleDriver } from './support/console-driver.js';
import { FAKE_ENGINE_BIN } from './support/engine-env.js';

const SECRET_PROJECT_ID = 'secret-proj-424242';

let driver: ConsoleDriver | undefined;

function start(...args: ConstructorParameters<typeof ConsoleDriver>): ConsoleDriver {
  driver = new ConsoleDriver(...args);
  return driver;
}

afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

async function initProject(shell: ConsoleDriver, name = 'demo'): Promise<void> {
  await shell.run(`/cloud-init provider:gcp project_name:${name} region:us-central1`, 'GCP project id [hidden]: ');
  await shell.run(SECRET_PROJECT_ID, '[hidden]: ');
  await shell.run('', 'Secure cloud project initialised');
}

describe('engine folder', () => {
  it('a relative IAC_BIN_DIR is resolved at start-up, so plans run from the workspace folder', async () => {
    const shell = start({ argv: ['--user', 'alice', '--admin'], env: { IAC_BIN_DIR: relative(process.cwd(), FAKE_ENGINE_BIN) } });
    await shell.waitFor('You are @alice');
    await initProject(shell);
    const plan = await shell.run('/cloud-deploy project:demo resource_type:vm instance_type:e2-micro disk_size:10', /\[1\] Apply|⛔|❌/);
    expect(plan).not.toMatch(/init failed|⛔|❌/i);
    expect(plan).toContain('[1] Apply');
    await shell.run('2', 'pressed [2]');
    await shell.quit();
  });
});

describe('console sessions', () => {
  it('a scripted session of more commands than the member rate limit is never told to slow down', async () => {
    const shell = start({ argv: ['--user', 'alice', '--admin'], env: { RATE_LIMIT_MEMBER_PER_MINUTE: '20', RATE_LIMIT_GUILD_PER_MINUTE: '20' } });
    await shell.waitFor('You are @alice');
    for (let i = 0; i < 25; i += 1) shell.send('/cloud-vault list');
    const transcript = await shell.settle();
    expect(transcript.match(/@alice › \/cloud-vault list/g)?.length).toBe(25);
    expect(transcript).not.toContain('too quickly');
    expect(transcript).not.toContain('⛔');
    await shell.quit();
  });

  it('a piped form fails after a bad answer instead of asking again and taking the next script line as a secret', async () => {
    const shell = start({ argv: ['--user', 'alice', '--admin'] });
    await shell.waitFor('You are @alice');
    shell.send('/cloud-init provider:gcp project_name:demo region:us-central1');
    shell.send('x'.repeat(31)); // the GCP project id field takes at most 30 characters
    shell.send('/cloud-vault list');
    const transcript = await shell.waitFor(/@alice › \/cloud-vault list[\s\S]*└─/);
    expect(transcript).toContain('✖ Form cancelled: GCP project id is longer than 30 characters; nothing you typed was kept.');
    expect(transcript).not.toContain('type it again');
    expect(transcript).not.toContain('Service account key JSON');
    expect(transcript).not.toContain('Secure cloud project initialised');
    await shell.quit();
  });

  it('at a terminal, a running apply gives the prompt back, so /cloud-runs cancel can be typed while it runs', async () => {
    const shell = start({ argv: ['--user', 'alice', '--admin'], tty: true });
    await shell.waitFor('You are @alice');
    await initProject(shell);
    await shell.run('/cloud-deploy project:demo resource_type:vm instance_type:e2-micro disk_size:10', '[1] Apply  [2] Cancel');
    // From now on the stand-in pauses between streamed events, so the apply is still running when the next lines come.
    writeFileSync(join(shell.root, 'deployments', `guild_${CONSOLE_GUILD_ID}`, 'demo', 'fake-engine.json'), JSON.stringify({ sleepMs: 15_000 }));
    await shell.run('1', 'pressed [1] Apply');
    // The press re-checks access (asynchronously) before the run exists; the member sees it start, then lists runs.
    await shell.waitFor(/apply started/);
    const runs = await shell.run('/cloud-runs list', /#\d+ apply in demo/);
    const runId = /#(\d+) apply in demo/.exec(runs)?.[1];
    const cancelled = await shell.run(`/cloud-runs cancel run:${runId}`, /cancel/i);
    expect(cancelled).not.toMatch(/⛔/);
    await shell.waitFor(/The apply \(run #\d+\) was cancelled/);
    await shell.quit();
  });
});
