import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import { apiGuildCreate, apiMember, apiUser } from './api-objects.js';
import { GatewaySession, Op } from './gateway-session.js';
import { shardOfGuild } from './snowflake.js';
import { gatewayFrameSchema, identifySchema, requestGuildMembersSchema } from './schemas.js';
import type { GuildRecord, MemberRecord, World } from './world.js';

const Close = {
  UnknownOpcode: 4001,
  DecodeError: 4002,
  NotAuthenticated: 4003,
  AuthenticationFailed: 4004,
  AlreadyAuthenticated: 4005,
  InvalidShard: 4010,
  ShardingRequired: 4011,
  InvalidApiVersion: 4012,
} as const;

const Intent = { GuildMembers: 1 << 1, GuildPresences: 1 << 8 } as const;

export interface GatewayOptions {
  world: World;
  /** The token Identify must carry; undefined accepts any. */
  botToken: string | undefined;
  heartbeatIntervalMs: number;
  gatewayUrl: () => string;
  /** Most guilds one connection may serve before Discord requires more shards (close 4011); Discord: 2,500. */
  maxGuildsPerShard: number;
}

/** A heartbeat the client sent: the sequence it carried, and the last one this connection had dispatched. */
export interface ReceivedHeartbeat {
  sequence: number | null;
  lastSequenceSent: number | null;
  acknowledged: boolean;
}

/**
 * The gateway half of the fake Discord: Hello, Identify, READY, GUILD_CREATE per guild, heartbeats, and dispatch of
 * events to the shard that owns a guild.
 */
export class Gateway {
  private readonly server: WebSocketServer;
  private readonly sessions = new Set<GatewaySession>();
  private readyWaiters: { resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout }[] = [];
  /** Identify payloads received, for tests that look at intents or shards. */
  readonly identifies: { shard: [number, number]; intents: number }[] = [];
  readonly heartbeats: ReceivedHeartbeat[] = [];
  private heartbeatWaiters: ((heartbeat: ReceivedHeartbeat) => void)[] = [];
  /** Called with performance.now() as each Identify arrives (before it is checked): start-up benchmarks time to it. */
  readonly identifyListeners = new Set<(at: number) => void>();
  /** Announced in the Hello of connections opened from now on. */
  heartbeatIntervalMs: number;

  constructor(
    httpServer: Server,
    private readonly options: GatewayOptions,
  ) {
    this.heartbeatIntervalMs = options.heartbeatIntervalMs;
    this.server = new WebSocketServer({ server: httpServer });
    this.server.on('connection', (socket, request) => {
      const params = new URL(request.url ?? '/', 'ws://gateway.invalid').searchParams;
      if (params.get('v') !== null && params.get('v') !== '10') {
        socket.close(Close.InvalidApiVersion, 'Invalid API version');
        return;
      }
      if (params.get('encoding') !== null && params.get('encoding') !== 'json') {
        socket.close(Close.DecodeError, 'Only JSON encoding is supported');
        return;
      }
      this.accept(socket);
    });
  }

  private accept(socket: WebSocket): void {
    const session = new GatewaySession(socket);
    this.sessions.add(session);
    socket.on('message', (raw) => void this.onFrame(session, raw.toString()));
    socket.on('close', () => this.sessions.delete(session));
    socket.on('error', () => this.sessions.delete(session));
    void session.send({ op: Op.Hello, d: { heartbeat_interval: this.heartbeatIntervalMs } }).catch(() => {});
  }

  private async onFrame(session: GatewaySession, text: string): Promise<void> {
    let frame;
    try {
      frame = gatewayFrameSchema.parse(JSON.parse(text));
    } catch {
      session.socket.close(Close.DecodeError, 'Decode error');
      return;
    }
    try {
      switch (frame.op) {
        case Op.Heartbeat:
          await this.heartbeat(session, frame.d);
          return;
        case Op.Identify:
          await this.identify(session, frame.d);
          return;
        case Op.Resume:
          // Sessions are not kept across connections: tell the client to identify afresh, as Discord does.
          await session.send({ op: Op.InvalidSession, d: false });
          return;
        case Op.RequestGuildMembers:
          if (!session.identified) break;
          await this.sendMemberChunk(session, frame.d);
          return;
        case Op.PresenceUpdate:
        case Op.VoiceStateUpdate:
        case Op.RequestSoundboardSounds:
          if (!session.identified) break;
          return;
        default:
          session.socket.close(Close.UnknownOpcode, 'Unknown opcode');
          return;
      }
      session.socket.close(Close.NotAuthenticated, 'Not authenticated');
    } catch {
      // The socket closed while we were answering; the client reconnects on its own.
    }
  }

  private async heartbeat(session: GatewaySession, data: unknown): Promise<void> {
    const heartbeat: ReceivedHeartbeat = {
      sequence: typeof data === 'number' ? data : null,
      lastSequenceSent: session.lastSequence,
      acknowledged: session.acknowledgesHeartbeats,
    };
    this.heartbeats.push(heartbeat);
    const waiters = this.heartbeatWaiters;
    this.heartbeatWaiters = [];
    for (const waiter of waiters) waiter(heartbeat);
    if (heartbeat.acknowledged) await session.send({ op: Op.HeartbeatAck });
  }

  /** Asks every connection for an immediate heartbeat (op 1, as Discord may); resolves with the next one received. */
  requestHeartbeat(): Promise<ReceivedHeartbeat> {
    const next = new Promise<ReceivedHeartbeat>((resolve) => this.heartbeatWaiters.push(resolve));
    const open = [...this.sessions].filter((session) => session.open);
    if (open.length === 0) return Promise.reject(new Error('the bot is not connected to the gateway'));
    for (const session of open) void session.send({ op: Op.Heartbeat, d: session.lastSequence }).catch(() => {});
    return next;
  }

  /** Stops acknowledging heartbeats on the current connections; connections opened later are answered again. */
  withholdHeartbeatAcks(): void {
    for (const session of this.sessions) session.acknowledgesHeartbeats = false;
  }

  private async identify(session: GatewaySession, data: unknown): Promise<void> {
    const at = performance.now();
    for (const listener of this.identifyListeners) listener(at);
    const parsed = identifySchema.safeParse(data);
    if (!parsed.success) {
      session.socket.close(Close.DecodeError, 'Decode error');
      return;
    }
    const identify = parsed.data;
    if (session.identified) {
      session.socket.close(Close.AlreadyAuthenticated, 'Already authenticated');
      return;
    }
    const expected = this.options.botToken;
    if (expected !== undefined && identify.token.replace(/^Bot /, '') !== expected) {
      session.socket.close(Close.AuthenticationFailed, 'Authentication failed.');
      return;
    }
    const [shardId, shardCount] = identify.shard ?? [0, 1];
    if (shardCount < 1 || shardId < 0 || shardId >= shardCount) {
      session.socket.close(Close.InvalidShard, 'Invalid shard');
      return;
    }
    const { world } = this.options;
    const guilds = [...world.guilds.values()].filter((guild) => shardOfGuild(guild.id, shardCount) === shardId);
    if (guilds.length > this.options.maxGuildsPerShard) {
      session.socket.close(Close.ShardingRequired, 'Sharding required');
      return;
    }
    session.identified = true;
    session.shardId = shardId;
    session.shardCount = shardCount;
    session.intents = identify.intents;
    session.compress = identify.compress ?? false;
    this.identifies.push({ shard: [shardId, shardCount], intents: identify.intents });

    await session.dispatch('READY', {
      v: 10,
      user_settings: {},
      user: { ...apiUser(world.botUser), bot: true, verified: true, mfa_enabled: false },
      guilds: guilds.map((guild) => ({ id: guild.id, unavailable: true })),
      session_id: session.sessionId,
      session_type: 'normal',
      resume_gateway_url: this.options.gatewayUrl(),
      shard: [shardId, shardCount],
      application: { id: world.applicationId, flags: 0 },
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
      _trace: ['fake-discord'],
    });
    for (const guild of guilds) await this.sendGuildCreate(session, guild);
    session.ready = true;
    this.settleReadyWaiters();
  }

  private sendGuildCreate(session: GatewaySession, guild: GuildRecord): Promise<void> {
    return session.dispatch(
      'GUILD_CREATE',
      apiGuildCreate(this.options.world, guild, session.hasIntent(Intent.GuildPresences)),
    );
  }

  private async sendMemberChunk(session: GatewaySession, data: unknown): Promise<void> {
    const request = requestGuildMembersSchema.parse(data);
    const guild = this.options.world.guilds.get(request.guild_id);
    if (!guild) return;
    const wanted = request.user_ids === undefined ? undefined : new Set([request.user_ids].flat());
    const query = request.query?.toLowerCase() ?? '';
    const members = [...guild.members.values()].filter((member) => {
      if (wanted) return wanted.has(member.userId);
      return this.options.world.requireUser(member.userId).username.toLowerCase().startsWith(query);
    });
    const limited = request.limit ? members.slice(0, request.limit) : members;
    await session.dispatch('GUILD_MEMBERS_CHUNK', {
      guild_id: guild.id,
      members: limited.map((member) => apiMember(this.options.world, member)),
      chunk_index: 0,
      chunk_count: 1,
      not_found: wanted ? [...wanted].filter((id) => !guild.members.has(id)) : [],
      ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
    });
  }

  /** The connected, ready session that receives a guild's events. */
  sessionForGuild(guildId: string): GatewaySession | undefined {
    return [...this.sessions].find((session) => session.ready && session.open && session.servesGuild(guildId));
  }

  async dispatchToGuild(guildId: string, event: string, data: unknown): Promise<void> {
    const session = this.sessionForGuild(guildId);
    if (!session) throw new Error(`the bot has no ready gateway connection serving guild ${guildId}`);
    await session.dispatch(event, data);
  }

  /**
   * A guild added while the bot is connected arrives as GUILD_CREATE, as when the bot is invited. A connection that
   * drops meanwhile is no error: the bot receives the guild when it identifies again.
   */
  async guildAdded(guild: GuildRecord): Promise<void> {
    const session = [...this.sessions].find((candidate) => candidate.identified && candidate.servesGuild(guild.id));
    if (session) await this.sendGuildCreate(session, guild).catch(() => {});
  }

  async memberAdded(guildId: string, member: MemberRecord): Promise<void> {
    const session = this.sessionForGuild(guildId);
    if (session?.hasIntent(Intent.GuildMembers)) {
      await session
        .dispatch('GUILD_MEMBER_ADD', { ...apiMember(this.options.world, member), guild_id: guildId })
        .catch(() => {});
    }
  }

  /** Every shard of the bot identified and received all its guilds. */
  isReady(): boolean {
    const ready = [...this.sessions].filter((session) => session.ready && session.open);
    const first = ready[0];
    if (!first) return false;
    const shards = new Set(ready.filter((s) => s.shardCount === first.shardCount).map((s) => s.shardId));
    return shards.size === first.shardCount;
  }

  waitForReady(timeoutMs: number): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.readyWaiters = this.readyWaiters.filter((other) => other !== waiter);
          reject(new Error(`the bot did not connect and identify within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.readyWaiters.push(waiter);
    });
  }

  private settleReadyWaiters(): void {
    if (!this.isReady()) return;
    for (const waiter of this.readyWaiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.readyWaiters = [];
  }

  /** Drops every connection abruptly, as a network failure would (the client will reconnect). */
  disconnectAll(code = 4000): void {
    for (const session of this.sessions) session.socket.close(code, 'Disconnected by the test');
  }

  async close(): Promise<void> {
    for (const waiter of this.readyWaiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('the fake Discord server was closed'));
    }
    this.readyWaiters = [];
    for (const session of this.sessions) session.socket.terminate();
    this.sessions.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
