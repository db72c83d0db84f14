/**
 * The baseline for the load benchmark: the least a discord.js 14 bot can do with an interaction. It answers every
 * slash command with one ephemeral message and every autocomplete with no choices, one REST call each (the
 * interaction callback), as our bot does for all but `/cloud-deploy` (a deferral, then an edit). No database, no
 * logging, no checks. The benchmark bundles it like dist/main.js and runs it on plain node, so both bots pay for
 * the same things: discord.js, the gateway, JSON and HTTP.
 *
 * Environment: DISCORD_TOKEN, DISCORD_API_URL (the local Discord-compatible server); BARE_REPLIES, optionally: a JSON
 * file of what our bot answers each command with (bench/own-work.ts writes it), sent instead of the one-line
 * message, so the two bots send the same bytes and differ only in the work behind them. BARE_WORK_US, optionally:
 * that many µs of made-up work before each answer (objects built and dropped, a 1 MiB buffer walked), to see what
 * any work of that size between two interactions costs discord.js here, beyond its own µs (`--bare-work=US`).
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

const workUs = Number(process.env.BARE_WORK_US ?? 0);
const scratch = new Uint8Array(1 << 20);
let sink = 0;
/** Work of about `workUs` µs of CPU: garbage to collect and memory walked through, as real work leaves behind. */
function madeUpWork(): void {
  const until = performance.now() + workUs / 1000;
  for (let round = 0; performance.now() < until; round++) {
    const record = { id: round, name: `project-${round}`, tags: [round, round + 1, round + 2], nested: { a: 'x'.repeat(32) } };
    sink += JSON.stringify(record).length;
    for (let i = (round * 4096) % scratch.length, end = Math.min(i + 16384, scratch.length); i < end; i += 64) sink += (scratch[i] = (scratch[i] ?? 0) + 1);
  }
}

const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api } });
client.on(Events.InteractionCreate, (interaction) => {
  if (workUs > 0) madeUpWork();
  const answered = interaction.isAutocomplete()
    ? interaction.respond((recorded[`autocomplete:${interaction.commandName}`] as APIApplicationCommandOptionChoice[] | undefined) ?? [])
    : interaction.isChatInputCommand()
      ? interaction.reply(replyTo(interaction.commandName))
      : Promise.resolve();
  answered.catch((error: unknown) => process.stderr.write(`bare-bot: ${error instanceof Error ? error.message : String(error)}\n`));
});
client.once(Events.ClientReady, () => process.stdout.write(`bare bot ready${workUs > 0 ? ` (${workUs} µs of made-up work per interaction, ${sink})` : ''}\n`));
const stop = () => void client.destroy().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await client.login(token);
