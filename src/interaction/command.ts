import type { z } from 'zod';
import type { AppContext } from '../app/context.js';
import type { AutocompleteRequest, Choice, Conversation, RawOptions } from './conversation.js';
import { InvalidOptions } from './errors.js';

/**
 * The JSON a slash command definition serialises to (the subset of Discord's shape that we read). discord.js
 * builders produce it; the console reads it to parse typed text commands the way Discord would.
 */
export interface CommandOptionJson {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  choices?: ReadonlyArray<{ name: string; value: string | number }>;
  min_value?: number;
  max_value?: number;
  min_length?: number;
  max_length?: number;
  autocomplete?: boolean;
  options?: readonly CommandOptionJson[];
}

export interface CommandDefinitionJson {
  name: string;
  description: string;
  options?: readonly CommandOptionJson[];
  default_member_permissions?: string | null;
}

/** Discord's option type numbers, as the definitions carry them. */
export const OptionType = {
  Subcommand: 1,
  SubcommandGroup: 2,
  String: 3,
  Integer: 4,
  Boolean: 5,
  User: 6,
  Channel: 7,
  Role: 8,
  Mentionable: 9,
  Number: 10,
  Attachment: 11,
} as const;

export interface CommandInput<TOptions> {
  conversation: Conversation;
  options: TOptions;
  app: AppContext;
}

export interface Command {
  name: string;
  definition: CommandDefinitionJson;
  /** Only guild admins (Manage Server or Administrator) may run it; checked on every run, not only hidden. */
  adminOnly: boolean;
  /** Validates the raw options, then runs the handler. */
  run(conversation: Conversation, raw: RawOptions, app: AppContext): Promise<void>;
  complete?(request: AutocompleteRequest, app: AppContext): Promise<Choice[]>;
}

export interface CommandSpec<S extends z.ZodType> {
  data: { toJSON(): CommandDefinitionJson };
  options: S;
  adminOnly?: boolean;
  execute(input: CommandInput<z.output<S>>): Promise<void>;
  autocomplete?(request: AutocompleteRequest, app: AppContext): Promise<Choice[]>;
}

/** Ties a definition, the zod schema of its options and its handler together. */
export function defineCommand<S extends z.ZodType>(spec: CommandSpec<S>): Command {
  const definition = spec.data.toJSON();
  return {
    name: definition.name,
    definition,
    adminOnly: spec.adminOnly ?? false,
    async run(conversation, raw, app) {
      const parsed = spec.options.safeParse(raw);
      if (!parsed.success) throw InvalidOptions.fromZod(parsed.error);
      await spec.execute({ conversation, options: parsed.data, app });
    },
    complete: spec.autocomplete,
  };
}
