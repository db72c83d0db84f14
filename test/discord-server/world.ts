import type { Component, Embed, RegisteredCommand } from './schemas.js';
import { SnowflakeGenerator } from './snowflake.js';

/** Permission bits this server reasons about (Discord's values). */
export const Permission = {
  Administrator: 1n << 3n,
  ManageGuild: 1n << 5n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ReadMessageHistory: 1n << 16n,
  UseApplicationCommands: 1n << 31n,
} as const;

/** Every permission Discord defines today; owners and administrators are reported with all of them, as Discord does. */
export const ALL_PERMISSIONS = (1n << 51n) - 1n;

/** What a plain @everyone role can do in a fresh guild (enough to read, write and use commands). */
export const EVERYONE_PERMISSIONS =
  Permission.ViewChannel | Permission.SendMessages | Permission.ReadMessageHistory | Permission.UseApplicationCommands;

export const MessageFlag = { Ephemeral: 1 << 6, Loading: 1 << 7 } as const;

export const ChannelType = { GuildText: 0, DM: 1 } as const;

export interface GuildSpec {
  id: string;
  name: string;
  ownerId: string;
  /** Text channels. `sendable: false` makes the bot's posts there fail with 50013 Missing Permissions. */
  channels?: { id: string; name: string; sendable?: boolean }[];
}

export interface MemberSpec {
  id: string;
  username: string;
  /** The member's guild-wide permission bitfield (e.g. ManageGuild `1n << 5n`); @everyone's basics are added. */
  permissions: bigint | string;
  bot?: boolean;
  /** The member does not accept DMs: sending one fails with 403 code 50007, as on Discord. */
  dmsClosed?: boolean;
  globalName?: string;
}

export interface UserRecord {
  id: string;
  username: string;
  globalName: string | null;
  bot: boolean;
  dmsClosed: boolean;
}

export interface RoleRecord {
  id: string;
  name: string;
  permissions: bigint;
  position: number;
  managed: boolean;
  botId?: string;
}

export interface MemberRecord {
  userId: string;
  roleIds: string[];
  joinedAt: string;
}

export interface ChannelRecord {
  id: string;
  type: number;
  name: string | null;
  guildId: string | null;
  /** DM channels: the other participant. */
  recipientId: string | null;
  sendable: boolean;
  position: number;
}

export interface GuildRecord {
  id: string;
  name: string;
  ownerId: string;
  joinedAt: string;
  roles: RoleRecord[];
  members: Map<string, MemberRecord>;
  channelIds: string[];
}

export interface RecordedAttachment {
  id: string;
  filename: string;
  size: number;
  contentType: string | null;
  /** The file's content as UTF-8 text, kept for leak assertions. */
  text: string;
  /** The exact bytes, to decode an image. */
  bytes: Uint8Array;
}

export type MessageSource = 'channel' | 'interaction-response' | 'follow-up';

/** A message the bot sent, in its current state (after edits). */
export interface RecordedMessage {
  id: string;
  channelId: string;
  guildId: string | null;
  content: string;
  embeds: Embed[];
  components: Component[];
  attachments: RecordedAttachment[];
  flags: number;
  source: MessageSource;
  /** The interaction this message answers (responses and follow-ups), if any. */
  interactionId: string | null;
  /** The user who triggered that interaction: only they can see an ephemeral message. */
  interactionUserId: string | null;
  /** That interaction's type (2 command, 3 component, 5 modal submit). */
  interactionType: number | null;
  /** The API type: 20 for a slash command response, 0 otherwise. */
  type: number;
  createdAt: string;
  editedAt: string | null;
  edits: number;
  deleted: boolean;
}

/** Everything the fake Discord knows: users, guilds, channels, messages and registered commands. */
export class World {
  readonly ids = new SnowflakeGenerator();
  readonly users = new Map<string, UserRecord>();
  readonly guilds = new Map<string, GuildRecord>();
  readonly channels = new Map<string, ChannelRecord>();
  readonly messages = new Map<string, RecordedMessage>();
  readonly globalCommands: RegisteredCommand[] = [];
  readonly guildCommands = new Map<string, RegisteredCommand[]>();
  private readonly dmChannelOfUser = new Map<string, string>();

  constructor(
    readonly applicationId: string,
    readonly botUser: UserRecord,
    private readonly botPermissions: bigint,
  ) {
    this.users.set(botUser.id, botUser);
  }

  addGuild(spec: GuildSpec): GuildRecord {
    if (this.guilds.has(spec.id)) throw new Error(`guild ${spec.id} already exists`);
    const now = new Date().toISOString();
    const botRole: RoleRecord = {
      id: this.ids.next(),
      name: this.botUser.username,
      permissions: this.botPermissions,
      position: 1,
      managed: true,
      botId: this.botUser.id,
    };
    const guild: GuildRecord = {
      id: spec.id,
      name: spec.name,
      ownerId: spec.ownerId,
      joinedAt: now,
      roles: [
        { id: spec.id, name: '@everyone', permissions: EVERYONE_PERMISSIONS, position: 0, managed: false },
        botRole,
      ],
      members: new Map([[this.botUser.id, { userId: this.botUser.id, roleIds: [botRole.id], joinedAt: now }]]),
      channelIds: [],
    };
    this.guilds.set(guild.id, guild);
    (spec.channels ?? []).forEach((channel, position) => {
      if (this.channels.has(channel.id)) throw new Error(`channel ${channel.id} already exists`);
      this.channels.set(channel.id, {
        id: channel.id,
        type: ChannelType.GuildText,
        name: channel.name,
        guildId: guild.id,
        recipientId: null,
        sendable: channel.sendable ?? true,
        position,
      });
      guild.channelIds.push(channel.id);
    });
    return guild;
  }

  /**
   * Adds a member. Their permissions live on a role of their own, so that both the interaction's
   * `member.permissions` and discord.js's role-based `GuildMember#permissions` agree.
   */
  addMember(guildId: string, spec: MemberSpec): MemberRecord {
    const guild = this.requireGuild(guildId);
    const existingUser = this.users.get(spec.id);
    const user: UserRecord = {
      id: spec.id,
      username: spec.username,
      globalName: spec.globalName ?? existingUser?.globalName ?? null,
      bot: spec.bot ?? false,
      dmsClosed: spec.dmsClosed ?? existingUser?.dmsClosed ?? false,
    };
    this.users.set(user.id, user);
    const permissions = BigInt(spec.permissions);
    const roleIds: string[] = [];
    if (permissions !== 0n) {
      const role: RoleRecord = {
        id: this.ids.next(),
        name: `${spec.username}-permissions`,
        permissions,
        position: guild.roles.length,
        managed: false,
      };
      guild.roles.push(role);
      roleIds.push(role.id);
    }
    const member: MemberRecord = { userId: user.id, roleIds, joinedAt: new Date().toISOString() };
    guild.members.set(user.id, member);
    return member;
  }

  requireGuild(guildId: string): GuildRecord {
    const guild = this.guilds.get(guildId);
    if (!guild) throw new Error(`unknown guild ${guildId}: add it with addGuild first`);
    return guild;
  }

  requireMember(guildId: string, userId: string): MemberRecord {
    const member = this.requireGuild(guildId).members.get(userId);
    if (!member) throw new Error(`user ${userId} is not a member of guild ${guildId}: add them with addMember first`);
    return member;
  }

  requireGuildChannel(guildId: string, channelId: string): ChannelRecord {
    const channel = this.channels.get(channelId);
    if (!channel || channel.guildId !== guildId) {
      throw new Error(`channel ${channelId} is not a channel of guild ${guildId}`);
    }
    return channel;
  }

  requireUser(userId: string): UserRecord {
    const user = this.users.get(userId);
    if (!user) throw new Error(`unknown user ${userId}`);
    return user;
  }

  /** The member's permissions as Discord reports them in interactions. */
  memberPermissions(guildId: string, userId: string): bigint {
    const guild = this.requireGuild(guildId);
    const member = this.requireMember(guildId, userId);
    if (guild.ownerId === userId) return ALL_PERMISSIONS;
    let permissions = guild.roles.find((role) => role.id === guild.id)?.permissions ?? 0n;
    for (const roleId of member.roleIds) {
      permissions |= guild.roles.find((role) => role.id === roleId)?.permissions ?? 0n;
    }
    return (permissions & Permission.Administrator) !== 0n ? ALL_PERMISSIONS : permissions;
  }

  /** The DM channel with a user, created on first use as Discord does. */
  dmChannelWith(userId: string): ChannelRecord {
    const existing = this.dmChannelOfUser.get(userId);
    if (existing) {
      const channel = this.channels.get(existing);
      if (channel) return channel;
    }
    const channel: ChannelRecord = {
      id: this.ids.next(),
      type: ChannelType.DM,
      name: null,
      guildId: null,
      recipientId: userId,
      sendable: true,
      position: 0,
    };
    this.channels.set(channel.id, channel);
    this.dmChannelOfUser.set(userId, channel.id);
    return channel;
  }

  dmChannelIdOf(userId: string): string | undefined {
    return this.dmChannelOfUser.get(userId);
  }

  messagesIn(channelId: string): RecordedMessage[] {
    return [...this.messages.values()].filter((message) => message.channelId === channelId);
  }

  commandsFor(guildId: string | undefined): RegisteredCommand[] {
    return guildId === undefined ? this.globalCommands : (this.guildCommands.get(guildId) ?? []);
  }

  /** The command a user would invoke by name in a guild: guild commands shadow global ones, as in Discord's picker. */
  findCommand(guildId: string, name: string): RegisteredCommand | undefined {
    return (
      this.guildCommands.get(guildId)?.find((command) => command.name === name && command.type === 1) ??
      this.globalCommands.find((command) => command.name === name && command.type === 1)
    );
  }
}
