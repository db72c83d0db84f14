/**
 * Tab completion for the console: command names, subcommands, option names, choices, members and channels, and
 * for options Discord would autocomplete, the command's own autocomplete (through the dispatcher).
 */
import { OptionType, type Command, type CommandOptionJson } from '../interaction/command.js';
import type { Actor, AutocompleteRequest, Choice, RawOptions } from '../interaction/conversation.js';
import { locate, parseOptionValue } from './command-line.js';
import { userOptionOf, type ConsoleDirectory } from './directory.js';
import type { Completer } from './terminal.js';
import { quoteIfNeeded, tokenize, type Word } from './tokenize.js';

export interface CompletionSources {
  commands: readonly Command[];
  /** The console's own commands, e.g. `/help`, `/as`. */
  builtins: readonly string[];
  directory: ConsoleDirectory;
  actor(): Actor;
  complete(request: AutocompleteRequest): Promise<Choice[]>;
}

export function createCompleter(sources: CompletionSources): Completer {
  return async (line) => {
    const { words, endsWithSpace } = tokenize(line);
    const last = words.at(-1);
    const typing = endsWithSpace || !last ? '' : line.slice(last.start);
    const typingText = endsWithSpace || !last ? '' : last.text;
    const before = endsWithSpace ? words : words.slice(0, -1);
    const candidates = await candidatesFor(sources, before, typingText);
    return [candidates.filter((candidate) => candidate.startsWith(typing)), typing];
  };
}

async function candidatesFor(sources: CompletionSources, before: Word[], typing: string): Promise<string[]> {
  const { commands, directory } = sources;
  const head = before[0];
  if (!head) return [...commands.map((c) => `/${c.name}`), ...sources.builtins].sort();
  const name = head.text.toLowerCase();
  if (name === '/as') return before.length === 1 ? directory.members().map((m) => m.name) : ['--admin', '--member', '--dms-closed', '--dms-open'];
  if (name === '/help') return before.length === 1 ? commands.map((c) => c.name) : [];
  const command = commands.find((c) => `/${c.name}` === name);
  if (!command) return [];
  const location = locate(command.definition, before.slice(1));
  if (location.unknownSubcommand) return [];
  if (location.pendingSubcommands) return location.pendingSubcommands.map((s) => s.name);

  const colon = typing.indexOf(':');
  if (colon < 0) {
    const given = new Set(location.rest.map((w) => w.text.slice(0, Math.max(0, w.text.indexOf(':'))).toLowerCase()));
    return location.options.filter((o) => !given.has(o.name)).map((o) => `${o.name}:`);
  }
  const optionName = typing.slice(0, colon).toLowerCase();
  const option = location.options.find((o) => o.name === optionName);
  if (!option) return [];
  const values = await valuesFor(sources, command, option, typing.slice(colon + 1), {
    ...location.raw,
    ...typedSoFar(location.options, location.rest, directory),
  });
  return values.map((value) => `${option.name}:${quoteIfNeeded(value)}`);
}

async function valuesFor(
  sources: CompletionSources,
  command: Command,
  option: CommandOptionJson,
  partial: string,
  options: RawOptions,
): Promise<string[]> {
  if (option.choices?.length) return option.choices.map((c) => String(c.value));
  if (option.type === OptionType.Boolean) return ['true', 'false'];
  if (option.type === OptionType.User) return sources.directory.members().map((m) => `@${m.name}`);
  if (option.type === OptionType.Channel) return sources.directory.channels().map((c) => `#${c.name}`);
  if (!option.autocomplete) return [];
  const choices = await sources.complete({
    guildId: sources.directory.guildId,
    actor: sources.actor(),
    commandName: command.name,
    focused: { name: option.name, value: partial },
    options: { ...options, [option.name]: partial },
  });
  return choices.map((c) => c.value);
}

/** The other options typed so far, as Discord sends them with an autocomplete request: only the valid ones. */
function typedSoFar(options: readonly CommandOptionJson[], words: readonly Word[], directory: ConsoleDirectory): RawOptions {
  const raw: RawOptions = {};
  for (const word of words) {
    const colon = word.text.indexOf(':');
    const option = options.find((o) => o.name === word.text.slice(0, colon).toLowerCase());
    if (colon <= 0 || !option) continue;
    const text = word.text.slice(colon + 1);
    if (option.type === OptionType.User) {
      // Completing must not add members to the server: only ones that exist count.
      const member = directory.findMember(text);
      if (member) raw[option.name] = userOptionOf(member);
      continue;
    }
    if (option.type === OptionType.Channel) continue;
    const value = parseOptionValue(option, text, directory);
    if (typeof value !== 'object' || !('problem' in value)) raw[option.name] = value;
  }
  return raw;
}
