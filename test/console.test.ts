import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { SlashCommandBuilder } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allCommands } from '../commands/index.js';
import { ConsoleTerminal } from '../src/console/terminal.js';
import { defineCommand, type Command } from '../src/interaction/command.js';
import { ConsoleDriver } from './support/console-driver.js';
import { member, text } from '../src/shared/text.js';

const SECRET_PROJECT_ID = 'secret-proj-424242';
const INIT = '/cloud-init provider:gcp project_name:"my demo" region:us-central1';

let driver: ConsoleDriver | undefined;

function start(...args: ConstructorParameters<typeof ConsoleDriver>): ConsoleDriver {
  driver = new ConsoleDriver(...args);
  return driver;
}

afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

/** Every file under a folder, as text, to look for what must never be written. */
function filesUnder(dir: string): string {
  let text = '';
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const path = join(dir, entry);
    if (statSync(path).isFile()) text += readFileSync(path).toString('latin1');
  }
  return text;
}

describe('the console runs the bot’s commands in a terminal', () => {
  it('initialises a project through the hidden form; the secret is in no output, log, database or file', async () => {
    const shell = start({ argv: ['--console', '--user', 'alice', '--admin'] });
    await shell.waitFor('You are @alice (server admin)');
    await shell.run(INIT, 'GCP project id [hidden]: ');
    await shell.run(SECRET_PROJECT_ID, 'Service account key JSON (optional) [hidden]: ');
    const reply = await shell.run('', '└─');
    expect(reply).toContain('🤖 /cloud-init → @alice (only you)');
    expect(reply).toContain('✅ Secure cloud project initialised');
    expect(reply).toMatch(/⏳ Expires: \d{2}:\d{2} \(in 30 min\)/);
    const sessions = await shell.run('/cloud-vault list', '└─');
    expect(sessions).toMatch(/`[\w-]+` — my demo — expires \d{2}:\d{2} \(in 30 min\)/);
    await shell.quit();

    expect(shell.transcript).toContain('Bye.');
    expect(shell.transcript).not.toContain(SECRET_PROJECT_ID);
    expect(shell.logs).toContain('interaction handled');
    expect(shell.logs).not.toContain(SECRET_PROJECT_ID);
    expect(shell.databaseBytes()).not.toContain(SECRET_PROJECT_ID);
    expect(filesUnder(shell.root)).not.toContain(SECRET_PROJECT_ID);
  });

  it('refuses bad option values before anything runs, saying what is wrong with each', async () => {
    const shell = start({ argv: ['--user', 'root', '--admin'] });
    await shell.waitFor('You are @root');
    const refused = await shell.run('/cloud-jit-grant user:@bob provider:oracle level:boss duration:0', 'Usage:');
    expect(refused).toContain('⛔ Not sent:');
    expect(refused).toContain('`provider`: `oracle` is not one of the choices: gcp, aws, azure, all');
    expect(refused).toContain('`level`: `boss` is not one of the choices: viewer, deployer, admin');
    expect(refused).toContain('`duration`: must be at least 1');
    const missing = await shell.run('/cloud-init provider:gcp', 'Usage:');
    expect(missing).toContain('`project_name` is required');
    expect(missing).toContain('`region` is required');
    const unknown = await shell.run('/cloud-deploy-v2 project_id:x', 'Type `/help`');
    expect(unknown).toContain('There is no command `/cloud-deploy-v2`');
    // Nothing ran: no grant, no DM, and the handlers' own checks still apply to values that pass the parser.
    expect(await shell.run('/cloud-jit-list', '└─')).not.toContain('@bob');
    expect(shell.transcript).not.toContain('📨');
    const zodRefused = await shell.run('/cloud-init provider:gcp project_name:"!!!" region:us-central1', '⛔');
    expect(zodRefused).toContain('letters or digits');
    expect(zodRefused).not.toContain('[hidden]');
  });

  it('a member without a grant is denied, works once granted (with a DM), and is denied again when it expires', async () => {
    const shell = start({ argv: ['--user', 'bob'] });
    await shell.waitFor('You are @bob (member)');
    const denied = await shell.run(INIT, '⛔');
    expect(denied).toMatch(/This needs deployer access to GCP/i);
    expect(denied).toContain('/cloud-jit-grant (provider: gcp, level: deployer)');
    expect(denied).not.toContain('[hidden]');
    // Viewing the guardrails is open to every member; changing them is not.
    expect(await shell.run('/cloud-guild-policy action:view', '└─')).toContain('Monthly budget');
    expect(await shell.run('/cloud-guild-policy action:update max_budget:5', '⛔')).toContain('needs the Manage Server permission');

    await shell.run('/as admin --admin', 'You are now @admin (server admin)');
    const granted = await shell.run('/cloud-jit-grant user:@bob provider:gcp level:deployer duration:30 reason:"try the console"', 'JIT permission granted');
    expect(granted).toContain('📨 DM to @bob:');
    await shell.waitFor('Member notified: yes, by DM');

    await shell.run('/as bob', 'You are now @bob (member)');
    await shell.run(INIT, 'GCP project id [hidden]: ');
    expect(await shell.run('', 'Form cancelled')).toContain('nothing you typed was kept');

    shell.clock.advanceMinutes(31);
    expect(await shell.run(INIT, '⛔')).toMatch(/This needs deployer access to GCP/i);
    await shell.quit();
  });

  it('shows members as @name, times as local time and "in 30 min", commands as typed: never Discord markup', async () => {
    const shell = start({ argv: ['--user', 'admin', '--admin'] });
    await shell.waitFor('You are @admin');
    const granted = await shell.run('/cloud-jit-grant user:@bob provider:gcp level:deployer duration:30', 'JIT permission granted');
    await shell.waitFor('Member notified');
    expect(shell.transcript).toMatch(/@bob has Deployer access to GCP for 30 min\w*, until \d{4}-\d{2}-\d{2} \d{2}:\d{2}\./);
    // Each time said once: never "21:01 (in 30 min) (after 30 minutes)" nor "(21:01 (in 30 min))".
    expect(shell.transcript).toMatch(/Expires: \d{2}:\d{2} \(in 30 min\)\n/);
    expect(shell.transcript).not.toMatch(/\(in 30 min\) \(after|\(\d{2}:\d{2} \(in 30 min\)\)/);
    expect(shell.transcript).toContain('Granted by: @admin');
    const audit = await shell.run('/cloud-audit action:jit.grant', '└─');
    expect(audit).toMatch(/\d{2}:\d{2} @admin `jit.grant` → @bob/);
    expect(granted + shell.transcript).not.toMatch(/<@|<t:|<#/);
    await shell.quit();
  });

  it('lists every policy rule a request breaks: a JIT grant longer than the server allows is refused', async () => {
    const shell = start({ argv: ['--user', 'root', '--admin'] });
    await shell.waitFor('You are @root');
    const updated = await shell.run('/cloud-guild-policy action:update max_jit_minutes:60', '└─');
    expect(updated).toMatch(/60 min/);
    const refused = await shell.run('/cloud-jit-grant user:@bob provider:gcp level:viewer duration:120', '⛔');
    expect(refused).toContain('from 1 to 60');
    expect(shell.transcript).not.toContain('📨 DM to @bob');
    await shell.quit();
  });

  it('a form left unanswered times out, and the next line is a command again, not a secret', async () => {
    const shell = start({ argv: ['--user', 'alice', '--admin'] });
    await shell.waitFor('You are @alice');
    await shell.run(INIT, 'GCP project id [hidden]: ');
    shell.timers.fire();
    await shell.waitFor('⌛ The form timed out');
    const sessions = await shell.run('/cloud-vault list', '└─');
    expect(sessions).toContain('You have no open sessions.');
    await shell.quit();
  });

  it('prints the help with every command and its options', async () => {
    const shell = start({ argv: ['--user', 'alice'] });
    await shell.waitFor('You are @alice');
    const help = await shell.run('/help', '/quit');
    for (const command of allCommands) expect(help).toContain(`/${command.name} — `);
    expect(help).toContain('/cloud-init provider:<gcp|aws|azure> project_name:<text> region:<text>');
    expect(await shell.run('/help cloud-vault', 'close')).toContain('/cloud-vault close session:<text>');
    // One command's help describes each option with the words of its Discord definition.
    const deployHelp = await shell.run('/help cloud-deploy', 'credential: ');
    expect(deployHelp).toContain('disk_size: Disk GB (vm) or expected storage GB (bucket)');
    expect(deployHelp).toContain('instance_type: Machine type (vm)');
    await shell.quit();
  });

  it('ends gracefully when the input ends (Ctrl-D)', async () => {
    const shell = start({ argv: ['--user', 'alice'] });
    await shell.waitFor('You are @alice');
    shell.input.end();
    await shell.finished;
    expect(shell.transcript).toContain('Bye.');
  });
});

/** A command shaped like /cloud-deploy's button flow, to exercise the console's buttons on their own. */
const tryButtons: Command = defineCommand({
  data: new SlashCommandBuilder().setName('try-buttons').setDescription('Offer Apply/Cancel, then an approval'),
  options: z.object({}),
  async execute({ conversation }) {
    const requester = conversation.actor;
    const plan = await conversation.offerButtons(
      {
        content: text`Plan ready for ${member(requester.id)}`,
        buttons: [
          { id: 'apply', label: 'Apply', style: 'success' },
          { id: 'cancel', label: 'Cancel', style: 'secondary' },
        ],
      },
      {
        where: 'response',
        timeoutMs: 5 * 60_000,
        authorize: (actor) => (actor.id === requester.id || actor.isGuildAdmin ? null : 'Only the requester or an admin can apply this plan.'),
        settled: (choice) => ({ content: choice ? text`Plan ${choice.buttonId === 'apply' ? 'accepted' : 'cancelled'} by ${member(choice.by.id)}` : 'Plan expired' }),
      },
    );
    if (!plan || plan.buttonId !== 'apply') return;
    const approval = await conversation.offerButtons(
      {
        notices: [{ title: '🛂 Approval needed', description: text`${member(requester.id)} wants to deploy.` }],
        buttons: [
          { id: 'approve', label: 'Approve', style: 'success' },
          { id: 'reject', label: 'Reject', style: 'danger' },
        ],
      },
      {
        where: 'channel',
        timeoutMs: 10 * 60_000,
        authorize: (actor) =>
          !actor.isGuildAdmin ? 'Only a server admin can approve.' : actor.id === requester.id ? 'You cannot approve your own request.' : null,
        settled: (choice) => ({ content: choice ? text`${choice.buttonId} by ${member(choice.by.id)}` : 'Approval expired' }),
      },
    );
    await conversation.followUp({ content: approval ? `Result: ${approval.buttonId}` : 'Result: expired', ephemeral: true });
  },
});

describe('buttons in the console', () => {
  it('are numbered; a member who may not press is told why and the buttons keep waiting; another member can press', async () => {
    const shell = start({ argv: ['--user', 'carol', '--admin'], commands: [tryButtons] });
    await shell.waitFor('You are @carol');
    const offered = await shell.run('/try-buttons', '↳ type a number');
    expect(offered).toContain('Plan ready for @carol');
    expect(offered).toContain('[1] Apply  [2] Cancel');

    const refused = await shell.run('1 as dave', 'the buttons are still waiting');
    expect(refused).toContain('⛔ Only the requester or an admin can apply this plan. (only @dave sees this');
    expect(await shell.run('3', 'still waiting')).toContain('Choose a number from 1 to 2.');

    const approval = await shell.run('1', '[1] Approve  [2] Reject');
    expect(approval).toContain('👆 @carol pressed [1] Apply');
    expect(approval).toContain('Plan accepted by @carol');
    expect(approval).toContain('📢 #general');
    expect(approval).toContain('@carol wants to deploy.');

    expect(await shell.run('1', 'still waiting')).toContain('You cannot approve your own request.');
    expect(await shell.run('/as dave', 'You are now @dave (member)')).not.toContain('⛔');
    expect(await shell.run('1', 'still waiting')).toContain('Only a server admin can approve.');
    const done = await shell.run('1 as erin --admin', 'Result: approve');
    expect(done).toContain('👆 @erin pressed [1] Approve');
    expect(done).toContain('approve by @erin');
    expect(await shell.run('1', 'Nothing is waiting')).toContain('Nothing is waiting for a button press');
    const members = await shell.settle();
    expect(members).toContain('@carol (server admin)');
    expect(members).toContain('@dave (member)');
    expect(members).toContain('@erin (server admin)');
    await shell.quit();
  });

  it('expire when their time is up, and say so', async () => {
    const shell = start({ argv: ['--user', 'carol'], commands: [tryButtons] });
    await shell.waitFor('You are @carol');
    await shell.run('/try-buttons', '[1] Apply');
    shell.timers.fire();
    const expired = await shell.waitFor('Plan expired');
    expect(expired).toContain('⌛ Nobody pressed a button in time');
    expect(await shell.run('2', 'Nothing is waiting')).not.toContain('👆');
    await shell.quit();
  });

  it('are dropped when the console is left while they wait', async () => {
    const shell = start({ argv: ['--user', 'carol'], commands: [tryButtons] });
    await shell.waitFor('You are @carol');
    await shell.run('/try-buttons', '[1] Apply');
    await shell.quit();
    expect(shell.transcript).toContain('Bye.');
  });
});

describe('at a real terminal', () => {
  it('the secret typed into a form is not echoed and not kept in the history; commands are', async () => {
    const shell = start({ argv: ['--user', 'alice', '--admin'], tty: true });
    await shell.waitFor('You are @alice');
    await shell.run(INIT, 'GCP project id [hidden]: ');
    await shell.run(SECRET_PROJECT_ID, '[hidden]: ');
    await shell.run('', 'Secure cloud project initialised');
    await shell.quit();
    expect(shell.transcript).toContain('/cloud-init provider:gcp'); // echoed as typed
    expect(shell.transcript).not.toContain(SECRET_PROJECT_ID);
    expect(shell.transcript).not.toContain('secret-proj');
  });

  it('readline’s history holds commands but never a secret answer', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
    const output = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    let printed = '';
    output.on('data', (chunk: Buffer) => {
      printed += chunk.toString('utf8');
    });
    const terminal = new ConsoleTerminal({ input, output });
    const lines = terminal.lines()[Symbol.asyncIterator]();
    input.write('/cloud-vault list\r');
    expect((await lines.next()).value).toBe('/cloud-vault list');
    terminal.beginSecret('Secret: ');
    input.write('hunter2-secret\r');
    expect((await lines.next()).value).toBe('hunter2-secret');
    terminal.endSecret();
    expect(terminal.history()).toEqual(['/cloud-vault list']);
    expect(printed).toContain('/cloud-vault list');
    expect(printed).toContain('Secret: ');
    expect(printed).not.toContain('hunter2');
    terminal.close();
  });
});

const hasDeployCommands = ['cloud-deploy', 'cloud-destroy'].every((name) => allCommands.some((c) => c.name === name));

describe('a full scenario with the stand-in engine', () => {
  it.skipIf(!hasDeployCommands)('init → deploy (plan, Apply, progress) → projects → destroy (confirm)', async () => {
    const shell = start({ argv: ['--user', 'alice', '--admin'] });
    await shell.waitFor('You are @alice');
    await shell.run('/cloud-init provider:gcp project_name:demo region:us-central1', 'GCP project id [hidden]: ');
    await shell.run(SECRET_PROJECT_ID, '[hidden]: ');
    await shell.run('', 'Secure cloud project initialised');

    const plan = await shell.run('/cloud-deploy project:demo resource_type:vm instance_type:e2-micro disk_size:10', '[1] Apply  [2] Cancel');
    expect(plan).toMatch(/e2-micro/);
    shell.send('1');
    const applied = await shell.settle();
    expect(applied).toContain('👆 @alice pressed [1] Apply');
    expect(applied).not.toMatch(/⛔|Something went wrong/);

    const projects = await shell.run('/cloud-projects', '└─');
    expect(projects).toContain('demo');
    expect(projects).toMatch(/e2-micro|vm/);

    const confirm = await shell.run('/cloud-destroy project:demo', '↳ type a number');
    expect(confirm).toMatch(/destroy/i);
    shell.send('1');
    const destroyed = await shell.settle();
    expect(destroyed).toMatch(/👆 @alice pressed \[1\]/);
    expect(destroyed).not.toMatch(/⛔|Something went wrong/);
    await shell.quit();
    expect(shell.transcript).not.toContain(SECRET_PROJECT_ID);
    expect(shell.logs).not.toContain(SECRET_PROJECT_ID);
    expect(shell.databaseBytes()).not.toContain(SECRET_PROJECT_ID);
  });

  it.skipIf(!hasDeployCommands)('a deployment that needs approval: the requester cannot approve, another admin can', async () => {
    const shell = start({ argv: ['--user', 'alice', '--admin'] });
    await shell.waitFor('You are @alice');
    await shell.run('/cloud-guild-policy action:update require_approval:true', '└─');
    await shell.run('/cloud-jit-grant user:@bob provider:gcp level:deployer duration:60', 'JIT permission granted');
    await shell.run('/as bob', 'You are now @bob');
    await shell.run('/cloud-init provider:gcp project_name:demo region:us-central1', 'GCP project id [hidden]: ');
    await shell.run(SECRET_PROJECT_ID, '[hidden]: ');
    await shell.run('', 'Secure cloud project initialised');
    await shell.run('/cloud-deploy project:demo resource_type:vm instance_type:e2-micro disk_size:10', '[1] Apply  [2] Cancel');
    const approval = await shell.run('1', '[1] Approve  [2] Reject');
    expect(approval).toContain('📢 #general');
    // The plan's footer says what happens now: nothing is applying before an admin approves.
    expect(approval).toContain("Confirmed by @bob; waiting for an admin's approval.");
    expect(approval).not.toContain('Applying (confirmed by');
    const own = await shell.run('1', 'another admin must');
    expect(own).toContain('→ @bob (only you)');
    expect(own).toContain('You cannot approve your own deployment');
    shell.send('1 as alice');
    const done = await shell.settle();
    expect(done).toContain('👆 @alice pressed [1] Approve');
    expect(done).toMatch(/Approved by @alice/);
    expect(done).toMatch(/Deployed vm/);
    expect(done).not.toMatch(/⛔|Something went wrong/);
    await shell.quit();
  });

  it.skipIf(!hasDeployCommands)('a deployment that breaks several policy rules lists each and offers no Apply', async () => {
    const shell = start({ argv: ['--user', 'alice', '--admin'] });
    await shell.waitFor('You are @alice');
    await shell.run('/cloud-guild-policy action:update max_disk:20 allowed_instance_types:e2-micro', '└─');
    await shell.run('/cloud-init provider:gcp project_name:demo region:us-central1', 'GCP project id [hidden]: ');
    await shell.run(SECRET_PROJECT_ID, '[hidden]: ');
    await shell.run('', 'Secure cloud project initialised');
    shell.send('/cloud-deploy project:demo resource_type:vm instance_type:n2-standard-8 disk_size:100');
    const refused = await shell.settle();
    expect(refused).toContain('⛔');
    expect(refused).toMatch(/n2-standard-8/);
    expect(refused).toMatch(/100/);
    expect(refused).not.toContain('[1] Apply');
    await shell.quit();
  });
});
