import { ApplicationCommandOptionType, type CommandInteractionOption } from 'discord.js';
import type { OptionValue, RawOptions } from '../interaction/conversation.js';

// Read once: each read of a discord.js export passes through three or four layers of re-export getters (the
// bundle's CommonJS interop, discord.js's and discord-api-types' `export *`), a cost paid on every interaction.
const { SubcommandGroup, Subcommand, User, Channel } = ApplicationCommandOptionType;

/**
 * Flattens discord.js options into the plain record our handlers validate with zod: subcommand groups and
 * subcommands become `subcommand_group` / `subcommand`, users become { id, displayName, isBot }.
 */
export function flattenOptions(options: readonly CommandInteractionOption[]): RawOptions {
  const raw: RawOptions = {};
  for (const option of options) {
    if (option.type === SubcommandGroup) {
      raw.subcommand_group = option.name;
      Object.assign(raw, flattenOptions(option.options ?? []));
    } else if (option.type === Subcommand) {
      raw.subcommand = option.name;
      Object.assign(raw, flattenOptions(option.options ?? []));
    } else {
      const value = valueOf(option);
      if (value !== undefined) raw[option.name] = value;
    }
  }
  return raw;
}

function valueOf(option: CommandInteractionOption): OptionValue | undefined {
  if (option.type === User && option.user) {
    const member = option.member;
    const nick = member && 'nick' in member && typeof member.nick === 'string' ? member.nick : null;
    return {
      id: option.user.id,
      displayName: nick ?? option.user.globalName ?? option.user.username,
      isBot: option.user.bot,
    };
  }
  if (option.type === Channel && option.channel) return option.channel.id;
  const value = option.value;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
}
