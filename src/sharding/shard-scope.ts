/**
 * Which guilds a process serves. Discord sends each guild's events (its interactions included) to one shard only,
 * shard `(guild_id >> 22) % shard_count`, so the process running that shard is the one that holds the guild's vault
 * sessions, buttons and runs (its workspace locks and budget holds are database leases, good across processes).
 * Work that is not started by an interaction (the janitor's expiries and notices, the runs a crash left unfinished)
 * is divided the same way, so each row has exactly one owner.
 */

/** One shard out of `count`; a process with no scope (the default single process) serves every guild. */
export interface ShardScope {
  readonly id: number;
  readonly count: number;
}

/** The shard Discord sends a guild's events to (discord.js's ShardClientUtil.shardIdForGuildId computes the same). */
export function shardOfGuild(guildId: string, count: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(count));
}

/** Whether this process serves the guild: always without a scope or with one shard in all. */
export function servesGuild(scope: ShardScope | undefined, guildId: string): boolean {
  if (!scope || scope.count <= 1) return true;
  // Only Discord ids can be sharded; anything else (the console's made-up guild) belongs to shard 0, as in SQL below.
  if (!/^\d{1,20}$/.test(guildId)) return scope.id === 0;
  return shardOfGuild(guildId, scope.count) === scope.id;
}

/**
 * The same test as a SQL condition on `column` (a TEXT guild id), to AND into a WHERE clause: empty when the process
 * serves every guild. SQLite's integers are 64-bit signed and snowflakes stay below 2^63, so the CAST is exact.
 * The numbers are checked integers written into the text: a prepared statement is built once per process.
 */
export function shardCondition(scope: ShardScope | undefined, column = 'guild_id'): string {
  const predicate = shardPredicate(scope, column);
  return predicate === undefined ? '' : ` AND ${predicate}`;
}

/** The bare condition of shardCondition (for a query builder's `and`); undefined when the process serves every guild. */
export function shardPredicate(scope: ShardScope | undefined, column = 'guild_id'): string | undefined {
  if (!scope || scope.count <= 1) return undefined;
  if (!Number.isInteger(scope.id) || !Number.isInteger(scope.count) || scope.id < 0 || scope.id >= scope.count) {
    throw new RangeError(`invalid shard ${scope.id} of ${scope.count}`);
  }
  return `((CAST(${column} AS INTEGER) >> 22) % ${scope.count}) = ${scope.id}`;
}

/**
 * shardCondition for PostgreSQL: a cast to INTEGER is 32 bits there, and a guild id that is not a number (the
 * console's) fails the cast instead of reading as 0, so the id is divided as a numeric, and anything else is shard 0.
 */
export function pgShardCondition(scope: ShardScope | undefined, column = 'guild_id'): string {
  if (shardPredicate(scope, column) === undefined || !scope) return '';
  return ` AND (CASE WHEN ${column} ~ '^[0-9]{1,20}$' THEN mod(div(${column}::numeric, 4194304), ${scope.count}) ELSE 0 END) = ${scope.id}`;
}

/** "shard 1 of 4", for logs and messages. */
export function describeShard(scope: ShardScope): string {
  return `shard ${scope.id} of ${scope.count}`;
}
