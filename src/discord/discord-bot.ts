import {
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  type AutocompleteInteraction,
  type Interaction,
} from 'discord.js';
import type { Config } from '../config/index.js';
import type { CommandDispatcher } from '../interaction/dispatcher.js';
import type { Logger } from '../logging/logger.js';
import type { Clock } from '../shared/clock.js';
import { parseDurableId } from '../interaction/durable-components.js';
import { ComponentWaiters } from './component-waiters.js';
import { DiscordComponentPress } from './discord-component-press.js';
import { DiscordConversation, actorOf } from './discord-conversation.js';
import { snakeCaseJson } from './json-transformer.js';
import { InteractionCallbacks } from './interaction-callbacks.js';
import { flattenOptions } from './options.js';

/** The discord.js client, pointed at DISCORD_API_URL when set (a self-hosted or local Discord-compatible server). */
export function createDiscordClient(config: Config): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {},
    jsonTransformer: snakeCaseJson,
  });
}

/**
 * The Discord front end: turns gateway interactions into Conversations for the dispatcher, routes button presses
 * and modal submissions to the handler awaiting them, and stops taking new work on shutdown.
 */
export class DiscordBot {
  private readonly waiters = new ComponentWaiters();
  private accepting = true;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly callbacks: InteractionCallbacks;

  constructor(
    readonly client: Client,
    private readonly dispatcher: CommandDispatcher,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.callbacks = InteractionCallbacks.of(client);
    client.on(Events.InteractionCreate, (interaction) => {
      const work = this.route(interaction).catch((error: unknown) => {
        this.logger.error({ err: error, interactionId: interaction.id }, 'interaction routing failed');
      });
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    });
    client.on(Events.Error, (error) => this.logger.error({ err: error }, 'discord client error'));
    client.on(Events.ShardDisconnect, (_event, shardId) => this.logger.warn({ shardId }, 'gateway disconnected'));
  }

  async start(token: string): Promise<void> {
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    await this.client.login(token);
    await ready;
    this.logger.info(
      { user: this.client.user?.tag, guilds: this.client.guilds.cache.size },
      'connected to Discord, taking interactions',
    );
  }

  /** New interactions get "restarting, try again in a minute" from now on. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Waits for interactions in progress to finish, up to `graceMs`. */
  async drain(graceMs = 15_000): Promise<void> {
    const drained = Promise.allSettled([...this.inFlight]);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
  }

  async disconnect(): Promise<void> {
    this.callbacks.close();
    await this.client.destroy();
  }

  private async route(interaction: Interaction): Promise<void> {
    // With shards, says which process took which guild's interaction (each line carries its shard).
    this.logger.debug({ guildId: interaction.guildId, interactionId: interaction.id, type: interaction.type }, 'interaction received');
    if (interaction.isAutocomplete()) return this.autocomplete(interaction);
    if (!interaction.isRepliable()) return;
    if (!this.accepting) {
      await interaction.reply({
        content: 'Cloud ChatOps is restarting. Try again in a minute.',
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    // Durable buttons and forms (a request's Approve, a reminder's Extend in a DM) go to their handler, which reads
    // the record they name: they work after a restart, and in DMs, where nothing else does.
    if (interaction.isButton() || interaction.isModalSubmit()) {
      const id = this.dispatcher.ownsComponent(interaction.customId) ? parseDurableId(interaction.customId) : undefined;
      if (id) {
        await this.dispatcher.handleComponent(new DiscordComponentPress(interaction, id));
        return;
      }
    }
    if (!interaction.inGuild()) {
      await interaction.reply({
        content: 'Cloud ChatOps commands work inside a server, not in direct messages.',
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (interaction.isChatInputCommand()) {
      const conversation = new DiscordConversation(interaction, interaction.commandName, this.waiters, this.clock, this.callbacks);
      await this.dispatcher.handle(conversation, flattenOptions(interaction.options.data));
      return;
    }
    // Commands are refused by the dispatcher; presses and forms do not pass through it, so they ask it here.
    if ((interaction.isButton() || interaction.isModalSubmit()) && !this.dispatcher.admits(interaction.guildId)) {
      await interaction.reply({ content: this.dispatcher.notEnabledText, flags: MessageFlags.Ephemeral });
      return;
    }
    if (interaction.isButton()) {
      const handled = await this.waiters.dispatchButton(interaction);
      this.logger.debug({ guildId: interaction.guildId, userId: interaction.user.id, customId: interaction.customId, handled }, 'button pressed');
      if (!handled) {
        await interaction.reply({
          content: 'These buttons have expired. Run the command again to get fresh ones.',
          flags: MessageFlags.Ephemeral,
        });
      }
      return;
    }
    if (interaction.isModalSubmit()) {
      if (!(await this.waiters.dispatchModal(interaction))) {
        await interaction.reply({
          content: 'This form has expired, and what you typed was not kept. Run the command again.',
          flags: MessageFlags.Ephemeral,
        });
      }
    }
  }

  private async autocomplete(interaction: AutocompleteInteraction): Promise<void> {
    if (!interaction.inGuild() || !this.accepting) return interaction.respond([]);
    const focused = interaction.options.getFocused(true);
    const choices = await this.dispatcher.complete({
      guildId: interaction.guildId,
      actor: actorOf(interaction.user, interaction.member, interaction.memberPermissions),
      commandName: interaction.commandName,
      focused: { name: focused.name, value: String(focused.value) },
      options: flattenOptions(interaction.options.data),
    });
    await this.callbacks.respond(interaction, choices);
  }
}
