import type { ApiObject } from './api-objects.js';
import { apiChannel, apiMember, apiRole, apiUser } from './api-objects.js';
import type { CommandOptionDefinition, Component, Modal, RegisteredCommand } from './schemas.js';
import type { World } from './world.js';
import { ALL_PERMISSIONS } from './world.js';

/** A slash command option as a test writes it; `type` may be left out when the command is registered. */
export interface CommandOptionInput {
  name: string;
  /** Discord's option type (3 string, 4 integer, 5 boolean, 6 user, 7 channel, 8 role, 10 number, 1 subcommand...). */
  type?: number;
  value?: string | number | boolean;
  /** Subcommand (type 1) and group (type 2) options. */
  options?: CommandOptionInput[];
  /** Autocomplete: the option the user is typing in. */
  focused?: boolean;
}

const OptionType = {
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
} as const;

const RESOLVABLE_TYPES: ReadonlySet<number> = new Set([
  OptionType.User,
  OptionType.Channel,
  OptionType.Role,
  OptionType.Mentionable,
]);

export interface InteractionEnvelope {
  id: string;
  token: string;
  type: number;
  guildId: string;
  channelId: string;
  userId: string;
  locale?: string | undefined;
}

/** The fields every guild interaction carries, including those discord.js insists on (`entitlements`...). */
export function interactionEnvelope(world: World, envelope: InteractionEnvelope): ApiObject {
  const channel = world.requireGuildChannel(envelope.guildId, envelope.channelId);
  const member = world.requireMember(envelope.guildId, envelope.userId);
  const permissions = world.memberPermissions(envelope.guildId, envelope.userId).toString();
  return {
    id: envelope.id,
    application_id: world.applicationId,
    type: envelope.type,
    token: envelope.token,
    version: 1,
    guild_id: envelope.guildId,
    guild: { id: envelope.guildId, locale: 'en-US', features: [] },
    channel_id: channel.id,
    channel: { ...apiChannel(world, channel), permissions },
    member: { ...apiMember(world, member), permissions },
    app_permissions: ALL_PERMISSIONS.toString(),
    locale: envelope.locale ?? 'en-US',
    guild_locale: 'en-US',
    entitlements: [],
    authorizing_integration_owners: { '0': envelope.guildId },
    context: 0,
    attachment_size_limit: 10_485_760,
  };
}

/** Fills in option types from the registered definition (or from the value) and collects ids to resolve. */
function completeOptions(
  inputs: CommandOptionInput[],
  definitions: CommandOptionDefinition[] | undefined,
  toResolve: { type: number; id: string }[],
): ApiObject[] {
  return inputs.map((input) => {
    const definition = definitions?.find((candidate) => candidate.name === input.name);
    const type = input.type ?? definition?.type ?? inferType(input);
    const option: ApiObject = { name: input.name, type };
    if (input.options !== undefined || type === OptionType.Subcommand || type === OptionType.SubcommandGroup) {
      option.options = completeOptions(input.options ?? [], definition?.options, toResolve);
    }
    if (input.value !== undefined) {
      option.value = input.value;
      if (!input.focused && RESOLVABLE_TYPES.has(type)) {
        toResolve.push({ type, id: String(input.value) });
      }
    }
    if (input.focused) option.focused = true;
    return option;
  });
}

function inferType(input: CommandOptionInput): number {
  if (input.options !== undefined) return OptionType.Subcommand;
  if (typeof input.value === 'boolean') return OptionType.Boolean;
  if (typeof input.value === 'number') return Number.isInteger(input.value) ? OptionType.Integer : OptionType.Number;
  return OptionType.String;
}

/** `resolved` for user, channel, role and mentionable options, built from what the server knows. */
function resolve(world: World, guildId: string, wanted: { type: number; id: string }[]): ApiObject {
  const users: ApiObject = {};
  const members: ApiObject = {};
  const roles: ApiObject = {};
  const channels: ApiObject = {};
  const guild = world.requireGuild(guildId);
  for (const { id } of wanted) {
    const user = world.users.get(id);
    if (user) {
      users[id] = apiUser(user);
      const member = guild.members.get(id);
      if (member) {
        members[id] = { ...apiMember(world, member, false), permissions: world.memberPermissions(guildId, id).toString() };
      }
    }
    const role = guild.roles.find((candidate) => candidate.id === id);
    if (role) roles[id] = apiRole(role);
    const channel = world.channels.get(id);
    if (channel && channel.guildId === guildId) {
      channels[id] = { ...apiChannel(world, channel), permissions: ALL_PERMISSIONS.toString() };
    }
  }
  const resolved: ApiObject = {};
  if (Object.keys(users).length > 0) resolved.users = users;
  if (Object.keys(members).length > 0) resolved.members = members;
  if (Object.keys(roles).length > 0) resolved.roles = roles;
  if (Object.keys(channels).length > 0) resolved.channels = channels;
  return resolved;
}

/** `data` of a chat input or autocomplete interaction. */
export function commandData(
  world: World,
  guildId: string,
  name: string,
  command: RegisteredCommand | undefined,
  options: CommandOptionInput[],
  extraResolved: Record<string, unknown> | undefined,
): ApiObject {
  const toResolve: { type: number; id: string }[] = [];
  const completed = completeOptions(options, command?.options, toResolve);
  const resolved = { ...resolve(world, guildId, toResolve), ...(extraResolved ?? {}) };
  return {
    id: command?.id ?? syntheticCommandId(name),
    name,
    type: 1,
    ...(command?.guild_id ? { guild_id: command.guild_id } : {}),
    options: completed,
    ...(Object.keys(resolved).length > 0 ? { resolved } : {}),
  };
}

/** A stable id for an unregistered command, so a test can still invoke it. */
function syntheticCommandId(name: string): string {
  let hash = 0n;
  for (const char of name) hash = (hash * 131n + BigInt(char.codePointAt(0) ?? 0)) % (1n << 40n);
  return ((1n << 60n) + hash).toString();
}

export class ModalInputError extends Error {}

/**
 * The `data.components` of a modal submit, shaped like the modal that was shown: action rows give action rows of
 * text inputs, label components (type 18) give labels holding their component. This is what discord.js's
 * ModalSubmitFields reads. The Discord client enforces required inputs and length limits, so a test that breaks
 * them gets an error instead of a submit Discord could never send.
 */
export function modalSubmitComponents(modal: Modal | null, fields: Record<string, string>): ApiObject[] {
  if (!modal) {
    return Object.entries(fields).map(([customId, value]) => ({
      type: 1,
      components: [{ type: 4, custom_id: customId, value }],
    }));
  }
  const known = new Set<string>();
  const submitted = (input: Component): ApiObject => {
    const customId = input.custom_id ?? '';
    known.add(customId);
    const value = fields[customId] ?? input.value ?? '';
    if ((input.required ?? true) && value === '') {
      throw new ModalInputError(`the modal's text input "${customId}" is required: give it a value in fields`);
    }
    if (input.max_length !== undefined && value.length > input.max_length) {
      throw new ModalInputError(`"${customId}" accepts at most ${input.max_length} characters`);
    }
    if (input.min_length !== undefined && value !== '' && value.length < input.min_length) {
      throw new ModalInputError(`"${customId}" needs at least ${input.min_length} characters`);
    }
    return { type: input.type, ...(input.id !== undefined ? { id: input.id } : {}), custom_id: customId, value };
  };
  const components = modal.components.map((component): ApiObject => {
    const id = component.id !== undefined ? { id: component.id } : {};
    if (component.type === 18 && component.component) {
      return { type: 18, ...id, component: submitted(component.component) };
    }
    if (component.type === 1) {
      return { type: 1, ...id, components: (component.components ?? []).map(submitted) };
    }
    return { type: component.type, ...id };
  });
  const unknown = Object.keys(fields).filter((customId) => !known.has(customId));
  if (unknown.length > 0) {
    throw new ModalInputError(`the modal "${modal.custom_id}" has no text input named ${unknown.join(', ')}`);
  }
  return components;
}
