/**
 * What a newcomer trying the console hits (issue 15): each test drives the real console front end with the real core.
 */
import { relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
