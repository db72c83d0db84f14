/**
 * Deployments that expire, in the console: the same ttl option, the reminder printed as a DM with Extend and Destroy
 * now as numbered choices, pressed through the same handlers as in Discord.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleDriver } from './support/console-driver.js';

let driver: ConsoleDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

describe('TTL in the console', () => {
  it('deploy with ttl:4h → the 1 h reminder arrives with Extend and Destroy now → Extend from the DM → Destroy now in the channel', async () => {
    const shell = (driver = new ConsoleDriver({ argv: ['--user', 'alice', '--admin'], env: { JANITOR_SCHEDULE: '* * * * * *', VAULT_TTL_MINUTES: '1440' } }));
    await shell.waitFor('You are @alice');
    await shell.run('/cloud-init provider:gcp project_name:demo region:us-central1', 'GCP project id [hidden]: ');
    await shell.run('demo-project-123', '[hidden]: ');
    await shell.run('', 'Secure cloud project initialised');
    await shell.run('/cloud-guild-policy action:update notification_channel:#general', 'Guild policies updated');
    await shell.run('/cloud-deploy project:demo resource_type:bucket disk_size:1 ttl:4h', '[1] Apply  [2] Cancel');
    expect(await shell.run('1', 'Deployed bucket')).toContain('Time to live');
    expect(await shell.run('/cloud-projects', 'Cloud projects')).toMatch(/⏳ destroyed .*\(in 4 h\)/);

    shell.clock.advanceMinutes(3 * 60);
    // The DM and the channel post, each with its own numbered Extend and Destroy now.
    const both = await shell.waitFor(/📨 DM to @alice:[\s\S]*Extend[\s\S]*📢 #general:[\s\S]*Destroy now|📢 #general:[\s\S]*Extend[\s\S]*📨 DM to @alice:[\s\S]*Destroy now/);
    expect(both).toContain('Deployment ending soon');
    const choice = (where: string, label: string) => new RegExp(`\\[(\\d+)\\] ${label}`).exec(both.slice(both.indexOf(where)))?.[1];
    const dmExtend = choice('📨 DM to @alice:', 'Extend');
    const channelDestroy = choice('📢 #general:', 'Destroy now');
    await shell.run(dmExtend!, 'How much longer');
    expect(await shell.run('2h', 'extended deployment')).toMatch(/destroyed .*\(in 3 h\)/);
    expect(await shell.run('/cloud-projects', 'Cloud projects')).toMatch(/⏳ destroyed .*\(in 3 h\)/);
    expect(await shell.run(channelDestroy!, 'with Destroy now')).toMatch(/destroyed deployment #\d+/);
    expect(await shell.run('/cloud-projects', 'Cloud projects')).not.toMatch(/#1 bucket/);
    await shell.quit();
  }, 60_000);
});
