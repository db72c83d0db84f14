import { ChannelType, DiscordAPIError, Routes, type Client } from 'discord.js';
import { DirectMessageRefused, MessageUnreachable, type Notice, type Notifier, type PostedMessage } from '../notify/notifier.js';
import { z } from 'zod';
import { renderDurableButtons, renderNotice } from './render.js';

const guildNameSchema = z.object({ name: z.string() });
const postedSchema = z.object({ id: z.string() });

/** Discord error codes that mean "this member cannot be messaged", as opposed to a passing failure. */
const UNREACHABLE_CODES = new Set([
  50007, // Cannot send messages to this user (DMs closed, blocked, no shared server)
  10013, // Unknown user
  10007, // Unknown member
  50278, // Cannot send messages to this user (DMs restricted by the recipient)
]);

/** Discord error codes that mean "this message cannot be edited, now or later". */
const UNEDITABLE_CODES = new Set([
  10008, // Unknown message (deleted)
  10003, // Unknown channel (deleted)
  50001, // Missing access (the bot may no longer see the channel)
  50013, // Missing permissions
  50005, // Cannot edit a message authored by another user
]);

export class DiscordNotifier implements Notifier {
  constructor(private readonly client: Client) {}

  async sendDirect(userId: string, notice: Notice): Promise<void> {
    try {
      const channel = (await this.client.rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as {
        id: string;
      };
      await this.client.rest.post(Routes.channelMessages(channel.id), {
        body: noticeBody(notice),
      });
    } catch (error) {
      if (error instanceof DiscordAPIError && typeof error.code === 'number' && UNREACHABLE_CODES.has(error.code)) {
        throw new DirectMessageRefused(userId, `Discord error ${error.code}: ${error.message}`);
      }
      throw error;
    }
  }

  async sendToChannel(channelId: string, notice: Notice): Promise<PostedMessage> {
    const posted = postedSchema.parse(await this.client.rest.post(Routes.channelMessages(channelId), { body: noticeBody(notice) }));
    return { channelId, messageId: posted.id };
  }

  async editChannelMessage(message: PostedMessage, notice: Notice): Promise<void> {
    try {
      // Components given as an empty list, so the buttons go (leaving them out would keep them).
      await this.client.rest.patch(Routes.channelMessage(message.channelId, message.messageId), { body: noticeBody(notice) });
    } catch (error) {
      if (error instanceof DiscordAPIError && typeof error.code === 'number' && UNEDITABLE_CODES.has(error.code)) {
        throw new MessageUnreachable(message, `Discord error ${error.code}: ${error.message}`);
      }
      throw error;
    }
  }

  async channelInGuild(guildId: string, channelId: string): Promise<boolean> {
    try {
      const channel = (await this.client.rest.get(Routes.channel(channelId))) as { guild_id?: string; type?: number };
      return channel.guild_id === guildId && (channel.type === ChannelType.GuildText || channel.type === ChannelType.GuildAnnouncement);
    } catch (error) {
      // Unknown channel, or one the bot may not see: either way no notice could be posted there.
      if (error instanceof DiscordAPIError && (error.status === 404 || error.status === 403)) return false;
      throw error;
    }
  }

  /**
   * The guild's name from this shard's cache, else from Discord's REST: with several shards, a notice can be about a
   * guild another shard holds (a press in a DM arrives at shard 0), and that shard's memory is not ours to read.
   */
  async guildName(guildId: string): Promise<string | undefined> {
    const cached = this.client.guilds.cache.get(guildId)?.name;
    if (cached !== undefined) return cached;
    try {
      const guild = guildNameSchema.safeParse(await this.client.rest.get(Routes.guild(guildId)));
      return guild.success ? guild.data.name : undefined;
    } catch (error) {
      // The bot is no longer in that guild (or may not see it): the notice goes without the name.
      if (error instanceof DiscordAPIError && (error.status === 404 || error.status === 403)) return undefined;
      throw error;
    }
  }
}

/** A notice as a message body: its embed, and its durable buttons (a request's Approve and Deny, a reminder's Extend). */
function noticeBody(notice: Notice) {
  return { embeds: [renderNotice(notice)], components: renderDurableButtons(notice.buttons ?? []), allowed_mentions: { parse: [] } };
}
