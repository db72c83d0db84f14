import type { ChannelRecord, GuildRecord, MemberRecord, RecordedMessage, RoleRecord, UserRecord, World } from './world.js';
import { ChannelType } from './world.js';

/**
 * Discord API objects built from the world's records, with every field discord.js v14 reads when it constructs its
 * structures (users, roles, members, channels, guilds, messages).
 */
export type ApiObject = Record<string, unknown>;

export function apiUser(user: UserRecord): ApiObject {
  return {
    id: user.id,
    username: user.username,
    global_name: user.globalName,
    discriminator: '0',
    avatar: null,
    bot: user.bot,
    system: false,
    public_flags: 0,
    flags: 0,
    banner: null,
    accent_color: null,
    avatar_decoration_data: null,
  };
}

export function apiRole(role: RoleRecord): ApiObject {
  return {
    id: role.id,
    name: role.name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: role.position,
    permissions: role.permissions.toString(),
    managed: role.managed,
    mentionable: false,
    flags: 0,
    ...(role.botId ? { tags: { bot_id: role.botId } } : {}),
  };
}

/** A guild member; `withUser: false` gives the shape used inside `resolved.members`. */
export function apiMember(world: World, member: MemberRecord, withUser = true): ApiObject {
  const body: ApiObject = {
    roles: member.roleIds,
    nick: null,
    avatar: null,
    banner: null,
    premium_since: null,
    joined_at: member.joinedAt,
    deaf: false,
    mute: false,
    pending: false,
    flags: 0,
    communication_disabled_until: null,
  };
  if (withUser) body.user = apiUser(world.requireUser(member.userId));
  return body;
}

export function apiChannel(world: World, channel: ChannelRecord): ApiObject {
  if (channel.type === ChannelType.DM) {
    const recipient = channel.recipientId ? world.users.get(channel.recipientId) : undefined;
    return {
      id: channel.id,
      type: ChannelType.DM,
      last_message_id: lastMessageId(world, channel.id),
      flags: 0,
      recipients: recipient ? [apiUser(recipient)] : [],
    };
  }
  return {
    id: channel.id,
    type: channel.type,
    guild_id: channel.guildId,
    name: channel.name,
    position: channel.position,
    permission_overwrites: [],
    parent_id: null,
    topic: null,
    nsfw: false,
    last_message_id: lastMessageId(world, channel.id),
    rate_limit_per_user: 0,
    flags: 0,
  };
}

function lastMessageId(world: World, channelId: string): string | null {
  return world.messagesIn(channelId).at(-1)?.id ?? null;
}

/** The guild as GET /guilds/{id} returns it (no channels or members). */
export function apiGuild(guild: GuildRecord): ApiObject {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: guild.roles.map(apiRole),
    emojis: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    max_presences: null,
    max_members: 500_000,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: 'en-US',
    public_updates_channel_id: null,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: 0,
    stickers: [],
    premium_progress_bar_enabled: false,
    safety_alerts_channel_id: null,
    incidents_data: null,
  };
}

/**
 * The GUILD_CREATE payload. Like Discord without the privileged presence intent, it carries only the bot's own member;
 * a bot that needs others must fetch them (REST or Request Guild Members).
 */
export function apiGuildCreate(world: World, guild: GuildRecord, withAllMembers: boolean): ApiObject {
  const members = [...guild.members.values()].filter(
    (member) => withAllMembers || member.userId === world.botUser.id,
  );
  return {
    ...apiGuild(guild),
    joined_at: guild.joinedAt,
    large: false,
    unavailable: false,
    member_count: guild.members.size,
    voice_states: [],
    members: members.map((member) => apiMember(world, member)),
    channels: guild.channelIds.flatMap((id) => {
      const channel = world.channels.get(id);
      return channel ? [apiChannel(world, channel)] : [];
    }),
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

/** A message the bot sent, as REST responses and component interactions carry it. */
export function apiMessage(world: World, message: RecordedMessage): ApiObject {
  const fromInteraction = message.interactionId !== null && message.interactionUserId !== null;
  const interactionUser = message.interactionUserId ? world.users.get(message.interactionUserId) : undefined;
  return {
    id: message.id,
    type: message.type,
    channel_id: message.channelId,
    ...(message.guildId ? { guild_id: message.guildId } : {}),
    author: apiUser(world.botUser),
    content: message.content,
    timestamp: message.createdAt,
    edited_timestamp: message.editedAt,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: message.attachments.map((attachment) => ({
      id: attachment.id,
      filename: attachment.filename,
      size: attachment.size,
      content_type: attachment.contentType ?? undefined,
      url: `https://cdn.invalid/attachments/${message.channelId}/${attachment.id}/${attachment.filename}`,
      proxy_url: `https://media.invalid/attachments/${message.channelId}/${attachment.id}/${attachment.filename}`,
    })),
    embeds: message.embeds,
    components: message.components,
    pinned: false,
    flags: message.flags,
    ...(fromInteraction
      ? {
          webhook_id: world.applicationId,
          application_id: world.applicationId,
          ...(interactionUser
            ? {
                interaction_metadata: {
                  id: message.interactionId,
                  type: message.interactionType ?? 2,
                  user: apiUser(interactionUser),
                  authorizing_integration_owners: message.guildId ? { '0': message.guildId } : { '1': interactionUser.id },
                },
              }
            : {}),
        }
      : {}),
  };
}
