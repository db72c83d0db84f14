import { SlashCommandBuilder } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseCommandLine, usage } from '../src/console/command-line.js';
import { createCompleter } from '../src/console/completer.js';
import { CONSOLE_GUILD_ID, ConsoleDirectory, actorOf, snowflakeFromName } from '../src/console/directory.js';
import { ConsoleRenderer, relative } from '../src/console/render.js';
import { quoteIfNeeded, tokenize } from '../src/console/tokenize.js';
import { parseConsoleArgs } from '../src/console/console-front-end.js';
import { defineCommand, type Command } from '../src/interaction/command.js';
import type { AutocompleteRequest } from '../src/interaction/conversation.js';
import { channel, command, member, money, strong, text, time } from '../src/shared/text.js';
import { FakeClock } from './support/clock.js';

// Definitions shaped like the real ones (choices, lengths, ranges, subcommands, users, autocomplete), built with the
// same discord.js builders, so the parser is tested against what Discord would enforce.
const init = defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-init')
    .setDescription('Start a project')
    .addStringOption((o) =>
      o.setName('provider').setDescription('Cloud provider').setRequired(true).addChoices(
        { name: 'Google Cloud (gcp)', value: 'gcp' },
        { name: 'Amazon Web Services (aws)', value: 'aws' },
      ),
    )
    .addStringOption((o) => o.setName('project_name').setDescription('A name for this project').setRequired(true).setMaxLength(12))
    .addStringOption((o) => o.setName('region').setDescription('e.g. us-central1').setRequired(true))
    .addStringOption((o) => o.setName('credential').setDescription('Stored credential').setAutocomplete(true)),
  options: z.object({}).passthrough(),
  async execute() {},
});

const deploy = defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-deploy')
    .setDescription('Deploy')
    .addStringOption((o) => o.setName('project').setDescription('Project').setRequired(true))
    .addIntegerOption((o) => o.setName('disk_size').setDescription('Disk, GB').setMinValue(10).setMaxValue(500))
    .addNumberOption((o) => o.setName('budget').setDescription('USD').setMinValue(0))
    .addBooleanOption((o) => o.setName('dry_run').setDescription('Plan only')),
  options: z.object({}).passthrough(),
  async execute() {},
});

const vault = defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-vault')
    .setDescription('Vault sessions')
    .addSubcommand((s) => s.setName('list').setDescription('List'))
    .addSubcommand((s) =>
      s.setName('close').setDescription('Close').addStringOption((o) => o.setName('session').setDescription('Session id').setRequired(true)),
    ),
  options: z.object({}).passthrough(),
  async execute() {},
});

const grant = defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-jit-grant')
    .setDescription('Grant')
    .addUserOption((o) => o.setName('user').setDescription('Who').setRequired(true))
    .addChannelOption((o) => o.setName('channel').setDescription('Where')),
  options: z.object({}).passthrough(),
  async execute() {},
});

const commands: Command[] = [init, deploy, vault, grant];

function parse(line: string, directory = new ConsoleDirectory()) {
  return parseCommandLine(line, commands, directory);
}

function problemOf(line: string, directory?: ConsoleDirectory): string {
  const result = parse(line, directory);
  if (result.ok) throw new Error(`expected "${line}" to be refused`);
  return result.message;
}

describe('typing a slash command', () => {
  it('gives the handler the same flat options Discord would, quoted values included', () => {
    const result = parse('/cloud-init provider:gcp project_name:"my demo" region:us-central1');
    expect(result.ok && result.raw).toEqual({ provider: 'gcp', project_name: 'my demo', region: 'us-central1' });
  });

  it('accepts a choice by its value in any case or by its shown name, and sends the value', () => {
    expect(parse('/cloud-init provider:GCP project_name:a region:b').ok && parse('/cloud-init provider:GCP project_name:a region:b')).toMatchObject({
      raw: { provider: 'gcp' },
    });
    const byName = parse('/cloud-init provider:"Amazon Web Services (aws)" project_name:a region:b');
    expect(byName.ok && byName.raw.provider).toBe('aws');
  });

  it('turns subcommands into `subcommand`', () => {
    const list = parse('/cloud-vault list');
    expect(list.ok && list.raw).toEqual({ subcommand: 'list' });
    const close = parse('/cloud-vault close session:abc123');
    expect(close.ok && close.raw).toEqual({ subcommand: 'close', session: 'abc123' });
  });

  it('types integers, numbers and booleans', () => {
    const result = parse('/cloud-deploy project:demo disk_size:20 budget:12.5 dry_run:TRUE');
    expect(result.ok && result.raw).toEqual({ project: 'demo', disk_size: 20, budget: 12.5, dry_run: true });
  });

  it('resolves `@name` to a member of the console server, created with a stable snowflake', () => {
    const directory = new ConsoleDirectory();
    const result = parse('/cloud-jit-grant user:@Bob channel:#ops', directory);
    const bob = directory.findMember('bob');
    expect(bob?.id).toMatch(/^\d{18}$/);
    expect(result.ok && result.raw).toEqual({
      user: { id: bob?.id, displayName: 'Bob', isBot: false },
      channel: directory.channel('ops').id,
    });
    const byMention = parse(`/cloud-jit-grant user:<@${bob?.id ?? ''}>`, directory);
    expect(byMention.ok && byMention.raw.user).toEqual({ id: bob?.id, displayName: 'Bob', isBot: false });
  });
});

describe('typed commands Discord would refuse are refused, and nothing runs', () => {
  it('an unknown command, with a suggestion', () => {
    expect(problemOf('/cloud-inti provider:gcp')).toContain('There is no command `/cloud-inti`');
    expect(problemOf('/init')).toContain('Did you mean /cloud-init?');
  });

  it('a line that is not a command', () => {
    expect(problemOf('hello')).toContain('Commands start with `/`');
  });

  it('an unknown option, listing the real ones', () => {
    expect(problemOf('/cloud-init provider:gcp project_name:a region:b colour:red')).toContain(
      'there is no option `colour`; the options are provider, project_name, region, credential',
    );
  });

  it('every missing required option, with what it is for', () => {
    const message = problemOf('/cloud-init provider:gcp');
    expect(message).toContain('`project_name` is required (A name for this project)');
    expect(message).toContain('`region` is required (e.g. us-central1)');
    expect(message).toContain('Usage: /cloud-init provider:<gcp|aws> project_name:<text> region:<text> [credential:<text>]');
  });

  it('a value outside the choices', () => {
    expect(problemOf('/cloud-init provider:oracle project_name:a region:b')).toContain('`oracle` is not one of the choices: gcp, aws');
  });

  it('a value of the wrong type', () => {
    expect(problemOf('/cloud-deploy project:demo disk_size:big')).toContain('`disk_size`: expected a whole number, got `big`');
    expect(problemOf('/cloud-deploy project:demo disk_size:10.5')).toContain('expected a whole number');
    expect(problemOf('/cloud-deploy project:demo budget:lots')).toContain('`budget`: expected a number');
    expect(problemOf('/cloud-deploy project:demo dry_run:maybe')).toContain('`dry_run`: expected true or false');
  });

  it('a number out of range and a text too long', () => {
    expect(problemOf('/cloud-deploy project:demo disk_size:5')).toContain('`disk_size`: must be at least 10');
    expect(problemOf('/cloud-deploy project:demo disk_size:501')).toContain('`disk_size`: must be at most 500');
    expect(problemOf('/cloud-deploy project:demo budget:-1')).toContain('`budget`: must be at least 0');
    expect(problemOf('/cloud-init provider:gcp project_name:far-too-long-name region:b')).toContain(
      '`project_name`: must be at most 12 characters long',
    );
  });

  it('a missing or unknown subcommand', () => {
    expect(problemOf('/cloud-vault')).toContain('`/cloud-vault` needs a subcommand. Choose one of: list, close');
    expect(problemOf('/cloud-vault open')).toContain('`/cloud-vault` has no subcommand `open`');
    expect(problemOf('/cloud-vault close')).toContain('`session` is required');
  });

  it('an option given twice, a bare word, an empty value, an open quote', () => {
    expect(problemOf('/cloud-deploy project:a project:b')).toContain('`project` is given twice');
    expect(problemOf('/cloud-deploy demo')).toContain('`demo` is not an option: write options as `name:value`');
    expect(problemOf('/cloud-deploy project:')).toContain('give a value after the colon');
    expect(problemOf('/cloud-deploy project:"demo')).toContain('A quote is not closed');
  });

  it('a member id nobody has, and a name that cannot be a member', () => {
    expect(problemOf('/cloud-jit-grant user:123456789012345678')).toContain('no member of this console server has the id');
    expect(problemOf('/cloud-jit-grant user:@-x')).toContain('is not a valid member name');
  });
});

describe('words', () => {
  it('splits like a shell: quotes keep spaces, a backslash escapes', () => {
    expect(tokenize(`/x a:"b c" 'd e' f\\ g h:"say \\"hi\\""`).words.map((w) => w.text)).toEqual([
      '/x',
      'a:b c',
      'd e',
      'f g',
      'h:say "hi"',
    ]);
    expect(tokenize('/x a:"open').unterminatedQuote).toBe(true);
    expect(quoteIfNeeded('my demo')).toBe('"my demo"');
    expect(quoteIfNeeded('plain')).toBe('plain');
  });

  it('shows one usage line per subcommand', () => {
    expect(usage(vault.definition)).toBe('/cloud-vault list\n       /cloud-vault close session:<text>');
  });
});

describe('members of the console server', () => {
  it('get the same 18-digit id from the same name, whatever its case, and distinct ids otherwise', () => {
    expect(snowflakeFromName('member', 'Alice')).toBe(snowflakeFromName('member', 'alice'));
    expect(snowflakeFromName('member', 'alice')).not.toBe(snowflakeFromName('member', 'bob'));
    expect(snowflakeFromName('member', 'alice')).not.toBe(snowflakeFromName('channel', 'alice'));
    expect(snowflakeFromName('member', 'alice')).toMatch(/^[2-9]\d{17}$/);
    const directory = new ConsoleDirectory();
    expect(directory.member('Alice')).toBe(directory.member('@alice'));
    expect(actorOf(directory.setAdmin('alice', true))).toMatchObject({ displayName: 'Alice', isGuildAdmin: true, isBot: false });
  });
});

describe('rendering for a terminal', () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const directory = new ConsoleDirectory();
  const bob = directory.member('bob');
  const renderer = new ConsoleRenderer(clock, directory);

  it('shows a time as local time and how far away it is, never as a Discord timestamp', () => {
    const rendered = renderer.text(text`expires ${time(clock.now() + 29 * 60_000)}`);
    const local = new Date(clock.now() + 29 * 60_000);
    const hhmm = `${String(local.getHours()).padStart(2, '0')}:${String(local.getMinutes()).padStart(2, '0')}`;
    expect(rendered).toBe(`expires ${hhmm} (in 29 min)`);
    expect(renderer.text(time(clock.now() - 3 * 3_600_000))).toContain('(3 h ago)');
    expect(renderer.text(time(clock.now(), 'datetime'))).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    expect(renderer.text(time(clock.now(), 'clock'))).toMatch(/^\d{2}:\d{2}$/);
    expect(relative(3 * 24 * 3_600_000)).toBe('in 3 days');
  });

  it('names members and channels, writes commands as typed, shows member text as typed, no markdown', () => {
    const rendered = renderer.text(
      text`${member(bob.id)} in ${channel(directory.defaultChannel.id)}: ${strong('my *demo*')} costs ${money(12.5)}; ask for ${command('jit.grant', { user: member(bob.id), level: 'admin' })}`,
    );
    expect(rendered).toBe('@bob in #general: my *demo* costs $12.50; ask for /cloud-jit-grant (user: @bob, level: admin)');
    expect(renderer.text(member('999999999999999999'))).toBe('@999999999999999999');
    expect(renderer.text(member('system'))).toBe('system');
    expect(rendered).not.toMatch(/<@|<t:|\*\*/);
  });

  it('draws a notice as a box with its title, description and fields', () => {
    const out = renderer.message('🤖 /cloud-init → @bob (only you)', {
      notices: [{ title: '✅ Done', description: 'All **good**', fields: [{ name: 'Region', value: 'us-central1' }] }],
    }, [{ id: 'apply', label: 'Apply' }, { id: 'cancel', label: 'Cancel' }]);
    expect(out).toBe(
      ['🤖 /cloud-init → @bob (only you)', '  ┌─ ✅ Done', '  │ All good', '  │ Region: us-central1', '  └─', '  [1] Apply  [2] Cancel', ''].join('\n'),
    );
  });
});

describe('tab completion', () => {
  const directory = new ConsoleDirectory();
  directory.member('alice');
  const requests: AutocompleteRequest[] = [];
  const complete = createCompleter({
    commands,
    builtins: ['/help', '/as'],
    directory,
    actor: () => actorOf(directory.member('alice')),
    complete: async (request) => {
      requests.push(request);
      return ['team-gcp', 'team-aws', 'other']
        .filter((name) => name.startsWith(request.focused.value))
        .map((name) => ({ name, value: name }));
    },
  });

  it('completes command names, subcommands and option names not yet given', async () => {
    expect(await complete('/cloud-v')).toEqual([['/cloud-vault'], '/cloud-v']);
    expect((await complete(''))[0]).toContain('/help');
    expect(await complete('/cloud-vault c')).toEqual([['close'], 'c']);
    expect(await complete('/cloud-init provider:gcp ')).toEqual([['project_name:', 'region:', 'credential:'], '']);
  });

  it('completes choices, booleans and members', async () => {
    expect(await complete('/cloud-init provider:')).toEqual([['provider:gcp', 'provider:aws'], 'provider:']);
    expect(await complete('/cloud-deploy project:x dry_run:t')).toEqual([['dry_run:true'], 'dry_run:t']);
    expect(await complete('/cloud-jit-grant user:@a')).toEqual([['user:@alice'], 'user:@a']);
    expect(await complete('/as al')).toEqual([['alice'], 'al']);
  });

  it('asks the command for autocomplete options, with the acting member and the options typed so far', async () => {
    expect(await complete('/cloud-init provider:gcp credential:team')).toEqual([
      ['credential:team-gcp', 'credential:team-aws'],
      'credential:team',
    ]);
    expect(requests.at(-1)).toMatchObject({
      guildId: CONSOLE_GUILD_ID,
      commandName: 'cloud-init',
      actor: { displayName: 'alice' },
      focused: { name: 'credential', value: 'team' },
      options: { provider: 'gcp', credential: 'team' },
    });
  });
});

describe('start-up flags', () => {
  it('reads --user and --admin, ignores --console, refuses anything else', () => {
    expect(parseConsoleArgs(['--console', '--user', 'alice', '--admin'])).toEqual({ user: 'alice', admin: true, help: false });
    expect(parseConsoleArgs(['--user=bob']).user).toBe('bob');
    expect(() => parseConsoleArgs(['--user'])).toThrow('--user needs a name');
    expect(() => parseConsoleArgs(['--colour'])).toThrow('Unknown argument --colour');
  });
});
