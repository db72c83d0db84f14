/**
 * A channel post says where it landed, and can be edited later (an approval card shown closed): its embed replaced,
 * its buttons gone. A deleted message cannot be edited, for good: MessageUnreachable, so the caller gives it up
 * rather than retry. Real discord.js REST against the local Discord-compatible server.
 */
import { Client, GatewayIntentBits, Routes } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscordNotifier } from '../src/discord/discord-notifier.js';
import { MessageUnreachable } from '../src/notify/notifier.js';
import { FakeDiscordServer, buttonsOf } from './discord-server/index.js';

const APP_ID = '100000000000000001';
const TOKEN = 'fake-bot-token.for-tests';
const GUILD = '310000000000000001';
const CHANNEL = '310000000000000011';

describe('editing a channel post', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('replaces the notice and drops the buttons; a deleted message is MessageUnreachable', async () => {
    const server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN });
    cleanups.push(() => server.close());
    await server.addGuild({ id: GUILD, name: 'ACME Corp', ownerId: '333333333333333330', channels: [{ id: CHANNEL, name: 'ops' }] });
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: server.apiUrl } });
    client.rest.setToken(TOKEN);
    cleanups.push(() => client.destroy());
    const notifier = new DiscordNotifier(client);

    const posted = await notifier.sendToChannel(CHANNEL, { title: 'Waiting', buttons: [{ customId: 'deployapr:approve:1', label: 'Approve' }] });
    expect(posted.channelId).toBe(CHANNEL);
    const before = server.channelMessages(CHANNEL).find((m) => m.id === posted.messageId);
    expect(buttonsOf(before!).map((b) => b.custom_id)).toEqual(['deployapr:approve:1']);

    await notifier.editChannelMessage(posted, { title: 'Expired' });
    const after = server.channelMessages(CHANNEL).find((m) => m.id === posted.messageId)!;
    expect(after.embeds.map((e) => e.title)).toEqual(['Expired']);
    expect(buttonsOf(after)).toEqual([]);

    await client.rest.delete(Routes.channelMessage(CHANNEL, posted.messageId));
    await expect(notifier.editChannelMessage(posted, { title: 'Again' })).rejects.toBeInstanceOf(MessageUnreachable);
  });
});
