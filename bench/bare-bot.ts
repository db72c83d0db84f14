/**
 * The baseline for the load benchmark: the least a discord.js 14 bot can do with an interaction. It answers every
 * slash command with one ephemeral message and every autocomplete with no choices, one REST call each (the
 * interaction callback), as our bot does for all but `/cloud-deploy` (a deferral, then an edit). No database, no
 * logging, no checks. The benchmark bundles it like dist/main.js and runs it on plain node, so both bots pay for
 * the same things: discord.js, the gateway, JSON and HTTP.
 *
 * Environment: DISCORD_TOKEN, DISCORD_API_URL (the local Discord-compatible server).
 */
import { Client, Events, GatewayIntentBits, MessageFlags } from 'discord.js';

const token = process.env.DISCORD_TOKEN;
const api = process.env.DISCORD_API_URL;
if (!token || !api) {
  process.stderr.write('bare-bot needs DISCORD_TOKEN and DISCORD_API_URL\n');
  process.exit(2);
}

const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api } });
client.on(Events.InteractionCreate, (interaction) => {
  const answered = interaction.isAutocomplete()
    ? interaction.respond([])
    : interaction.isChatInputCommand()
      ? interaction.reply({ content: `Done: /${interaction.commandName}.`, flags: MessageFlags.Ephemeral })
      : Promise.resolve();
  answered.catch((error: unknown) => process.stderr.write(`bare-bot: ${error instanceof Error ? error.message : String(error)}\n`));
});
client.once(Events.ClientReady, () => process.stdout.write('bare bot ready\n'));
const stop = () => void client.destroy().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await client.login(token);
