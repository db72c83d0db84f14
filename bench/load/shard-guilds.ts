/**
 * Guild ids for a sharded benchmark. Discord sends a guild's events to shard `(id >> 22) % count`; ids that are
 * consecutive (as bench/load/scenarios.ts's default ones are) share their upper bits and so all land on one shard.
 * These ids take consecutive values of `id >> 22` from a multiple of every shard count measured, so guild g goes to
 * shard `g % count` for each of those counts, and each shard of each count gets the same number of guilds.
 */

/** Roughly 2019 in Discord's epoch (ms since 2015): ids of the usual 18 digits. */
const TIMESTAMP_FLOOR = 130_000_000_000n;

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

const leastCommonMultiple = (counts: readonly number[]): number =>
  Number(counts.map(BigInt).reduce((a, b) => (a * b) / gcd(a, b), 1n));

/** The fewest guilds, at least `atLeast`, that every count in `shardCounts` divides evenly. */
export function evenGuildCount(shardCounts: readonly number[], atLeast: number): number {
  const lcm = leastCommonMultiple(shardCounts);
  return lcm * Math.max(1, Math.ceil(atLeast / lcm));
}

/**
 * `guilds` guild ids spread evenly over the shards of every count in `shardCounts`. Throws unless `guilds` is a
 * multiple of every count (otherwise some shard would carry more guilds, and so more load, than the others).
 */
export function guildIdsCoveringShards(shardCounts: readonly number[], guilds: number): string[] {
  if (shardCounts.length === 0 || shardCounts.some((count) => !Number.isInteger(count) || count < 1)) {
    throw new RangeError(`shard counts must be whole numbers from 1, not ${shardCounts.join(', ')}`);
  }
  const uneven = shardCounts.filter((count) => !Number.isInteger(guilds) || guilds < 1 || guilds % count !== 0);
  if (uneven.length > 0) throw new RangeError(`${guilds} guilds do not divide evenly over ${uneven.join(', ')} shards`);
  const lcm = BigInt(leastCommonMultiple(shardCounts));
  const first = ((TIMESTAMP_FLOOR + lcm - 1n) / lcm) * lcm;
  // The low 22 bits (worker, process, increment) play no part in the shard; 1 keeps the ids odd-looking, as real ones.
  return Array.from({ length: guilds }, (_, g) => String(((first + BigInt(g)) << 22n) | 1n));
}
