import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { apiChannel, apiGuild, apiMember, apiMessage, apiRole, apiUser } from './api-objects.js';
import type { RequestBody } from './body.js';
import { MalformedBody, readRequestBody } from './body.js';
import type { LoggedRequest, ServerCore } from './core.js';
import { DiscordHttpError, discordErrors } from './errors.js';
import { createMessage, editMessage, parseMessageBody } from './messages.js';
import type { RouteResult } from './responses.js';
import { handleCallback, handleFollowUp, handleWebhookMessage } from './responses.js';
import type { CommandDefinition, RegisteredCommand } from './schemas.js';
import { commandDefinitionSchema, createDmSchema } from './schemas.js';
import { stringsIn } from './text.js';
import { commandsProblems, zodProblems } from './validation.js';
import { ChannelType } from './world.js';

interface RouteRequest {
  method: string;
  params: string[];
  query: URLSearchParams;
  body: RequestBody;
}

interface Route {
  method: string;
  pattern: RegExp;
  /** Needs `Authorization: Bot <token>`; interaction callbacks and webhooks authenticate by their token instead. */
  auth: boolean;
  handle: (request: RouteRequest) => RouteResult;
}

const API_PREFIX = '/api/v10';
const ID = '([^/]+)';

function param(request: RouteRequest, index: number): string {
  const value = request.params[index];
  if (value === undefined) throw discordErrors.notFound();
  return decodeURIComponent(value);
}

function ok(body: unknown): RouteResult {
  return { status: 200, body };
}

function parseOr50035<T>(schema: z.ZodType<T>, json: unknown): T {
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw discordErrors.invalidFormBody(zodProblems(parsed.error));
  return parsed.data;
}

/** The REST half of the fake Discord: routing, authentication, request log, and the routes themselves. */
export class RestApi {
  private readonly routes: Route[];

  constructor(private readonly core: ServerCore) {
    this.routes = this.buildRoutes();
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://rest.invalid');
    const method = (request.method ?? 'GET').toUpperCase();
    const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) : url.pathname;
    const entry: LoggedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      files: [],
      status: 0,
      errorCode: null,
      at: Date.now(),
    };
    let result: RouteResult;
    let matched = true;
    try {
      const body = await readRequestBody(request);
      entry.body = body.json;
      entry.files = body.files.map((file) => ({ filename: file.filename, size: file.size }));
      if (method !== 'GET') {
        stringsIn(body.json, this.core.sentText);
        for (const file of body.files) this.core.sentText.push(file.filename, file.text);
      }
      const route = url.pathname.startsWith(API_PREFIX) ? this.match(method, path) : undefined;
      if (!route) {
        matched = false;
        throw discordErrors.notFound();
      }
      if (route.route.auth) this.authenticate(request);
      result = route.route.handle({ method, params: route.params, query: url.searchParams, body });
    } catch (error) {
      result = this.errorResult(error);
      entry.errorCode = typeof result.body === 'object' && result.body !== null && 'code' in result.body
        ? Number(result.body.code)
        : null;
    }
    entry.status = result.status;
    this.core.requests.push(entry);
    if (!matched) this.core.unhandled.push(entry);
    this.send(response, result);
  }

  private match(method: string, path: string): { route: Route; params: string[] } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const found = route.pattern.exec(path);
      if (found) return { route, params: found.slice(1) };
    }
    return undefined;
  }

  private authenticate(request: IncomingMessage): void {
    const expected = this.core.settings.botToken;
    const header = request.headers.authorization;
    if (!header?.startsWith('Bot ')) throw discordErrors.unauthorized();
    if (expected !== undefined && header !== `Bot ${expected}`) throw discordErrors.unauthorized();
  }

  private errorResult(error: unknown): RouteResult {
    if (error instanceof DiscordHttpError) return { status: error.status, body: error.body };
    if (error instanceof MalformedBody) return { status: 400, body: { code: 50109, message: error.message } };
    return {
      status: 500,
      body: { code: 0, message: `fake Discord server error: ${error instanceof Error ? error.message : String(error)}` },
    };
  }

  private send(response: ServerResponse, result: RouteResult): void {
    if (result.body === undefined) {
      response.writeHead(result.status);
      response.end();
      return;
    }
    const text = JSON.stringify(result.body);
    response.writeHead(result.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  }

  private buildRoutes(): Route[] {
    const route = (method: string, path: string, auth: boolean, handle: Route['handle']): Route => ({
      method,
      pattern: new RegExp(`^${path}$`),
      auth,
      handle,
    });
    const app = `/applications/${ID}`;
    return [
      route('GET', '/gateway', false, () => ok({ url: this.core.gatewayUrl() })),
      route('GET', '/gateway/bot', true, () =>
        ok({
          url: this.core.gatewayUrl(),
          shards: this.core.settings.shardCount,
          // One identify bucket per shard, so discord.js does not space shard logins 5 s apart in tests.
          session_start_limit: {
            total: 1000,
            remaining: 999,
            reset_after: 14_400_000,
            max_concurrency: this.core.settings.shardCount,
          },
        }),
      ),
      route('GET', '/users/@me', true, () => ok(apiUser(this.core.world.botUser))),
      route('POST', '/users/@me/channels', true, (request) => this.createDm(request)),
      route('GET', `/users/${ID}`, true, (request) => {
        const user = this.core.world.users.get(param(request, 0));
        if (!user) throw discordErrors.unknownUser();
        return ok(apiUser(user));
      }),
      route('GET', '/applications/@me', true, () => ok(this.application())),
      route('GET', '/oauth2/applications/@me', true, () => ok(this.application())),
      route('GET', `${app}/commands`, true, (request) => ok(this.commands(request, undefined))),
      route('PUT', `${app}/commands`, true, (request) => ok(this.putCommands(request, undefined))),
      route('POST', `${app}/commands`, true, (request) => ok(this.postCommand(request, undefined))),
      route('DELETE', `${app}/commands/${ID}`, true, (request) => this.deleteCommand(request, undefined)),
      route('GET', `${app}/guilds/${ID}/commands`, true, (request) => ok(this.commands(request, param(request, 1)))),
      route('PUT', `${app}/guilds/${ID}/commands`, true, (request) => ok(this.putCommands(request, param(request, 1)))),
      route('POST', `${app}/guilds/${ID}/commands`, true, (request) => ok(this.postCommand(request, param(request, 1)))),
      route('DELETE', `${app}/guilds/${ID}/commands/${ID}`, true, (request) =>
        this.deleteCommand(request, param(request, 1)),
      ),
      route('POST', `/interactions/${ID}/${ID}/callback`, false, (request) =>
        handleCallback(
          this.core,
          param(request, 0),
          param(request, 1),
          request.query.get('with_response') === 'true',
          request.body,
        ),
      ),
      route('POST', `/webhooks/${ID}/${ID}`, false, (request) =>
        handleFollowUp(this.core, param(request, 0), param(request, 1), request.body),
      ),
      ...['GET', 'PATCH', 'DELETE'].map((method) =>
        route(method, `/webhooks/${ID}/${ID}/messages/${ID}`, false, (request) =>
          handleWebhookMessage(this.core, method, param(request, 0), param(request, 1), param(request, 2), request.body),
        ),
      ),
      route('GET', `/guilds/${ID}`, true, (request) => ok(apiGuild(this.guild(request)))),
      route('GET', `/guilds/${ID}/roles`, true, (request) => ok(this.guild(request).roles.map(apiRole))),
      route('GET', `/guilds/${ID}/channels`, true, (request) => {
        const guild = this.guild(request);
        return ok(
          guild.channelIds.flatMap((id) => {
            const channel = this.core.world.channels.get(id);
            return channel ? [apiChannel(this.core.world, channel)] : [];
          }),
        );
      }),
      route('GET', `/guilds/${ID}/members`, true, (request) => {
        const limit = Number(request.query.get('limit') ?? '1');
        const members = [...this.guild(request).members.values()].slice(0, Math.max(1, Math.min(limit, 1000)));
        return ok(members.map((member) => apiMember(this.core.world, member)));
      }),
      route('GET', `/guilds/${ID}/members/${ID}`, true, (request) => {
        const member = this.guild(request).members.get(param(request, 1));
        if (!member) throw discordErrors.unknownMember();
        return ok(apiMember(this.core.world, member));
      }),
      route('GET', `/channels/${ID}`, true, (request) => ok(apiChannel(this.core.world, this.channel(request)))),
      route('GET', `/channels/${ID}/messages`, true, (request) => {
        const messages = this.core.world.messagesIn(this.channel(request).id).filter((message) => !message.deleted);
        const limit = Number(request.query.get('limit') ?? '50');
        return ok(messages.slice(-limit).reverse().map((message) => apiMessage(this.core.world, message)));
      }),
      route('POST', `/channels/${ID}/messages`, true, (request) => this.postChannelMessage(request)),
      route('GET', `/channels/${ID}/messages/${ID}`, true, (request) => ok(apiMessage(this.core.world, this.message(request)))),
      route('PATCH', `/channels/${ID}/messages/${ID}`, true, (request) => {
        const edited = editMessage(this.core.world, this.message(request), parseMessageBody(request.body.json), request.body.files);
        return ok(apiMessage(this.core.world, edited));
      }),
      route('DELETE', `/channels/${ID}/messages/${ID}`, true, (request) => {
        const message = this.message(request);
        this.core.world.messages.set(message.id, { ...message, deleted: true });
        return { status: 204 };
      }),
    ];
  }

  private application(): Record<string, unknown> {
    const { world } = this.core;
    return {
      id: world.applicationId,
      name: world.botUser.username,
      icon: null,
      description: '',
      bot_public: true,
      bot_require_code_grant: false,
      flags: 0,
      verify_key: '0'.repeat(64),
      team: null,
      bot: apiUser(world.botUser),
      approximate_guild_count: world.guilds.size,
    };
  }

  private guild(request: RouteRequest) {
    const guild = this.core.world.guilds.get(param(request, 0));
    if (!guild) throw discordErrors.unknownGuild();
    return guild;
  }

  private channel(request: RouteRequest) {
    const channel = this.core.world.channels.get(param(request, 0));
    if (!channel) throw discordErrors.unknownChannel();
    return channel;
  }

  private message(request: RouteRequest) {
    const channel = this.channel(request);
    const message = this.core.world.messages.get(param(request, 1));
    if (!message || message.channelId !== channel.id || message.deleted) throw discordErrors.unknownMessage();
    return message;
  }

  private createDm(request: RouteRequest): RouteResult {
    const { recipient_id: recipientId } = parseOr50035(createDmSchema, request.body.json);
    if (!this.core.world.users.has(recipientId)) throw discordErrors.invalidRecipient();
    return ok(apiChannel(this.core.world, this.core.world.dmChannelWith(recipientId)));
  }

  private postChannelMessage(request: RouteRequest): RouteResult {
    const { world } = this.core;
    const channel = this.channel(request);
    const body = parseMessageBody(request.body.json);
    if (channel.type === ChannelType.DM) {
      const recipient = channel.recipientId ? world.users.get(channel.recipientId) : undefined;
      // Discord gives no way to know beforehand: the send itself is refused.
      if (!recipient || recipient.dmsClosed || recipient.bot) {
        this.core.refusedDms.push({ userId: channel.recipientId ?? '', body: request.body.json });
        throw discordErrors.cannotMessageUser();
      }
    } else if (!channel.sendable) {
      throw discordErrors.missingPermissions();
    }
    const message = createMessage(world, {
      channelId: channel.id,
      guildId: channel.guildId,
      body,
      files: request.body.files,
      source: 'channel',
    });
    return ok(apiMessage(world, message));
  }

  private checkApplication(request: RouteRequest): void {
    if (param(request, 0) !== this.core.settings.applicationId) {
      throw new DiscordHttpError(403, { code: 50001, message: 'Missing Access' });
    }
  }

  private checkGuild(guildId: string | undefined): void {
    if (guildId !== undefined && !this.core.world.guilds.has(guildId)) {
      throw new DiscordHttpError(403, { code: 50001, message: 'Missing Access' });
    }
  }

  private commands(request: RouteRequest, guildId: string | undefined): RegisteredCommand[] {
    this.checkApplication(request);
    this.checkGuild(guildId);
    return this.core.world.commandsFor(guildId);
  }

  /** Bulk overwrite: commands keep their id when a command of the same name and type existed, as on Discord. */
  private putCommands(request: RouteRequest, guildId: string | undefined): RegisteredCommand[] {
    this.checkApplication(request);
    this.checkGuild(guildId);
    const definitions = parseOr50035(z.array(commandDefinitionSchema), request.body.json);
    const problems = commandsProblems(definitions);
    if (problems.length > 0) throw discordErrors.invalidFormBody(problems);
    const previous = this.core.world.commandsFor(guildId);
    const registered = definitions.map((definition) => this.register(definition, guildId, previous));
    if (guildId === undefined) {
      this.core.world.globalCommands.splice(0, this.core.world.globalCommands.length, ...registered);
    } else {
      this.core.world.guildCommands.set(guildId, registered);
    }
    return registered;
  }

  private postCommand(request: RouteRequest, guildId: string | undefined): RegisteredCommand {
    this.checkApplication(request);
    this.checkGuild(guildId);
    const definition = parseOr50035(commandDefinitionSchema, request.body.json);
    const problems = commandsProblems([definition]);
    if (problems.length > 0) throw discordErrors.invalidFormBody(problems);
    const previous = this.core.world.commandsFor(guildId);
    const registered = this.register(definition, guildId, previous);
    const others = previous.filter((command) => command.id !== registered.id);
    if (guildId === undefined) {
      this.core.world.globalCommands.splice(0, this.core.world.globalCommands.length, ...others, registered);
    } else {
      this.core.world.guildCommands.set(guildId, [...others, registered]);
    }
    return registered;
  }

  private deleteCommand(request: RouteRequest, guildId: string | undefined): RouteResult {
    this.checkApplication(request);
    this.checkGuild(guildId);
    const commandId = param(request, guildId === undefined ? 1 : 2);
    const previous = this.core.world.commandsFor(guildId);
    if (!previous.some((command) => command.id === commandId)) throw discordErrors.unknownApplicationCommand();
    const remaining = previous.filter((command) => command.id !== commandId);
    if (guildId === undefined) {
      this.core.world.globalCommands.splice(0, this.core.world.globalCommands.length, ...remaining);
    } else {
      this.core.world.guildCommands.set(guildId, remaining);
    }
    return { status: 204 };
  }

  private register(
    definition: CommandDefinition,
    guildId: string | undefined,
    previous: RegisteredCommand[],
  ): RegisteredCommand {
    const type = definition.type ?? 1;
    const existing = previous.find((command) => command.name === definition.name && command.type === type);
    return {
      ...definition,
      id: existing?.id ?? this.core.world.ids.next(),
      application_id: this.core.settings.applicationId,
      ...(guildId !== undefined ? { guild_id: guildId } : {}),
      type,
      description: definition.description ?? '',
      version: this.core.world.ids.next(),
      default_member_permissions: definition.default_member_permissions ?? null,
      nsfw: definition.nsfw ?? false,
    };
  }
}
