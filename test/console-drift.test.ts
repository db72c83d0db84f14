/**
 * Drift checks in the console: the same /cloud-drift through the shared command machinery (options parsed from
 * typed text, the admin check, the stand-in engine in its sandbox for "check now").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleDriver } from './support/console-driver.js';

let driver: ConsoleDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

describe('drift checks in the console', () => {
  it('an admin enables a check, lists it and checks now; a member is refused; a bad schedule is explained', async () => {
    const shell = (driver = new ConsoleDriver({ argv: ['--user', 'alice', '--admin'] }));
    await shell.waitFor('You are @alice (server admin)');
    await shell.run('/cloud-init provider:gcp project_name:web region:us-central1', 'GCP project id [hidden]: ');
    await shell.run('web-project-123', 'Service account key JSON (optional) [hidden]: ');
    await shell.run('', 'Secure cloud project initialised');

    expect(await shell.run('/cloud-drift enable project:web schedule:"every day"', '⛔')).toMatch(/not a cron expression/);
    const enabled = await shell.run('/cloud-drift enable project:web schedule:hourly', 'Drift check enabled');
    expect(enabled).toBeTruthy();
    expect(await shell.run('/cloud-drift list', '└─')).toMatch(/web.*hourly.*not checked yet/s);
    expect(await shell.run('/cloud-drift check project:web', 'No drift')).toMatch(/No drift in .*web/);

    await shell.run('/as bob', 'You are now @bob');
    expect(await shell.run('/cloud-drift list', '⛔')).toMatch(/server admins/);
    await shell.quit();
  });
});
