/**
 * 100,000 and 1,000,000 expired JIT grants in a real SQLite file: how long the janitor takes to revoke, audit and
 * queue them, how long it holds the event loop at a stretch (what a command arriving meanwhile would wait, against
 * the 50 ms target), and how fast the queued notices drain through an instant notifier.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase, type DatabaseHandle } from '../src/db/index.js';
import { WalCheckpointer } from '../src/db/wal-checkpointer.js';
import { GrantRepository } from '../src/jit/grant-repository.js';
import { JitExpiryJob } from '../src/janitor/jit-expiry-job.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import type { Notice, Notifier } from '../src/notify/notifier.js';
import type { Clock } from '../src/shared/clock.js';
import { describeMachine, fmtCount, fmtMs, machineInfo, measureSlices, type Benchmark, type BenchmarkResult, type SliceReport } from './harness.js';

/** Sizes and their targets from the issue; JIT_BENCH_SIZES=100000 runs only the first. */
const TARGETS: Record<number, number> = { 100_000: 3_000, 1_000_000: 30_000 };
const SIZES = (process.env.JIT_BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
const STALL_TARGET_MS = 50;
const ACTIVE = 20_000;
const GUILDS = 100;
const NOTICE_BATCH = 100;
const NOW = Date.UTC(2026, 0, 1, 12);

/** Accepts every notice at once: the cost measured is ours, not Discord's. */
class InstantNotifier implements Notifier {
  delivered = 0;
  async sendDirect(_userId: string, _notice: Notice): Promise<void> {
    this.delivered += 1;
  }
  async sendToChannel(_channelId: string, _notice: Notice): Promise<void> {
    this.delivered += 1;
  }
  async channelInGuild(): Promise<boolean> {
    return true;
  }
  async guildName(guildId: string): Promise<string> {
    return `Guild ${guildId.slice(-3)}`;
  }
}

function snowflake(base: bigint, i: number): string {
  return String(base + BigInt(i));
}

/** `expired` grants that ran out over the last hour (a downtime's worth) and ACTIVE ones still in force. */
function insertGrants(handle: DatabaseHandle, expired: number): number {
  const insert = handle.sqlite.prepare(
    `INSERT INTO jit_permissions (user_id, guild_id, provider, permission_level, granted_at, expires_at, granted_by)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const providers = ['gcp', 'aws', 'azure', 'all'] as const;
  const levels = ['viewer', 'deployer', 'admin'] as const;
  const started = performance.now();
  handle.sqlite.transaction(() => {
    for (let i = 0; i < expired + ACTIVE; i++) {
      const isExpired = i < expired;
      const grantedAt = NOW - 8 * 3_600_000 + (i % 3_600) * 1_000;
      const expiresAt = isExpired ? NOW - 1 - (i % 3_600_000) : NOW + 60_000 + (i % 28_800_000);
      insert.run(snowflake(700000000000000000n, i), snowflake(100000000000000000n, i % GUILDS), providers[i % 4], levels[i % 3], grantedAt, expiresAt, '222222222222222222');
    }
  })();
  // Start as the bot would find the file after a restart: everything checkpointed, nothing left in the WAL.
  handle.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  return performance.now() - started;
}

function queryPlan(handle: DatabaseHandle, sql: string, ...params: unknown[]): string {
  return (handle.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((row) => row.detail).join('; ');
}

function sliceText(slices: SliceReport): string {
  return `${fmtMs(slices.maxMs)} wall, ${fmtMs(slices.maxCpuMs)} CPU (p99 ${fmtMs(slices.p99Ms)}, median ${fmtMs(slices.p50Ms)}); loop delay max ${fmtMs(slices.loopDelayMaxMs)}; GC max ${fmtMs(slices.gcMaxMs)}`;
}

function verdict(ok: boolean): string {
  return ok ? 'met' : '**not met**';
}

async function scenario(expired: number, deliver: boolean): Promise<Array<[string, string]>> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-bench-'));
  const path = join(dir, 'bench.db');
  const handle = openDatabase(path);
  // As the bot runs: checkpoints on a worker thread (bootstrap.ts).
  const checkpointer = WalCheckpointer.start(path, handle)!;
  try {
    const insertMs = insertGrants(handle, expired);
    const clock: Clock = { now: () => NOW };
    const notifier = new InstantNotifier();
    const job = new JitExpiryJob({
      grants: new GrantRepository(handle),
      clock,
      notifier,
      policies: new PolicyService(handle.db, PriceCatalogue.load(), clock),
      noticeBatchSize: NOTICE_BATCH,
      maxNoticesPerTick: Number.POSITIVE_INFINITY,
      checkpoint: () => checkpointer.checkpoint(),
    });

    const cpuBefore = process.cpuUsage();
    const revoke = await measureSlices(() => job.revokeDue());
    const cpu = process.cpuUsage(cpuBefore);
    const count = (sql: string) => (handle.sqlite.prepare(sql).get() as { n: number }).n;
    const pending = count("SELECT count(*) AS n FROM jit_permissions WHERE notice_status = 'pending'");
    const audited = count("SELECT count(*) AS n FROM audit_log WHERE action = 'jit.expire'");
    const stillActive = count('SELECT count(*) AS n FROM jit_permissions WHERE revoked = 0');
    if (revoke.result !== expired || pending !== expired || audited !== expired || stillActive !== ACTIVE) {
      throw new Error(`unexpected counts: revoked ${revoke.result}, pending ${pending}, audited ${audited}, active ${stillActive}`);
    }
    const target = TARGETS[expired];
    const stall = Math.max(revoke.slices.maxMs, revoke.slices.loopDelayMaxMs);
    const label = fmtCount(expired);
    const rows: Array<[string, string]> = [
      [`${label}: grants in the table`, `${label} expired + ${fmtCount(ACTIVE)} active, ${GUILDS} guilds (inserted in ${fmtMs(insertMs)})`],
      [
        `${label}: revoke + audit entry + queued notice, all of them`,
        `${fmtMs(revoke.ms)} (${fmtCount(expired / (revoke.ms / 1000))} grants/s; process CPU ${fmtMs((cpu.user + cpu.system) / 1000)})` +
          (target ? `; target ≤ ${fmtMs(target)}: ${verdict(revoke.ms <= target)}` : ''),
      ],
      [`${label}: longest synchronous slice while revoking`, `${sliceText(revoke.slices)}; target ≤ ${STALL_TARGET_MS} ms: ${verdict(stall <= STALL_TARGET_MS)}`],
    ];
    if (deliver) {
      const delivered = await measureSlices(() => job.deliverPendingNotices());
      if (delivered.result.noticesSent !== expired || notifier.delivered !== expired) {
        throw new Error(`unexpected notices: ${JSON.stringify(delivered.result)}, delivered ${notifier.delivered}`);
      }
      rows.push(
        [`${label}: deliver every notice, instant notifier`, `${fmtMs(delivered.ms)} (${fmtCount(expired / (delivered.ms / 1000))} notices/s)`],
        [`${label}: longest synchronous slice while delivering`, sliceText(delivered.slices)],
      );
      const idle = await measureSlices(() => job.run());
      rows.push([`${label}: a tick with nothing due`, fmtMs(idle.ms)]);

      // The same revocation again without the probe chain, whose turns cost CPU of their own: the CPU it takes is
      // the figure a machine shared with other processes cannot inflate much.
      handle.sqlite
        .prepare("UPDATE jit_permissions SET revoked = 0, revoked_at = NULL, revoke_reason = NULL, notice_status = NULL, notice_attempts = 0, notified_at = NULL WHERE revoke_reason = 'expired'")
        .run();
      handle.sqlite.prepare('DELETE FROM audit_log').run();
      handle.sqlite.pragma('wal_checkpoint(TRUNCATE)');
      const again = process.cpuUsage();
      const againStarted = performance.now();
      if ((await job.revokeDue()) !== expired) throw new Error('the second revocation revoked another number of grants');
      const againCpu = process.cpuUsage(again);
      rows.push([
        `${label}: the same revocation without the slice probe`,
        `${fmtMs(performance.now() - againStarted)} wall, process CPU ${fmtMs((againCpu.user + againCpu.system) / 1000)}`,
      ]);
    }
    return rows;
  } finally {
    await checkpointer.close();
    handle.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(): Promise<BenchmarkResult> {
  const machine = describeMachine(machineInfo());
  const rows: Array<[string, string]> = [];
  for (const [i, size] of SIZES.entries()) rows.push(...(await scenario(size, i === 0)));

  const probe = openDatabase(':memory:');
  const dueQuery = 'SELECT id FROM jit_permissions WHERE revoked = 0 AND expires_at <= ? ORDER BY expires_at, id LIMIT ?';
  const plan = queryPlan(probe, dueQuery, NOW, 100);
  const pendingPlan = queryPlan(probe, "SELECT id FROM jit_permissions WHERE notice_status = 'pending' AND id > ? ORDER BY id LIMIT ?", 0, NOTICE_BATCH);
  probe.close();
  if (!/USING (COVERING )?INDEX jit_expiry_due/.test(plan) || /TEMP B-TREE/.test(plan)) throw new Error(`the due query does not walk jit_expiry_due: ${plan}`);

  const lines = [...rows.map(([k, v]) => `  ${k}: ${v}`), `  Due query plan: ${plan}`, `  Pending query plan: ${pendingPlan}`, `  Machine: ${machine}`];
  const markdown = [
    `Machine: ${machine}.`,
    '',
    '| Measure | Result |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    `Due query plan (\`${dueQuery}\`): \`${plan}\`.`,
    `Pending-notice query plan: \`${pendingPlan}\`.`,
    '',
    'A "synchronous slice" is the time between two turns of the event loop, measured by a chain of `setImmediate`',
    'callbacks standing in for incoming commands (and by `monitorEventLoopDelay`): the longest slice is the longest',
    'a command would have waited. Each revoke batch is one transaction of two set-based statements: `INSERT INTO',
    'audit_log … SELECT` the due grants, then `UPDATE` the same grants to revoked with their notice queued; no row',
    'passes through JavaScript. Batches are sized from the measured cost per row to take about the slice budget, and',
    'the janitor yields to the event loop between them. Every 100 ms, and at the end, it waits (without holding the',
    'loop) for a passive WAL checkpoint on a worker thread, so the WAL stays small and no commit on the bot\'s thread',
    'meets a big checkpoint and its fsync. "Process CPU" counts every thread of the process: the worker\'s',
    'checkpoints and the probe chain that measures the slices included. Wall time above CPU time is the OS running other processes',
    'on this shared 2-core machine. Real notice delivery is paced by Discord (round trips and rate limits), not by',
    'this loop; the janitor sends at most 1,000 notices per tick by default and leaves the rest for the next ticks.',
  ].join('\n');
  return { lines, markdown };
}

export const jitExpiryBenchmark: Benchmark = {
  id: 'jit-expiry',
  title: 'JIT expiry janitor: 100,000 and 1,000,000 expired grants',
  run,
};
