/**
 * JIT requests in the console: the same command, the same durable Approve and Deny buttons (numbered choices), the
 * same checks, and the DMs printed where they would go.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleDriver } from './support/console-driver.js';

let driver: ConsoleDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

describe('JIT requests in the console', () => {
  it('bob asks, cannot approve his own, alice approves for less, bob is told by DM; another request is denied with words', async () => {
    const shell = (driver = new ConsoleDriver({ argv: ['--user', 'bob'] }));
    await shell.waitFor('You are @bob (member)');
    const asked = await shell.run('/cloud-jit-request provider:aws level:deployer duration:60 reason:"incident 42"', '[1] Approve  [2] Deny');
    expect(asked).toContain('📢 #general:');
    expect(asked).toContain('@bob asks for Deployer access to AWS for 1 h');
    expect(await shell.waitFor('Request sent')).toContain('posted in #general for review');

    expect(await shell.run('1', 'cannot decide your own request')).toContain('🔒 → @bob (only you)');
    await shell.run('1 as alice --admin', 'Minutes of access (1 to 60) [Enter keeps 60] [hidden]: ');
    const approved = await shell.run('30', 'JIT request approved');
    expect(approved).toContain('Approved by @alice for 30 min');
    expect(approved).toContain('📨 DM to @bob:');
    const listed = await shell.run('/cloud-jit-list', 'Your pending requests');
    expect(listed).toMatch(/#1 @bob — Deployer on AWS, expires/);
    expect(listed).toContain('No pending requests');

    await shell.run('/cloud-jit-request provider:gcp level:admin duration:30 reason:"curious"', '[1] Approve  [2] Deny');
    await shell.run('2 as alice', 'Words to the requester (optional) [hidden]: ');
    const denied = await shell.run('Not for curiosity', 'JIT request denied');
    expect(denied).toContain('Denied by @alice');
    expect(denied).toContain('Not for curiosity');
    await shell.quit();
  });
});
