import { ChannelType, DiscordAPIError, Routes, type Client } from 'discord.js';
import { DirectMessageRefused, type Notice, type Notifier } from '../notify/notifier.js';
import { renderDurableButtons, renderNotice } from './render.js';

/** Discord error codes that mean "this member cannot be messaged", as opposed to a passing failure. */
const UNREACHABLE_CODES = new Set([
  50007, // Cannot send messages to this user (DMs closed, blocked, no shared server)
  10013, // Unknown user
  10007, // Unknown member
  50278, // Cannot send messages to this user (DMs restricted by the recipient)
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

  async sendToChannel(channelId: string, notice: Notice): Promise<void> {
    await this.client.rest.post(Routes.channelMessages(channelId), { body: noticeBody(notice) });
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

  async guildName(guildId: string): Promise<string | undefined> {
    return this.client.guilds.cache.get(guildId)?.name;
  }
}

/** A notice as a message body: its embed, and its durable buttons (a request's Approve and Deny, a reminder's Extend). */
function noticeBody(notice: Notice) {
  return { embeds: [renderNotice(notice)], components: renderDurableButtons(notice.buttons ?? []), allowed_mentions: { parse: [] } };
}
