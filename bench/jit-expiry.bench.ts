/**
 * 100,000 and 1,000,000 expired JIT grants in a real SQLite file: how long the janitor takes to revoke, audit and
 * queue them, how long it holds the event loop at a stretch (what a command arriving meanwhile would wait, against
 * the 50 ms target), and how fast the queued notices drain through an instant notifier.
 * `--nice=-10` runs it ahead of the machine's other work (on a shared machine, as the bot would run ahead of engines).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { openDatabase, type DatabaseHandle } from '../src/db/index.js';
import { WalCheckpointer } from '../src/db/wal-checkpointer.js';
import { SqliteGrantRepository, SqliteGrants } from '../src/jit/sqlite-grant-repository.js';
import { JitExpiryJob } from '../src/janitor/jit-expiry-job.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import type { Notice, Notifier, PostedMessage } from '../src/notify/notifier.js';
import type { Clock } from '../src/shared/clock.js';
import { describeMachine, flagValue, fmtCount, fmtMs, machineInfo, raisePriority, type Benchmark, type BenchmarkResult } from './harness.js';

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
  async sendToChannel(channelId: string, _notice: Notice): Promise<PostedMessage> {
    this.delivered += 1;
    return { channelId, messageId: String(this.delivered) };
  }
  async editChannelMessage(_message: PostedMessage, _notice: Notice): Promise<void> {
    this.delivered += 1;
  }
  async channelInGuild(): Promise<boolean> {
    return true;
  }
  async guildName(guildId: string): Promise<string> {
    return `Guild ${guildId.slice(-3)}`;
  }
}

/** The calling thread's time on a CPU and waiting in the run queue for one, in ms (Linux); undefined elsewhere. */
function threadSchedule(): { onCpuMs: number; queuedMs: number } | undefined {
  try {
    const [onCpu, queued] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return onCpu === undefined || queued === undefined ? undefined : { onCpuMs: onCpu / 1e6, queuedMs: queued / 1e6 };
  } catch {
    return undefined;
  }
}

interface Batch {
  grants: number;
  wallMs: number;
  /** Of the wall time: on a CPU (user and kernel), and ready but waiting for one (other processes ran). */
  onCpuMs: number;
  queuedMs: number;
}

/**
 * The real repository, each revoke batch timed on the bot's thread: how long it held the event loop, and of that
 * how long the thread ran, waited for a CPU, or was blocked (the rest: the disk, a lock), so that a long batch can
 * be told apart from a machine busy with other processes.
 */
class TimedGrants extends SqliteGrants {
  readonly batches: Batch[] = [];

  override expireDue(now: number, limit: number): number {
    const before = threadSchedule();
    const started = performance.now();
    const revoked = super.expireDue(now, limit);
    const wallMs = performance.now() - started;
    const after = threadSchedule();
    if (before && after) this.batches.push({ grants: revoked, wallMs, onCpuMs: after.onCpuMs - before.onCpuMs, queuedMs: after.queuedMs - before.queuedMs });
    return revoked;
  }
}

function batchText(batches: readonly Batch[]): string {
  if (batches.length === 0) return 'not measured (no /proc/thread-self/schedstat)';
  const longest = batches.reduce((a, b) => (b.wallMs > a.wallMs ? b : a));
  const over = batches.filter((b) => b.wallMs > STALL_TARGET_MS);
  const mostCpu = Math.max(...batches.map((b) => b.onCpuMs));
  const grants = [...batches.map((b) => b.grants)].sort((a, b) => a - b)[Math.floor(batches.length / 2)] ?? 0;
  const blocked = longest.wallMs - longest.onCpuMs - longest.queuedMs;
  return (
    `${fmtCount(batches.length)} batches (median ${fmtCount(grants)} grants); the longest ${fmtMs(longest.wallMs)}: ` +
    `${fmtMs(longest.onCpuMs)} on a CPU, ${fmtMs(longest.queuedMs)} waiting for one, ${fmtMs(Math.max(0, blocked))} blocked; ` +
    `${over.length} over ${STALL_TARGET_MS} ms; most CPU in one batch ${fmtMs(mostCpu)}`
  );
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

interface Measured<T> {
  result: T;
  ms: number;
  /** Process CPU (every thread: the checkpoint worker's included), in ms. */
  cpuMs: number;
  /** monitorEventLoopDelay at 1 ms resolution: how late the loop ran a timer, at worst and at p99, in ms. */
  delayMaxMs: number;
  delayP99Ms: number;
  /** Longest garbage-collection pause meanwhile, in ms. */
  gcMaxMs: number;
}

/**
 * Runs `work` watching the event loop with `monitorEventLoopDelay`, the measure the issue names. Unlike a chain of
 * setImmediate probes it costs nothing while the janitor waits for a checkpoint, so it neither burns a core the
 * checkpoint worker needs nor inflates the CPU figure.
 */
async function measure<T>(work: () => Promise<T>): Promise<Measured<T>> {
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, entry.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  delay.disable();
  await new Promise((resolve) => setImmediate(resolve)); // the last GC entries arrive asynchronously
  gc.disconnect();
  return { result, ms, cpuMs: (used.user + used.system) / 1000, delayMaxMs: delay.max / 1e6, delayP99Ms: delay.percentile(99) / 1e6, gcMaxMs };
}

function delayText(measured: Measured<unknown>): string {
  return `max ${fmtMs(measured.delayMaxMs)}, p99 ${fmtMs(measured.delayP99Ms)}; longest GC pause ${fmtMs(measured.gcMaxMs)}`;
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
    const timed = new TimedGrants(handle);
    const grants = new SqliteGrantRepository(timed);
    const job = new JitExpiryJob({
      grants,
      clock,
      notifier,
      policies: new PolicyService(sqliteDataAccess(handle), PriceCatalogue.load(), clock),
      noticeBatchSize: NOTICE_BATCH,
      maxNoticesPerTick: Number.POSITIVE_INFINITY,
      checkpoint: () => checkpointer.checkpoint(),
    });

    const loadAtStart = machineInfo().loadAverage;
    const revoke = await measure(() => job.revokeDue());
    const loadAtEnd = machineInfo().loadAverage;
    const count = (sql: string) => (handle.sqlite.prepare(sql).get() as { n: number }).n;
    const pending = count("SELECT count(*) AS n FROM jit_permissions WHERE notice_status = 'pending'");
    const audited = count("SELECT count(*) AS n FROM audit_log WHERE action = 'jit.expire'");
    const stillActive = count('SELECT count(*) AS n FROM jit_permissions WHERE revoked = 0');
    if (revoke.result !== expired || pending !== expired || audited !== expired || stillActive !== ACTIVE) {
      throw new Error(`unexpected counts: revoked ${revoke.result}, pending ${pending}, audited ${audited}, active ${stillActive}`);
    }
    const target = TARGETS[expired];
    const label = fmtCount(expired);
    const rows: Array<[string, string]> = [
      [`${label}: grants in the table`, `${label} expired + ${fmtCount(ACTIVE)} active, ${GUILDS} guilds (inserted in ${fmtMs(insertMs)})`],
      [
        `${label}: revoke + audit entry + queued notice, all of them`,
        `${fmtMs(revoke.ms)} (${fmtCount(expired / (revoke.ms / 1000))} grants/s; process CPU ${fmtMs(revoke.cpuMs)})` +
          (target ? `; target ≤ ${fmtMs(target)}: ${verdict(revoke.ms <= target)}` : '') +
          `; load average ${loadAtStart} → ${loadAtEnd}`,
      ],
      [`${label}: event-loop delay while revoking`, `${delayText(revoke)}; target ≤ ${STALL_TARGET_MS} ms: ${verdict(revoke.delayMaxMs <= STALL_TARGET_MS)}`],
      [`${label}: revoke batches on the bot's thread`, batchText(timed.batches)],
    ];
    if (deliver) {
      const delivered = await measure(() => job.deliverPendingNotices());
      if (delivered.result.noticesSent !== expired || notifier.delivered !== expired) {
        throw new Error(`unexpected notices: ${JSON.stringify(delivered.result)}, delivered ${notifier.delivered}`);
      }
      const idle = await measure(() => job.run());
      rows.push(
        [`${label}: deliver every notice, instant notifier`, `${fmtMs(delivered.ms)} (${fmtCount(expired / (delivered.ms / 1000))} notices/s; process CPU ${fmtMs(delivered.cpuMs)})`],
        [`${label}: event-loop delay while delivering`, delayText(delivered)],
        [`${label}: a tick with nothing due`, fmtMs(idle.ms)],
      );
    }
    return rows;
  } finally {
    await checkpointer.close();
    handle.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(flags: readonly string[]): Promise<BenchmarkResult> {
  const nice = Number(flagValue(flags, 'nice') ?? 0);
  if (nice !== 0) raisePriority(nice);
  const machine = describeMachine(machineInfo()) + (nice !== 0 ? `; the benchmark ran at nice ${nice}, ahead of the machine's other work` : '');
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
    'The event-loop delay is `monitorEventLoopDelay` at 1 ms resolution: how late the loop got to a timer, so its',
    'maximum is the longest a command arriving meanwhile would have waited. Each revoke batch is one transaction of',
    'two set-based statements: `INSERT INTO audit_log … SELECT` the due grants, then `UPDATE` the same grants to',
    'revoked with their notice queued; no row passes through JavaScript. Batches are sized from the measured cost',
    'per grant to take about 20 ms of the thread\'s own time (100 to 5,000 grants; waiting for a CPU behind other',
    'processes is left out, as smaller batches would not wait less), and the janitor yields to the event loop between them.',
    'Whenever it has written about 5,000 WAL frames (estimated per commit and per grant from what the last checkpoint',
    'reported), and at the end, it waits (without holding the loop) for a passive WAL checkpoint on a worker thread,',
    "so the WAL stays below the 10,000 pages at which the bot's own connection would checkpoint (copy and fsync) on",
    'the event loop. Statement journals are kept in memory (`temp_store = MEMORY`), not in a temporary file per batch.',
    'A batch\'s time is split with the thread\'s own scheduler counters (`/proc/thread-self/schedstat`): on a CPU (our',
    'work, user and kernel), waiting in the run queue (other processes had the CPU), and blocked (the rest: disk, locks).',
    'A stall of the event loop longer than any batch\'s CPU time is the machine, not the janitor.',
    '"Process CPU" counts every thread of the process, the checkpoint worker included. Wall time far above CPU time',
    'is the OS giving the CPU to other processes on this shared 2-core machine (see the load average above).',
    'Real notice delivery is paced by Discord (round trips and rate limits), not by this loop; the janitor sends at',
    'most 1,000 notices per tick by default and leaves the rest for the next ticks.',
  ].join('\n');
  return { lines, markdown };
}

export const jitExpiryBenchmark: Benchmark = {
  id: 'jit-expiry',
  title: 'JIT expiry janitor: 100,000 and 1,000,000 expired grants',
  run,
};
