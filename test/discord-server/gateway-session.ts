import { randomUUID } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { WebSocket } from 'ws';
import { shardOfGuild } from './snowflake.js';

export const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
  RequestSoundboardSounds: 31,
} as const;

/** One bot connection (one shard). */
export class GatewaySession {
  private sequence = 0;
  identified = false;
  /** READY and every GUILD_CREATE of the shard were sent. */
  ready = false;
  shardId = 0;
  shardCount = 1;
  intents = 0;
  compress = false;
  /** Cleared by a test to make this connection a zombie: heartbeats go unanswered, so the client must reconnect. */
  acknowledgesHeartbeats = true;
  readonly sessionId = randomUUID().replaceAll('-', '');

  constructor(readonly socket: WebSocket) {}

  send(payload: Record<string, unknown>): Promise<void> {
    if (this.socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error('the bot is not connected to the gateway'));
    }
    const text = JSON.stringify(payload);
    return new Promise((resolve, reject) => {
      this.socket.send(this.compress ? deflateSync(text) : text, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** The sequence number of the last dispatch sent, which the client's next heartbeat must carry. */
  get lastSequence(): number | null {
    return this.sequence === 0 ? null : this.sequence;
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  dispatch(event: string, data: unknown): Promise<void> {
    this.sequence += 1;
    return this.send({ op: Op.Dispatch, t: event, s: this.sequence, d: data });
  }

  hasIntent(intent: number): boolean {
    return (this.intents & intent) !== 0;
  }

  servesGuild(guildId: string): boolean {
    return shardOfGuild(guildId, this.shardCount) === this.shardId;
  }
}
