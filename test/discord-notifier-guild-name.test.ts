/**
 * A notice names its guild. With shards, the guild may be one this process's gateway connection does not hold (a
 * press in a DM arrives at shard 0 whatever the guild), so the name comes from Discord's REST, not another shard's
 * memory. Real discord.js REST against the local Discord-compatible server.
 */
import { Client, GatewayIntentBits } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscordNotifier } from '../src/discord/discord-notifier.js';
import { FakeDiscordServer } from './discord-server/index.js';

const APP_ID = '100000000000000001';
const TOKEN = 'fake-bot-token.for-tests';
const OTHER_SHARDS_GUILD = '555555555555555555';

describe('a guild’s name for a notice', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('comes from Discord’s REST when this shard does not hold the guild, and is left out for a guild the bot left', async () => {
    const server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN, shardCount: 2 });
    cleanups.push(() => server.close());
    await server.addGuild({ id: OTHER_SHARDS_GUILD, name: 'Held by shard 1', ownerId: '333333333333333330' });
    // Never logged in: its cache holds no guild at all, like a shard that does not serve this one.
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: server.apiUrl } });
    client.rest.setToken(TOKEN);
    cleanups.push(() => client.destroy());
    const notifier = new DiscordNotifier(client);
    expect(client.guilds.cache.size).toBe(0);
    expect(await notifier.guildName(OTHER_SHARDS_GUILD)).toBe('Held by shard 1');
    expect(await notifier.guildName('555555555555555556')).toBeUndefined();
    expect(server.requestLog().filter((request) => request.path.includes('/guilds/')).map((request) => request.method)).toEqual(['GET', 'GET']);
  });
});
