import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../src/shared/clock.js';
import { systemClock } from '../../src/shared/clock.js';
import type { ApiObject } from './api-objects.js';
import { apiMessage } from './api-objects.js';
import type { DeadlineViolation, LoggedRequest, RefusedDm, ServerCore, ServerSettings } from './core.js';
import type { ReceivedHeartbeat } from './gateway.js';
import { Gateway } from './gateway.js';
import type { InteractionKind } from './interaction.js';
import { InteractionHandle, InteractionRecord } from './interaction.js';
import type { CommandOptionInput } from './interaction-payloads.js';
import { commandData, interactionEnvelope, modalSubmitComponents } from './interaction-payloads.js';
import { RestApi } from './rest.js';
import type { Component, Modal, RegisteredCommand } from './schemas.js';
import { componentSchema } from './schemas.js';
import type { GuildSpec, MemberSpec, RecordedMessage } from './world.js';
import { ALL_PERMISSIONS, MessageFlag, Permission, World } from './world.js';

export interface FakeDiscordServerOptions {
  applicationId: string;
  /** The bot's user id; Discord gives bots their application's id, so that is the default. */
  botUserId?: string;
  botUsername?: string;
  /** When set, REST calls and Identify must present this token (401 / close 4004 otherwise). */
  botToken?: string;
  /** The initial-response deadline (Discord: 3000 ms). Shorten it in tests of late acknowledgements. */
  ackDeadlineMs?: number;
  /** Answer late acknowledgements with 404 10062 Unknown interaction, as Discord does (default: accept, record). */
  rejectLateAcknowledgements?: boolean;
  /** Interaction token lifetime on `clock` (Discord: 15 minutes). */
  tokenLifetimeMs?: number;
  clock?: Clock;
  /**
   * Heartbeat interval announced in Hello (default 41 250 ms, as Discord). discord.js treats a heartbeat still
   * unacknowledged at the next beat as a zombie connection and reconnects, so a short interval makes any event-loop
   * stall longer than it a reconnect: keep the default unless the test is about heartbeats.
   */
  heartbeatIntervalMs?: number;
  /**
   * Shards recommended by GET /gateway/bot. Each IDENTIFY names its shard `[id, count]`: READY and GUILD_CREATE
   * carry only that shard's guilds (`(guild_id >> 22) % count`), and each guild's events go to its shard alone.
   */
  shardCount?: number;
  /** Guilds one shard may serve before IDENTIFY is refused with 4011 Sharding required (default 2,500, as Discord). */
  maxGuildsPerShard?: number;
  /** The bot's permissions in every guild (default Administrator). */
  botPermissions?: bigint | string;
}

/** Where an interaction happens and who triggers it. */
export interface InteractionTarget {
  guildId: string;
  channelId: string;
  userId: string;
  locale?: string;
}

export interface ChatInputSpec extends InteractionTarget {
  name: string;
  options?: CommandOptionInput[];
  /** Extra `resolved` data; users, members, roles and channels named by options are resolved automatically. */
  resolved?: Record<string, unknown>;
  /**
   * Discord hides a command from members without its `default_member_permissions`, so by default such a member
   * cannot send it (the call throws). Set this to act as if a guild admin had granted the command to the member.
   */
  ignoreDefaultMemberPermissions?: boolean;
}

export type AutocompleteSpec = ChatInputSpec;

export interface ButtonSpec extends InteractionTarget {
  /** The button's custom id, or a pattern when the id carries values the test does not know. */
  customId: string | RegExp;
  /** The message the button is on; by default the latest message in the channel, visible to the user, that has it. */
  messageId?: string;
}

export interface ModalSubmitSpec extends InteractionTarget {
  /** The modal's custom id (or a pattern); by default the latest modal shown to this user. */
  customId?: string | RegExp;
  /** Values by text input custom id; inputs left out keep their pre-filled value. */
  fields: Record<string, string>;
}

export interface ChannelMessagesOptions {
  /** Also list non-ephemeral interaction responses and follow-ups shown in the channel. */
  includeInteractionMessages?: boolean;
}

/** Thrown when a test asks for something a Discord user could not do (click a missing button, submit no modal...). */
export class ImpossibleUserAction extends Error {}

const DEFAULT_ACK_DEADLINE_MS = 3000;
const DEFAULT_TOKEN_LIFETIME_MS = 15 * 60_000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 41_250;

/**
 * A local Discord for end-to-end tests: REST on `/api/v10` and the gateway WebSocket on one 127.0.0.1 port, enough of
 * Discord's protocol for an unmodified discord.js v14 client. Tests add guilds and members, send interactions as
 * users would, and inspect everything the bot sent.
 */
export class FakeDiscordServer {
  private readonly core: ServerCore;
  private readonly gateway: Gateway;
  private readonly closeListeners = new Set<(error: Error) => void>();
  private readonly usedModals = new Set<InteractionRecord>();
  private closed = false;

  private constructor(
    private readonly http: Server,
    settings: ServerSettings,
    world: World,
    heartbeatIntervalMs: number,
    maxGuildsPerShard: number,
  ) {
    this.core = {
      settings,
      world,
      interactionsById: new Map(),
      interactionsByToken: new Map(),
      violations: [],
      requests: [],
      unhandled: [],
      refusedDms: [],
      sentText: [],
      gatewayUrl: () => this.gatewayUrl,
    };
    const rest = new RestApi(this.core);
    http.on('request', (request, response) => void rest.handle(request, response));
    this.gateway = new Gateway(http, {
      world,
      botToken: settings.botToken,
      heartbeatIntervalMs,
      gatewayUrl: () => this.gatewayUrl,
      maxGuildsPerShard,
    });
  }

  static async start(options: FakeDiscordServerOptions): Promise<FakeDiscordServer> {
    const botUserId = options.botUserId ?? options.applicationId;
    const world = new World(
      options.applicationId,
      { id: botUserId, username: options.botUsername ?? 'cloud-chatops', globalName: null, bot: true, dmsClosed: false },
      BigInt(options.botPermissions ?? Permission.Administrator),
    );
    const http = createServer();
    const server = new FakeDiscordServer(
      http,
      {
        applicationId: options.applicationId,
        botToken: options.botToken,
        ackDeadlineMs: options.ackDeadlineMs ?? DEFAULT_ACK_DEADLINE_MS,
        rejectLateAcknowledgements: options.rejectLateAcknowledgements ?? false,
        tokenLifetimeMs: options.tokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS,
        clock: options.clock ?? systemClock,
        shardCount: options.shardCount ?? 1,
      },
      world,
      options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      options.maxGuildsPerShard ?? 2500,
    );
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(0, '127.0.0.1', () => resolve());
    });
    return server;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** discord.js's REST `api` option (and the bot's DISCORD_API_URL). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get applicationId(): string {
    return this.core.settings.applicationId;
  }

  get botUserId(): string {
    return this.core.world.botUser.id;
  }

  /** Adds a guild; if the bot is connected it receives GUILD_CREATE, as when it is invited. */
  async addGuild(spec: GuildSpec): Promise<void> {
    const guild = this.core.world.addGuild(spec);
    await this.gateway.guildAdded(guild);
  }

  /** Adds a member (the guild owner too must be added to act). Bots with the GuildMembers intent get GUILD_MEMBER_ADD. */
  async addMember(guildId: string, spec: MemberSpec): Promise<void> {
    const member = this.core.world.addMember(guildId, spec);
    await this.gateway.memberAdded(guildId, member);
  }

  /** Opens or closes a user's DMs from now on. */
  setDmsClosed(userId: string, closed: boolean): void {
    this.core.world.requireUser(userId).dmsClosed = closed;
  }

  /** Resolves once the bot has identified on every shard and received all its guilds. */
  waitForReady(timeoutMs = 15_000): Promise<void> {
    return this.gateway.waitForReady(timeoutMs);
  }

  isReady(): boolean {
    return this.gateway.isReady();
  }

  /**
   * Resolves with performance.now() at the next Identify the gateway receives: the moment a starting bot has done
   * everything it does before it can serve (the start-up benchmark measures spawn to this).
   */
  nextIdentify(timeoutMs = 30_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const listener = (at: number): void => {
        clearTimeout(timer);
        this.gateway.identifyListeners.delete(listener);
        resolve(at);
      };
      const timer = setTimeout(() => {
        this.gateway.identifyListeners.delete(listener);
        reject(new Error(`no Identify within ${timeoutMs} ms`));
      }, timeoutMs);
      this.gateway.identifyListeners.add(listener);
    });
  }

  /** Identify payloads received so far (shard and intents). */
  identifies(): { shard: [number, number]; intents: number }[] {
    return [...this.gateway.identifies];
  }

  /** Heartbeats the bot sent so far, with the sequence each carried. */
  heartbeats(): ReceivedHeartbeat[] {
    return this.gateway.heartbeats.map((heartbeat) => ({ ...heartbeat }));
  }

  /** Sends op 1 to the bot, which must heartbeat at once; resolves with the next heartbeat received. */
  requestHeartbeat(): Promise<ReceivedHeartbeat> {
    return this.gateway.requestHeartbeat();
  }

  /**
   * Makes the current connections zombies: their heartbeats go unacknowledged, so the bot must reconnect. Connections
   * opened afterwards are acknowledged again.
   */
  withholdHeartbeatAcks(): void {
    this.gateway.withholdHeartbeatAcks();
  }

  /** The heartbeat interval announced to connections opened from now on. */
  setHeartbeatInterval(ms: number): void {
    this.gateway.heartbeatIntervalMs = ms;
  }

  /** Commands the bot registered: global ones, or those of one guild. */
  registeredCommands(guildId?: string): RegisteredCommand[] {
    return structuredClone(this.core.world.commandsFor(guildId));
  }

  /** A member runs a slash command. */
  async sendChatInput(spec: ChatInputSpec): Promise<InteractionHandle> {
    const command = this.commandFor(spec);
    return this.dispatch('chat-input', 2, spec.name, spec, null, {
      data: commandData(this.core.world, spec.guildId, spec.name, command, spec.options ?? [], spec.resolved),
    });
  }

  /** A member types in an autocompleted option; exactly one option must be `focused`. */
  async sendAutocomplete(spec: AutocompleteSpec): Promise<InteractionHandle> {
    const focused = countFocused(spec.options ?? []);
    if (focused !== 1) {
      throw new ImpossibleUserAction(`an autocomplete interaction has exactly one focused option, not ${focused}`);
    }
    const command = this.commandFor(spec);
    return this.dispatch('autocomplete', 4, spec.name, spec, null, {
      data: commandData(this.core.world, spec.guildId, spec.name, command, spec.options ?? [], spec.resolved),
    });
  }

  /** A member clicks a button on a message the bot sent. */
  async clickButton(spec: ButtonSpec): Promise<InteractionHandle> {
    const { message, button } = this.findButton(spec);
    const customId = button.custom_id ?? '';
    return this.dispatch('button', 3, customId, spec, message.id, {
      data: { custom_id: customId, component_type: 2, ...(button.id !== undefined ? { id: button.id } : {}) },
      message: apiMessage(this.core.world, message),
    });
  }

  /** A member fills in and submits a modal the bot showed them. */
  async submitModal(spec: ModalSubmitSpec): Promise<InteractionHandle> {
    const shownBy = this.findModal(spec);
    const modal: Modal | null = shownBy?.modal ?? null;
    const customId = modal?.custom_id ?? (typeof spec.customId === 'string' ? spec.customId : undefined);
    if (customId === undefined) {
      throw new ImpossibleUserAction(`no modal matching ${String(spec.customId)} was shown to user ${spec.userId}`);
    }
    const components = modalSubmitComponents(modal, spec.fields);
    const sourceMessage =
      shownBy?.kind === 'button' && shownBy.sourceMessageId ? this.core.world.messages.get(shownBy.sourceMessageId) : undefined;
    if (shownBy) this.usedModals.add(shownBy);
    return this.dispatch('modal-submit', 5, customId, spec, sourceMessage?.id ?? null, {
      data: { custom_id: customId, components },
      ...(sourceMessage ? { message: apiMessage(this.core.world, sourceMessage) } : {}),
    });
  }

  /** Interactions acknowledged after the deadline, or never. */
  deadlineViolations(): DeadlineViolation[] {
    return this.core.violations.map((violation) => ({ ...violation }));
  }

  /** Messages delivered to a user's DMs. */
  dmsTo(userId: string): RecordedMessage[] {
    const channelId = this.core.world.dmChannelIdOf(userId);
    return channelId ? this.core.world.messagesIn(channelId) : [];
  }

  /** DMs to a user that were refused with 50007. */
  refusedDmsTo(userId: string): RefusedDm[] {
    return this.core.refusedDms.filter((refused) => refused.userId === userId);
  }

  /** Messages the bot posted in a channel (POST /channels/{id}/messages). */
  channelMessages(channelId: string, options: ChannelMessagesOptions = {}): RecordedMessage[] {
    return this.core.world
      .messagesIn(channelId)
      .filter((message) =>
        options.includeInteractionMessages
          ? (message.flags & MessageFlag.Ephemeral) === 0
          : message.source === 'channel',
      );
  }

  /** Every message the bot created anywhere, in its current state. */
  allMessages(): RecordedMessage[] {
    return [...this.core.world.messages.values()];
  }

  /**
   * Every string the bot sent in any request body (message contents, embeds, component labels, modal titles, choices,
   * command definitions, custom ids) and the text of every attached file, one per line.
   */
  allMessagesText(): string {
    return this.core.sentText.join('\n');
  }

  /** Every REST request the bot made. */
  requestLog(): LoggedRequest[] {
    return [...this.core.requests];
  }

  /** REST requests to routes this server does not implement (answered 404). */
  unhandledRequests(): LoggedRequest[] {
    return [...this.core.unhandled];
  }

  /**
   * Forgets every interaction, message and request recorded so far (handles already given out keep what they saw).
   * A long load run calls it between phases, so the server's memory and garbage collection stay flat.
   */
  forgetHistory(): void {
    const { core } = this;
    for (const interaction of core.interactionsById.values()) {
      if (interaction.deadlineTimer) clearTimeout(interaction.deadlineTimer);
    }
    core.interactionsById.clear();
    core.interactionsByToken.clear();
    core.world.messages.clear();
    this.usedModals.clear();
    for (const list of [core.violations, core.requests, core.unhandled, core.refusedDms, core.sentText]) list.length = 0;
  }

  /** Drops the bot's gateway connections (it reconnects and identifies again). */
  disconnectBot(): void {
    this.gateway.disconnectAll();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const interaction of this.core.interactionsById.values()) {
      if (interaction.deadlineTimer) clearTimeout(interaction.deadlineTimer);
    }
    const error = new Error('the fake Discord server was closed');
    for (const listener of [...this.closeListeners]) listener(error);
    await this.gateway.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private commandFor(spec: ChatInputSpec): RegisteredCommand | undefined {
    const { world } = this.core;
    const command = world.findCommand(spec.guildId, spec.name);
    const required = command?.default_member_permissions;
    if (required && !spec.ignoreDefaultMemberPermissions) {
      const needed = BigInt(required);
      const has = world.memberPermissions(spec.guildId, spec.userId);
      if ((has & needed) !== needed && has !== ALL_PERMISSIONS) {
        throw new ImpossibleUserAction(
          `/${spec.name} is hidden from user ${spec.userId}: it needs permissions ${required} ` +
            '(set ignoreDefaultMemberPermissions to act as if an admin granted it)',
        );
      }
    }
    return command;
  }

  private async dispatch(
    kind: InteractionKind,
    type: number,
    label: string,
    target: InteractionTarget,
    sourceMessageId: string | null,
    specific: ApiObject,
  ): Promise<InteractionHandle> {
    if (this.closed) throw new Error('the fake Discord server is closed');
    const { world, settings } = this.core;
    const id = world.ids.next();
    const token = `aW50ZXJhY3Rpb246${id}:${randomBytes(48).toString('base64url')}`;
    const payload = {
      ...interactionEnvelope(world, { id, token, type, ...target }),
      ...specific,
    };
    const interaction = new InteractionRecord(
      id,
      token,
      kind,
      type,
      label,
      target.guildId,
      target.channelId,
      target.userId,
      sourceMessageId,
      settings.clock.now(),
    );
    this.core.interactionsById.set(id, interaction);
    this.core.interactionsByToken.set(token, interaction);
    interaction.deadlineTimer = setTimeout(() => {
      if (!interaction.response && !this.core.violations.some((violation) => violation.interactionId === id)) {
        this.core.violations.push({ interactionId: id, kind, label, ackDelayMs: null });
      }
    }, settings.ackDeadlineMs);
    interaction.deadlineTimer.unref();
    try {
      await this.gateway.dispatchToGuild(target.guildId, 'INTERACTION_CREATE', payload);
    } catch (error) {
      clearTimeout(interaction.deadlineTimer);
      this.core.interactionsById.delete(id);
      this.core.interactionsByToken.delete(token);
      throw error;
    }
    return new InteractionHandle(interaction, world, this.closeListeners);
  }

  private findButton(spec: ButtonSpec): { message: RecordedMessage; button: Component } {
    const { world } = this.core;
    const candidates = spec.messageId
      ? [world.messages.get(spec.messageId)].filter((message) => message !== undefined)
      : world.messagesIn(spec.channelId).reverse();
    if (spec.messageId && candidates.length === 0) throw new ImpossibleUserAction(`unknown message ${spec.messageId}`);
    for (const message of candidates) {
      if (message.deleted || message.channelId !== spec.channelId) continue;
      const ephemeral = (message.flags & MessageFlag.Ephemeral) !== 0;
      if (ephemeral && message.interactionUserId !== spec.userId) continue;
      const button = findComponent(message.components, (component) =>
        component.type === 2 && component.custom_id !== undefined && matches(spec.customId, component.custom_id),
      );
      if (!button) continue;
      if (button.disabled) {
        throw new ImpossibleUserAction(`the button ${button.custom_id} on message ${message.id} is disabled`);
      }
      return { message, button };
    }
    throw new ImpossibleUserAction(
      `user ${spec.userId} sees no button ${String(spec.customId)} in channel ${spec.channelId}` +
        (spec.messageId ? ` on message ${spec.messageId}` : ''),
    );
  }

  private findModal(spec: ModalSubmitSpec): InteractionRecord | undefined {
    const shown = [...this.core.interactionsById.values()].reverse();
    return shown.find(
      (interaction) =>
        interaction.modal !== null &&
        interaction.userId === spec.userId &&
        !this.usedModals.has(interaction) &&
        (spec.customId === undefined || matches(spec.customId, interaction.modal.custom_id)),
    );
  }
}

function matches(pattern: string | RegExp, value: string): boolean {
  return typeof pattern === 'string' ? pattern === value : pattern.test(value);
}

function findComponent(components: Component[], predicate: (component: Component) => boolean): Component | undefined {
  for (const component of components) {
    if (predicate(component)) return component;
    const found = findComponent(childrenOf(component), predicate);
    if (found) return found;
  }
  return undefined;
}

/** Nested components: action row children, a label's component, a section's accessory. */
function childrenOf(component: Component): Component[] {
  const accessory = componentSchema.safeParse(component.accessory);
  return [
    ...(component.components ?? []),
    ...(component.component ? [component.component] : []),
    ...(accessory.success ? [accessory.data] : []),
  ];
}

function countFocused(options: CommandOptionInput[]): number {
  return options.reduce((count, option) => count + (option.focused ? 1 : 0) + countFocused(option.options ?? []), 0);
}

/** Buttons in a message's components, for assertions (`buttonsOf(h.original()!)`). */
export function buttonsOf(message: { components: Component[] }): Component[] {
  const found: Component[] = [];
  const walk = (components: Component[]): void => {
    for (const component of components) {
      if (component.type === 2) found.push(component);
      walk(childrenOf(component));
    }
  };
  walk(message.components);
  return found;
}
