/**
 * Turns a typed slash command into the RawOptions Discord would have sent, reading the command's own definition
 * (the same JSON `npm run register` publishes). Everything Discord's client refuses before sending — an unknown
 * command or option, a missing required option, a value of the wrong type, outside the choices, out of range or of
 * the wrong length — is refused here with a message, and nothing runs.
 */
import {
  OptionType,
  type Command,
  type CommandDefinitionJson,
  type CommandOptionJson,
} from '../interaction/command.js';
import type { OptionValue, RawOptions } from '../interaction/conversation.js';
import { isUserError } from '../shared/errors.js';
import { SNOWFLAKE_PATTERN } from '../shared/snowflake.js';
import { userOptionOf, type ConsoleDirectory } from './directory.js';
import { tokenize, type Word } from './tokenize.js';

/** Discord's integer options accept ±2^53. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export type ParseResult =
  | { ok: true; command: Command; raw: RawOptions }
  | { ok: false; message: string };

export interface CommandLocation {
  /** The options the user fills in at this point: the command's, or its subcommand's. */
  options: readonly CommandOptionJson[];
  raw: RawOptions;
  /** Words after the command and subcommand names. */
  rest: Word[];
  /** Names of subcommands (or groups) still to choose, when the words so far stop before one. */
  pendingSubcommands?: readonly CommandOptionJson[];
  /** The subcommand (group) word, if one was typed but is unknown. */
  unknownSubcommand?: string;
}

const isSubcommandLike = (option: CommandOptionJson) =>
  option.type === OptionType.Subcommand || option.type === OptionType.SubcommandGroup;

/** Follows subcommand group and subcommand words through the definition. */
export function locate(definition: CommandDefinitionJson, words: readonly Word[]): CommandLocation {
  let options = definition.options ?? [];
  const raw: RawOptions = {};
  let index = 0;
  while (options.length > 0 && options.every(isSubcommandLike)) {
    const word = words[index];
    if (!word) return { options: [], raw, rest: [], pendingSubcommands: options };
    const chosen = options.find((option) => option.name === word.text.toLowerCase());
    if (!chosen) return { options: [], raw, rest: words.slice(index + 1), pendingSubcommands: options, unknownSubcommand: word.text };
    raw[chosen.type === OptionType.SubcommandGroup ? 'subcommand_group' : 'subcommand'] = chosen.name;
    options = chosen.options ?? [];
    index += 1;
  }
  return { options, raw, rest: words.slice(index) };
}

/** Parses `/name sub option:value ...` against the registered commands. */
export function parseCommandLine(line: string, commands: readonly Command[], directory: ConsoleDirectory): ParseResult {
  const { words, unterminatedQuote } = tokenize(line.trim());
  const first = words[0];
  if (!first || !first.text.startsWith('/')) {
    return { ok: false, message: 'Commands start with `/`, e.g. `/cloud-projects`. Type `/help` for the list.' };
  }
  if (unterminatedQuote) return { ok: false, message: 'A quote is not closed. Put the value between two `"`.' };
  const name = first.text.slice(1).toLowerCase();
  const command = commands.find((c) => c.name === name);
  if (!command) {
    const close = commands.filter((c) => c.name.includes(name) || name.includes(c.name)).map((c) => `/${c.name}`);
    return {
      ok: false,
      message: `There is no command \`/${name}\`.${close.length ? ` Did you mean ${close.join(', ')}?` : ''} Type \`/help\` for the list.`,
    };
  }
  const location = locate(command.definition, words.slice(1));
  if (location.pendingSubcommands) {
    const names = location.pendingSubcommands.map((s) => s.name).join(', ');
    const head = location.unknownSubcommand
      ? `\`/${name}\` has no subcommand \`${location.unknownSubcommand}\`.`
      : `\`/${name}\` needs a subcommand.`;
    return { ok: false, message: `${head} Choose one of: ${names}. Example: \`/${name} ${location.pendingSubcommands[0]?.name ?? ''}\`` };
  }

  const problems: string[] = [];
  const raw: RawOptions = { ...location.raw };
  const given = new Set<string>();
  for (const word of location.rest) {
    const colon = word.text.indexOf(':');
    if (colon <= 0) {
      problems.push(`\`${word.text}\` is not an option: write options as \`name:value\`.`);
      continue;
    }
    const optionName = word.text.slice(0, colon).toLowerCase();
    const text = word.text.slice(colon + 1);
    const option = location.options.find((o) => o.name === optionName);
    if (!option) {
      const known = location.options.map((o) => o.name);
      problems.push(
        `there is no option \`${optionName}\`${known.length ? `; the options are ${known.join(', ')}` : '; this command takes no options'}.`,
      );
      continue;
    }
    if (given.has(option.name)) {
      problems.push(`\`${option.name}\` is given twice; give it once.`);
      continue;
    }
    given.add(option.name);
    const value = parseOptionValue(option, text, directory);
    if (typeof value === 'object' && 'problem' in value) problems.push(`\`${option.name}\`: ${value.problem}`);
    else raw[option.name] = value;
  }
  for (const option of location.options) {
    if (option.required && !given.has(option.name)) {
      problems.push(`\`${option.name}\` is required (${option.description}).`);
    }
  }
  if (problems.length > 0) {
    return {
      ok: false,
      message: `\`/${name}\` was not run:\n${problems.map((p) => `• ${p}`).join('\n')}\nUsage: ${usage(command.definition, location.raw)}`,
    };
  }
  return { ok: true, command, raw };
}

export type ParsedValue = OptionValue | { problem: string };
type Parsed = ParsedValue;

/** One typed value checked against its option's type, choices, range and length. */
export function parseOptionValue(option: CommandOptionJson, text: string, directory: ConsoleDirectory): Parsed {
  if (text === '') return { problem: `give a value after the colon, e.g. \`${option.name}:${example(option)}\`.` };
  switch (option.type) {
    case OptionType.String:
      return checkChoice(option, text) ?? checkLength(option, text);
    case OptionType.Integer: {
      if (!/^[+-]?\d+$/.test(text)) return { problem: `expected a whole number, got \`${text}\`.` };
      const value = Number(text);
      if (Math.abs(value) > MAX_SAFE) return { problem: 'that number is too large.' };
      return checkChoice(option, value) ?? checkRange(option, value);
    }
    case OptionType.Number: {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return { problem: `expected a number, got \`${text}\`.` };
      const value = Number(text);
      if (!Number.isFinite(value)) return { problem: 'that number is too large.' };
      return checkChoice(option, value) ?? checkRange(option, value);
    }
    case OptionType.Boolean: {
      const lower = text.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      return { problem: `expected true or false, got \`${text}\`.` };
    }
    case OptionType.User:
      return resolveUser(text, directory);
    case OptionType.Channel:
      return resolveChannel(text, directory);
    default:
      return { problem: 'this kind of option cannot be typed in the console.' };
  }
}

function checkChoice(option: CommandOptionJson, value: string | number): Parsed | undefined {
  if (!option.choices?.length) return undefined;
  const exact = option.choices.find((c) => c.value === value);
  if (exact) return exact.value;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    const loose = option.choices.find((c) => String(c.value).toLowerCase() === lower || c.name.toLowerCase() === lower);
    if (loose) return loose.value;
  }
  return { problem: `\`${value}\` is not one of the choices: ${option.choices.map((c) => c.value).join(', ')}.` };
}

function checkLength(option: CommandOptionJson, text: string): Parsed {
  const length = [...text].length;
  if (option.min_length !== undefined && length < option.min_length) {
    return { problem: `must be at least ${option.min_length} characters long.` };
  }
  if (option.max_length !== undefined && length > option.max_length) {
    return { problem: `must be at most ${option.max_length} characters long (it has ${length}).` };
  }
  return text;
}

function checkRange(option: CommandOptionJson, value: number): Parsed {
  if (option.min_value !== undefined && value < option.min_value) return { problem: `must be at least ${option.min_value}.` };
  if (option.max_value !== undefined && value > option.max_value) return { problem: `must be at most ${option.max_value}.` };
  return value;
}

function resolveUser(text: string, directory: ConsoleDirectory): Parsed {
  const mentioned = /^<@!?(\d+)>$/.exec(text)?.[1];
  const id = mentioned ?? (SNOWFLAKE_PATTERN.test(text) ? text : undefined);
  if (id !== undefined) {
    const member = directory.memberById(id);
    return member ? userOptionOf(member) : { problem: `no member of this console server has the id ${id}; write \`@name\` instead.` };
  }
  try {
    return userOptionOf(directory.member(text));
  } catch (error) {
    if (isUserError(error)) return { problem: error.message };
    throw error;
  }
}

function resolveChannel(text: string, directory: ConsoleDirectory): Parsed {
  const mentioned = /^<#(\d+)>$/.exec(text)?.[1];
  const id = mentioned ?? (SNOWFLAKE_PATTERN.test(text) ? text : undefined);
  if (id !== undefined) {
    const channel = directory.channelById(id);
    return channel ? channel.id : { problem: `no channel of this console server has the id ${id}; write \`#name\` instead.` };
  }
  try {
    return directory.channel(text).id;
  } catch (error) {
    if (isUserError(error)) return { problem: error.message };
    throw error;
  }
}

/** What to type for an option, for usage lines and examples. */
export function placeholder(option: CommandOptionJson): string {
  if (option.choices?.length) return option.choices.map((c) => c.value).join('|');
  switch (option.type) {
    case OptionType.Integer:
      return rangeHint('whole number', option);
    case OptionType.Number:
      return rangeHint('number', option);
    case OptionType.Boolean:
      return 'true|false';
    case OptionType.User:
      return '@member';
    case OptionType.Channel:
      return '#channel';
    default:
      return 'text';
  }
}

function rangeHint(kind: string, option: CommandOptionJson): string {
  if (option.min_value !== undefined && option.max_value !== undefined) return `${option.min_value}–${option.max_value}`;
  if (option.min_value !== undefined) return `${kind} ≥ ${option.min_value}`;
  if (option.max_value !== undefined) return `${kind} ≤ ${option.max_value}`;
  return kind;
}

function example(option: CommandOptionJson): string {
  const first = option.choices?.[0];
  if (first) return String(first.value);
  if (option.type === OptionType.Boolean) return 'true';
  if (option.type === OptionType.User) return '@alice';
  if (option.type === OptionType.Channel) return '#general';
  if (option.type === OptionType.Integer || option.type === OptionType.Number) return String(option.min_value ?? 1);
  return '"some text"';
}

/**
 * One usage line per runnable form of the command: `/cloud-vault close session:<text>`. With `chosen` (the
 * subcommand already picked), only that form.
 */
export function usage(definition: CommandDefinitionJson, chosen: RawOptions = {}): string {
  return usageLines(definition)
    .filter((form) => chosen.subcommand === undefined || form.path.at(-1) === chosen.subcommand)
    .map((form) => form.line)
    .join('\n       ');
}

/** One way to call a command: its subcommand path, the line to type, what it does and its options (as registered). */
export interface UsageForm {
  path: string[];
  line: string;
  description: string;
  options: readonly CommandOptionJson[];
}

export function usageLines(definition: CommandDefinitionJson): UsageForm[] {
  const forms: UsageForm[] = [];
  const walk = (options: readonly CommandOptionJson[], path: string[], description: string) => {
    if (options.length > 0 && options.every(isSubcommandLike)) {
      for (const sub of options) walk(sub.options ?? [], [...path, sub.name], sub.description);
      return;
    }
    const parts = options.map((o) => (o.required ? `${o.name}:<${placeholder(o)}>` : `[${o.name}:<${placeholder(o)}>]`));
    forms.push({ path, line: [`/${definition.name}`, ...path, ...parts].join(' '), description, options });
  };
  walk(definition.options ?? [], [], definition.description);
  return forms;
}
