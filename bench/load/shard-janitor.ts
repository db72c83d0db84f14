/**
 * Janitor throughput with shards: N JIT grants, spread over the world's guilds (and so over the shards), all expire
 * at one instant while the bot runs; each shard's janitor revokes and notices its own guilds' grants. Measured: the
 * time from that instant until every grant is revoked and until every expiry DM has been accepted, and checked:
 * each holder got exactly one DM, each grant one audit entry, and each shard revoked exactly its own guilds' grants.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NewGrant } from '../../src/jit/grant-repository.js';
import { shardOfGuild } from '../../src/sharding/shard-scope.js';
import { Permission, type FakeDiscordServer } from '../../test/discord-server/index.js';
import type { BenchDatabase, JanitorProgress } from './bench-database.js';

export interface Holder {
  guildId: string;
  userId: string;
}

/** `count` members, one grant each, guild by guild in turn (so each shard holds its guilds' share). */
export function grantHolders(guildIds: readonly string[], count: number): Holder[] {
  return Array.from({ length: count }, (_, k) => ({ guildId: guildIds[k % guildIds.length] as string, userId: String(510000000000000000n + BigInt(k + 1)) }));
}

/** The holders as members of their guilds: Discord opens a DM only with a user it knows. */
export async function addHolders(server: FakeDiscordServer, holders: readonly Holder[]): Promise<void> {
  for (const [k, holder] of holders.entries()) {
    await server.addMember(holder.guildId, { id: holder.userId, username: `holder-${k}`, permissions: Permission.ViewChannel });
  }
}

export interface JanitorFigures {
  grants: number;
  /** From the instant the grants expired (a janitor tick: every second here) until all were revoked / noticed. */
  revokedMs: number;
  noticedMs: number;
  /** The benchmark process's CPU (the local Discord server taking the DMs), % of one core, until all were noticed. */
  benchCpuPct: number;
  /** Grants each shard's janitor logged as expired, by shard id. */
  expiredByShard: number[];
  /** Empty when every check held; otherwise what did not. */
  problems: string[];
}

const EXPIRED_TITLE = 'JIT permission expired';

/** The shards' `janitor tick` log lines: how many grants each shard expired. */
function expiredByShard(logFile: string, shards: number): number[] {
  const expired = Array.from({ length: shards }, () => 0);
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"janitor tick"')) continue;
    try {
      const entry = JSON.parse(line) as { shard?: unknown; 'jit-expiry.expired'?: unknown };
      if (typeof entry.shard === 'number' && typeof entry['jit-expiry.expired'] === 'number') expired[entry.shard]! += entry['jit-expiry.expired'];
    } catch {
      // a line cut by a crash: not a tick
    }
  }
  return expired;
}

interface Run {
  server: FakeDiscordServer;
  database: BenchDatabase;
  holders: readonly Holder[];
  shards: number;
  /** The bot's log (every shard's JSON lines). */
  logFile: string;
  timeoutMs?: number;
}

export async function measureJanitor({ server, database, holders, shards, logFile, timeoutMs = 120_000 }: Run): Promise<JanitorFigures> {
  server.forgetHistory();
  // They expire on a whole second, when every shard's janitor ticks, at least a second after the insert: the figure
  // is the janitors' work, not the wait for their next tick. Five minutes long: too short for a reminder (10 min).
  const expiresAt = Math.ceil((Date.now() + 1_500) / 1000) * 1000;
  const grants: NewGrant[] = holders.map((holder) => ({
    guildId: holder.guildId,
    userId: holder.userId,
    provider: 'aws',
    level: 'deployer',
    reason: 'shards benchmark',
    grantedAt: expiresAt - 5 * 60_000,
    expiresAt,
    grantedBy: '222222222222222222',
  }));
  await database.insertGrants(grants);
  await sleep(Math.max(0, expiresAt - Date.now()));
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let revokedMs = Number.NaN;
  let progress: JanitorProgress = { grants: 0, revoked: 0, noticed: 0, notNoticed: 0, audited: 0 };
  while (performance.now() - started < timeoutMs) {
    progress = await database.janitorProgress();
    if (Number.isNaN(revokedMs) && progress.revoked >= grants.length) revokedMs = performance.now() - started;
    if (progress.noticed + progress.notNoticed >= grants.length) break;
    await sleep(20);
  }
  const noticedMs = progress.noticed >= grants.length ? performance.now() - started : Number.NaN;
  const cpu = process.cpuUsage(cpuBefore);
  const benchCpuPct = (100 * (cpu.user + cpu.system)) / 1000 / (performance.now() - started);

  const problems: string[] = [];
  if (progress.revoked !== grants.length) problems.push(`${progress.revoked} of ${grants.length} revoked within ${timeoutMs / 1000} s`);
  if (progress.noticed !== grants.length) problems.push(`${progress.noticed} of ${grants.length} DMs sent (${progress.notNoticed} given up or sent elsewhere)`);
  if (progress.audited !== grants.length) problems.push(`${progress.audited} audit entries for ${grants.length} expiries`);
  // A second later: a repeated DM or a second revocation would have been sent by the shards' next ticks.
  await sleep(2_000);
  const dms = holders.map((holder) => server.dmsTo(holder.userId));
  const notOnce = dms.filter((messages) => messages.length !== 1 || !JSON.stringify(messages[0]?.embeds).includes(EXPIRED_TITLE)).length;
  if (notOnce > 0) problems.push(`${notOnce} holders did not get exactly one "${EXPIRED_TITLE}" DM`);
  const expected = Array.from({ length: shards }, (_, shard) => holders.filter((holder) => shardOfGuild(holder.guildId, shards) === shard).length);
  // Shards write their log in batches: their last lines arrive a moment after the work.
  let byShard = expiredByShard(logFile, shards);
  for (let wait = 0; wait < 50 && byShard.some((count, shard) => count !== expected[shard]); wait++) {
    await sleep(100);
    byShard = expiredByShard(logFile, shards);
  }
  if (byShard.some((count, shard) => count !== expected[shard])) problems.push(`shards expired ${byShard.join('/')}, their guilds hold ${expected.join('/')}`);
  return { grants: grants.length, revokedMs, noticedMs, benchCpuPct, expiredByShard: byShard, problems };
}
