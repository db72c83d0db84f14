/**
 * The baseline for the load benchmark: the least a discord.js 14 bot can do with an interaction. It answers every
 * slash command with one ephemeral message and every autocomplete with no choices, one REST call each (the
 * interaction callback), as our bot does for all but `/cloud-deploy` (a deferral, then an edit). No database, no
 * logging, no checks. The benchmark bundles it like dist/main.js and runs it on plain node, so both bots pay for
 * the same things: discord.js, the gateway, JSON and HTTP.
 *
 * Environment: DISCORD_TOKEN, DISCORD_API_URL (the local Discord-compatible server); BARE_REPLIES, optionally: a JSON
 * file of what our bot answers each command with (bench/own-work.ts writes it), sent instead of the one-line
 * message, so the two bots send the same bytes and differ only in the work behind them.
 */
import { readFileSync } from 'node:fs';
import { Client, Events, GatewayIntentBits, MessageFlags, type APIApplicationCommandOptionChoice, type InteractionReplyOptions } from 'discord.js';

const token = process.env.DISCORD_TOKEN;
const api = process.env.DISCORD_API_URL;
if (!token || !api) {
  process.stderr.write('bare-bot needs DISCORD_TOKEN and DISCORD_API_URL\n');
  process.exit(2);
}

type Recorded = Omit<InteractionReplyOptions, 'flags'> & { ephemeral?: boolean };
const recorded = process.env.BARE_REPLIES
  ? (JSON.parse(readFileSync(process.env.BARE_REPLIES, 'utf8')) as Record<string, Recorded | APIApplicationCommandOptionChoice[]>)
  : {};
const replyTo = (commandName: string): InteractionReplyOptions => {
  const reply = recorded[commandName] as Recorded | undefined;
  if (!reply) return { content: `Done: /${commandName}.`, flags: MessageFlags.Ephemeral };
  const { ephemeral, ...body } = reply;
  return { ...body, ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) };
};

const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api } });
client.on(Events.InteractionCreate, (interaction) => {
  const answered = interaction.isAutocomplete()
    ? interaction.respond((recorded[`autocomplete:${interaction.commandName}`] as APIApplicationCommandOptionChoice[] | undefined) ?? [])
    : interaction.isChatInputCommand()
      ? interaction.reply(replyTo(interaction.commandName))
      : Promise.resolve();
  answered.catch((error: unknown) => process.stderr.write(`bare-bot: ${error instanceof Error ? error.message : String(error)}\n`));
});
client.once(Events.ClientReady, () => process.stdout.write('bare bot ready\n'));
const stop = () => void client.destroy().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await client.login(token);
