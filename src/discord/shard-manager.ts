/**
 * `SHARDS=auto|N` (or SHARD_COUNT / SHARD_LIST): discord.js's ShardingManager runs the bot's shards, each one the
 * same bundle as `npm start` in a child process of its own. This process serves no guild itself. On SQLite it holds
 * the database's process lock (so neither a single-process bot nor a second manager can start on it); on PostgreSQL
 * managers on several machines share one database, each running the shards it is given, and each shard's own lock
 * (src/db/pg-process-lock.ts) keeps two of one id apart. Either way it applies the migrations once before any shard
 * opens the database, starts the shards one after another at the pace Discord
 * allows identifies, respawns a shard that dies once all are up, and on SIGINT/SIGTERM passes the same signal to
 * every shard and waits for each to stop the way one bot stops (engines get SIGINT, members are told).
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { REST, Routes, ShardingManager, type Shard } from 'discord.js';
import { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import { acquireProcessLock, type ProcessLock } from '../app/process-lock.js';
import type { Config } from '../config/index.js';
import { chooseDatabase } from '../db/dialect.js';
import { openDatabase } from '../db/index.js';
import { openPostgres } from '../db/postgres.js';

/** Discord lets a bot identify once per 5 s in each of its `max_concurrency` buckets; a little more, to be safe. */
export const IDENTIFY_SPACING_MS = 5_500;

/** What GET /gateway/bot says about sharding. */
const gatewayBotSchema = z.object({
  shards: z.number().int().min(1),
  session_start_limit: z.object({ max_concurrency: z.number().int().min(1) }).partial().optional(),
});
export type GatewayBot = { shards: number; maxConcurrency: number };

/** Discord's recommended shard count and identify concurrency, from DISCORD_API_URL when set. */
export async function fetchGatewayBot(token: string, apiUrl: string | undefined): Promise<GatewayBot> {
  const rest = new REST(apiUrl ? { api: apiUrl } : {}).setToken(token);
  const parsed = gatewayBotSchema.parse(await rest.get(Routes.gatewayBot()));
  return { shards: parsed.shards, maxConcurrency: parsed.session_start_limit?.max_concurrency ?? 1 };
}

export interface ShardManagerOptions {
  /** The bot's script (dist/main.js, or src/main.ts under tsx), and what each shard is started with. */
  file: string;
  args: string[];
  execArgv: string[];
  token: string;
  database: Pick<Config, 'DATABASE_PATH' | 'DATABASE_URL'>;
  /** Every shard of the bot, on all machines. */
  totalShards: number;
  /** The shards this machine runs (default all). */
  shardList?: number[];
  /** Shards that may identify at once (Discord's max_concurrency); more than one per bucket waits IDENTIFY_SPACING_MS. */
  maxConcurrency: number;
  logger: Logger;
  /** How long a shard may take from its start to its READY (default 120 s: a loaded machine starts slowly). */
  readyTimeoutMs?: number;
  /** How long a shard may take to stop gracefully after the signal before it is killed (default 90 s). */
  stopGraceMs?: number;
  now?: () => number;
}

/** A shard stopped before it was ready: the manager does not start the others (its own error is in the log above). */
export class ShardStartFailed extends Error {
  constructor(
    readonly shardId: number,
    cause: unknown,
  ) {
    super(`shard ${shardId} stopped or did not become ready (${cause instanceof Error ? cause.message : String(cause)}); its own error is in the log above`);
    this.name = 'ShardStartFailed';
  }
}

export class ShardManager {
  readonly #options: ShardManagerOptions;
  readonly #manager: ShardingManager;
  readonly #lock: ProcessLock;
  readonly #shardList: number[];
  #stopping: Promise<void> | undefined;

  private constructor(options: ShardManagerOptions, lock: ProcessLock) {
    this.#options = options;
    this.#lock = lock;
    this.#shardList = options.shardList ?? Array.from({ length: options.totalShards }, (_, id) => id);
    this.#manager = new ShardingManager(options.file, {
      totalShards: options.totalShards,
      shardList: this.#shardList,
      mode: 'process',
      // Off while the shards start: one that fails at start-up would fail again. On once all are up.
      respawn: false,
      token: options.token,
      shardArgs: options.args,
      execArgv: options.execArgv,
    });
    this.#manager.on('shardCreate', (shard) => this.#watch(shard));
  }

  /**
   * Applies the migrations, having taken the database's lock on SQLite; throws DatabaseInUse when another bot holds
   * it. On PostgreSQL the shards lock themselves (other machines' managers run beside this one).
   */
  static async prepare(options: ShardManagerOptions): Promise<ShardManager> {
    const choice = chooseDatabase(options.database);
    if (choice.dialect === 'postgres') {
      // Once, here: migrations are applied under an advisory lock anyway, but a shard then starts on a ready schema.
      await (await openPostgres(choice.url, { maxConnections: 2 })).close();
      return new ShardManager(options, { release: () => {} });
    }
    const lock = acquireProcessLock(choice.path, (options.now ?? Date.now)());
    try {
      // Once, here: shards started side by side would otherwise race to apply the same migration.
      openDatabase(choice.path).close();
      return new ShardManager(options, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  get shardIds(): readonly number[] {
    return this.#shardList;
  }

  /** The running shards' process ids, by shard id. */
  pids(): Map<number, number> {
    const pids = new Map<number, number>();
    for (const [id, shard] of this.#manager.shards) if (shard.process?.pid) pids.set(id, shard.process.pid);
    return pids;
  }

  /**
   * Starts every shard in turn and waits for each one's READY; then turns respawning on. A shard that fails to start
   * stops the ones already started (ShardStartFailed). Returns early, without error, when stop() was called meanwhile.
   */
  async start(): Promise<void> {
    const { maxConcurrency, logger } = this.#options;
    const timeout = this.#options.readyTimeoutMs ?? 120_000;
    for (const [index, id] of this.#shardList.entries()) {
      if (this.#stopping) return;
      // Shards in different identify buckets may start together; a second one in a bucket waits its turn.
      if (index > 0 && index % maxConcurrency === 0) await sleep(IDENTIFY_SPACING_MS);
      if (this.#stopping) return;
      const shard = this.#manager.createShard(id);
      try {
        await shard.spawn(timeout);
      } catch (error) {
        if (this.#stopping) return;
        const failed = new ShardStartFailed(id, error);
        await this.stop('SIGTERM');
        throw failed;
      }
    }
    if (this.#stopping) return;
    this.#manager.respawn = true;
    logger.info({ shards: this.#shardList, totalShards: this.#options.totalShards }, 'every shard is ready');
  }

  /**
   * Sends `signal` to every shard and waits until each has exited (killing one that outlives the grace period), then
   * releases the database. Called again, it waits for the same stop.
   */
  stop(signal: NodeJS.Signals): Promise<void> {
    this.#stopping ??= this.#stopAll(signal);
    return this.#stopping;
  }

  async #stopAll(signal: NodeJS.Signals): Promise<void> {
    this.#manager.respawn = false;
    const grace = this.#options.stopGraceMs ?? 90_000;
    const results = await Promise.all([...this.#manager.shards.values()].map((shard) => stopShard(shard, signal, grace, this.#options.logger)));
    this.#lock.release();
    const killed = results.filter((result) => result === 'killed').length;
    if (killed > 0) throw new Error(`${killed} shard(s) did not stop within ${grace} ms and were killed`);
  }

  #watch(shard: Shard): void {
    const { logger } = this.#options;
    // mode 'process': each shard is a ChildProcess, never a Worker.
    shard.on('spawn', (child) => logger.info({ shardId: shard.id, pid: (child as ChildProcess).pid }, 'shard started'));
    shard.on('ready', () => logger.info({ shardId: shard.id }, 'shard ready'));
    shard.on('death', (died) => {
      const child = died as ChildProcess;
      const stopping = this.#stopping !== undefined;
      logger[stopping ? 'info' : 'error'](
        { shardId: shard.id, pid: child.pid, exitCode: child.exitCode, signal: child.signalCode, respawn: this.#manager.respawn },
        stopping ? 'shard stopped' : 'shard exited',
      );
    });
    shard.on('error', (error: unknown) => logger.error({ shardId: shard.id, err: error }, 'shard could not be respawned'));
  }
}

async function stopShard(shard: Shard, signal: NodeJS.Signals, graceMs: number, logger: Logger): Promise<'stopped' | 'killed' | 'gone'> {
  const child = shard.process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return 'gone';
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = sleep(graceMs, 'late' as const, { ref: false });
  if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'exited') return 'stopped';
  logger.warn({ shardId: shard.id, pid: child.pid, graceMs }, 'shard did not stop in time; killing it');
  child.kill('SIGKILL');
  await exited;
  return 'killed';
}
