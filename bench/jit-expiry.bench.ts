/**
 * 100,000 expired JIT grants in a real SQLite file: how long the janitor takes to revoke and queue them, how long
 * it holds the event loop at a stretch (what a command arriving meanwhile would wait), and how fast the queued
 * notices drain through an instant notifier.
 */
import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AuditLog } from '../src/audit/audit-log.js';
import { openDatabase } from '../src/db/index.js';
import { GrantRepository } from '../src/jit/grant-repository.js';
import { JitExpiryJob } from '../src/janitor/jit-expiry-job.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import type { JitAuditEntry, JitAuditSink } from '../src/jit/ports.js';
import type { Notice, Notifier } from '../src/notify/notifier.js';
import type { Clock } from '../src/shared/clock.js';
import { describeMachine, fmtCount, fmtMs, machineInfo, measureSlices, type Benchmark, type BenchmarkResult } from './harness.js';

const EXPIRED = 100_000;
const ACTIVE = 20_000;
const GUILDS = 100;
const SLICE_BUDGET_MS = 5;
const NOTICE_BATCH = 100;

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

/** An audit sink with the optional bulk method: what AuditLog.record costs per entry, minus drizzle's query building. */
class PreparedAuditWriter implements JitAuditSink {
  private readonly insert: Database.Statement;
  constructor(
    sqlite: Database.Database,
    private readonly clock: Clock,
  ) {
    this.insert = sqlite.prepare(
      'INSERT INTO audit_log (guild_id, user_id, action, target, outcome, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
  }
  record(entry: JitAuditEntry): void {
    this.recordMany([entry]);
  }
  recordMany(entries: JitAuditEntry[]): void {
    const now = this.clock.now();
    for (const e of entries) {
      this.insert.run(e.guildId, e.userId, e.action, e.target ?? null, e.outcome, JSON.stringify(e.details ?? {}), now);
    }
  }
}

function snowflake(base: bigint, i: number): string {
  return String(base + BigInt(i));
}

async function run(): Promise<BenchmarkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-bench-'));
  const handle = openDatabase(join(dir, 'bench.db'));
  try {
    const machine = describeMachine(machineInfo());
    const now = Date.UTC(2026, 0, 1, 12);
    const clock: Clock = { now: () => now };

    const insert = handle.sqlite.prepare(
      `INSERT INTO jit_permissions (user_id, guild_id, provider, permission_level, granted_at, expires_at, granted_by)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const providers = ['gcp', 'aws', 'azure', 'all'] as const;
    const levels = ['viewer', 'deployer', 'admin'] as const;
    const insertStarted = performance.now();
    handle.sqlite.transaction(() => {
      for (let i = 0; i < EXPIRED + ACTIVE; i++) {
        const expired = i < EXPIRED;
        const grantedAt = now - 8 * 3_600_000 + (i % 3_600) * 1_000;
        // Expired ones ended up to ~1 hour ago (a downtime's worth); active ones end within the next hours.
        const expiresAt = expired ? now - 1 - (i % 3_600_000) : now + 60_000 + (i % 28_800_000);
        insert.run(
          snowflake(700000000000000000n, i),
          snowflake(100000000000000000n, i % GUILDS),
          providers[i % providers.length],
          levels[i % levels.length],
          grantedAt,
          expiresAt,
          '222222222222222222',
        );
      }
    })();
    const insertMs = performance.now() - insertStarted;

    const dueQuery = 'SELECT id FROM jit_permissions WHERE revoked = 0 AND expires_at <= ? LIMIT ?';
    const plan = (handle.sqlite.prepare(`EXPLAIN QUERY PLAN ${dueQuery}`).all(now, 100) as Array<{ detail: string }>)
      .map((row) => row.detail)
      .join('; ');
    if (!/USING (COVERING )?INDEX jit_expiry_due/.test(plan)) throw new Error(`the due query does not use jit_expiry_due: ${plan}`);
    const pendingPlan = (
      handle.sqlite
        .prepare("EXPLAIN QUERY PLAN SELECT id FROM jit_permissions WHERE notice_status = 'pending' AND id > ? ORDER BY id LIMIT ?")
        .all(0, NOTICE_BATCH) as Array<{ detail: string }>
    )
      .map((row) => row.detail)
      .join('; ');

    const notifier = new InstantNotifier();
    const audit = new AuditLog(handle.db, clock);
    const grants = new GrantRepository(handle);
    const job = new JitExpiryJob({
      grants,
      clock,
      audit,
      notifier,
      policies: new PolicyService(handle.db, PriceCatalogue.load(), clock),
      sliceBudgetMs: SLICE_BUDGET_MS,
      noticeBatchSize: NOTICE_BATCH,
      maxNoticesPerTick: Number.POSITIVE_INFINITY,
    });

    const revoke = await measureSlices(() => job.revokeDue());
    const count = (sql: string) => (handle.sqlite.prepare(sql).get() as { n: number }).n;
    const pending = count("SELECT count(*) AS n FROM jit_permissions WHERE notice_status = 'pending'");
    const audited = count("SELECT count(*) AS n FROM audit_log WHERE action = 'jit.expire'");
    const stillActive = count('SELECT count(*) AS n FROM jit_permissions WHERE revoked = 0');
    if (revoke.result !== EXPIRED || pending !== EXPIRED || audited !== EXPIRED || stillActive !== ACTIVE) {
      throw new Error(`unexpected counts: revoked ${revoke.result}, pending ${pending}, audited ${audited}, active ${stillActive}`);
    }

    const deliver = await measureSlices(() => job.deliverPendingNotices());
    if (deliver.result.noticesSent !== EXPIRED || notifier.delivered !== EXPIRED) {
      throw new Error(`unexpected notices: ${JSON.stringify(deliver.result)}, delivered ${notifier.delivered}`);
    }
    const idle = await measureSlices(() => job.run());

    // The same revocation again, with audit entries written by one prepared statement per batch (recordMany):
    // how much of the revoke time is the audit log's per-entry cost.
    handle.sqlite.prepare('UPDATE jit_permissions SET revoked = 0, revoked_at = NULL, revoke_reason = NULL, notice_status = NULL WHERE id <= ?').run(EXPIRED);
    handle.sqlite.prepare('DELETE FROM audit_log').run();
    const batchedJob = new JitExpiryJob({
      grants,
      clock,
      audit: new PreparedAuditWriter(handle.sqlite, clock),
      notifier,
      policies: { get: () => ({ maxJitMinutes: 480 }) },
      sliceBudgetMs: SLICE_BUDGET_MS,
    });
    const batchedRevoke = await measureSlices(() => batchedJob.revokeDue());
    if (batchedRevoke.result !== EXPIRED) throw new Error(`batched audit run revoked ${batchedRevoke.result}`);

    const rows: Array<[string, string]> = [
      ['Grants in the table', `${fmtCount(EXPIRED)} expired + ${fmtCount(ACTIVE)} active, ${GUILDS} guilds`],
      ['Bulk insert (one transaction)', fmtMs(insertMs)],
      [
        `Revoke + queue notice + audit entry (AuditLog.recordMany), all ${fmtCount(EXPIRED)} (batches sized to a ${SLICE_BUDGET_MS} ms slice)`,
        `${fmtMs(revoke.ms)} (${fmtCount(EXPIRED / (revoke.ms / 1000))} grants/s)`,
      ],
      [
        'Longest synchronous slice while revoking',
        `${fmtMs(revoke.slices.maxMs)} wall, ${fmtMs(revoke.slices.maxCpuMs)} CPU (p99 ${fmtMs(revoke.slices.p99Ms)}, median ${fmtMs(revoke.slices.p50Ms)})`,
      ],
      ['Event-loop delay max while revoking (monitorEventLoopDelay)', fmtMs(revoke.slices.loopDelayMaxMs)],
      ['Longest garbage-collection pause while revoking', fmtMs(revoke.slices.gcMaxMs)],
      [
        'Same revocation, audit entries by a raw prepared statement (the floor for the audit cost)',
        `${fmtMs(batchedRevoke.ms)} (${fmtCount(EXPIRED / (batchedRevoke.ms / 1000))} grants/s); longest slice ` +
          `${fmtMs(batchedRevoke.slices.maxMs)} wall, ${fmtMs(batchedRevoke.slices.maxCpuMs)} CPU (p99 ${fmtMs(batchedRevoke.slices.p99Ms)})`,
      ],
      [
        `Deliver ${fmtCount(EXPIRED)} notices, instant notifier (yielding every ${SLICE_BUDGET_MS} ms)`,
        `${fmtMs(deliver.ms)} (${fmtCount(EXPIRED / (deliver.ms / 1000))} notices/s)`,
      ],
      [
        'Longest synchronous slice while delivering',
        `${fmtMs(deliver.slices.maxMs)} wall, ${fmtMs(deliver.slices.maxCpuMs)} CPU (p99 ${fmtMs(deliver.slices.p99Ms)}, median ${fmtMs(deliver.slices.p50Ms)})`,
      ],
      ['Event-loop delay max while delivering', fmtMs(deliver.slices.loopDelayMaxMs)],
      ['Longest garbage-collection pause while delivering', fmtMs(deliver.slices.gcMaxMs)],
      ['A tick with nothing due', fmtMs(idle.ms)],
    ];
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
      'callbacks standing in for incoming commands: the longest slice is the longest a command would have waited.',
      'The janitor yields (`await setImmediate`) after every batch; each revoke batch is one transaction holding the',
      'UPDATE ... RETURNING and its audit entries, sized from the measured cost per row so that it takes about the slice',
      'budget (between 5 and 1,000 rows). Notice delivery yields whenever the budget is used up. Much of the revoke',
      'time is the audit log: the janitor writes each batch\'s entries with `AuditLog.recordMany` (one multi-row insert',
      'per batch, entries validated and sanitised); the "raw prepared statement" row shows what is left to gain.',
      'The median slice sits at the budget. The longest are outliers: the OS running other processes on this shared',
      '2-core machine (wall time well above CPU time), SQLite WAL checkpoints (run by whichever commit crosses the WAL',
      'size threshold, waiting on fsync) and garbage-collection pauses, which any write-heavy path meets. Grants here',
      'are spread over 100 guilds, so each small transaction touches many index pages: that, not the queries, sets the',
      'rate (the due and pending queries are index range scans, plans above).',
      'Real notice delivery is paced by Discord (network round trips and rate',
      'limits), not by this loop; the janitor sends at most 1,000 notices per tick by default and leaves the rest pending',
      'for the next ticks, so a backlog never holds up revocation.',
    ].join('\n');
    return { lines, markdown };
  } finally {
    handle.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const jitExpiryBenchmark: Benchmark = {
  id: 'jit-expiry',
  title: 'JIT expiry janitor: 100,000 expired grants',
  run,
};
