const DISCORD_EPOCH = 1_420_070_400_000n;

/**
 * Makes Discord snowflakes: discord.js derives message timestamps from ids, so ids must carry a plausible time.
 * The 12-bit increment keeps ids unique within one millisecond.
 */
export class SnowflakeGenerator {
  private increment = 0n;

  next(): string {
    const timestamp = BigInt(Date.now()) - DISCORD_EPOCH;
    this.increment = (this.increment + 1n) & 0xfffn;
    return ((timestamp << 22n) | (1n << 17n) | this.increment).toString();
  }
}

/** The shard a guild's events go to, as Discord and discord.js's ShardClientUtil.shardIdForGuildId compute it. */
export function shardOfGuild(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}
