/**
 * 100,000 deployments with a time to live in a real SQLite file: what the janitor's TTL jobs cost each tick. The
 * reminder job (queue the reminders due, deliver a tick's worth through an instant notifier) and the expiry job (find
 * the deployments due and claim their destroys; the destroy itself is the engine's time, not measured here), each
 * with the event-loop delay it causes, and a tick with nothing due, the cost paid every minute.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { openDatabase, type DatabaseHandle } from '../src/db/index.js';
import { TtlExpiryJob } from '../src/janitor/ttl-expiry-job.js';
import { TtlReminderJob } from '../src/janitor/ttl-reminder-job.js';
import type { Notice, Notifier, PostedMessage } from '../src/notify/notifier.js';
import type { TtlDestroyer } from '../src/ttl/ttl-destroyer.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { ttlReminderRepositoryFor } from '../src/ttl/ttl-reminder-repository.js';
import { ttlRepositoryFor, type TtlDeployment, type TtlRepository } from '../src/ttl/ttl-repository.js';
import { describeMachine, fmtCount, fmtMs, machineInfo, type Benchmark, type BenchmarkResult } from './harness.js';

const ROWS = Number(process.env.TTL_BENCH_ROWS ?? 100_000);
const GUILDS = 100;
const NOW = Date.UTC(2026, 0, 1, 12);
const HOUR = 3_600_000;
const LEADS = [24 * HOUR, HOUR];

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

/** One project per guild; `rows` active deployments ending `endsIn(i)` from NOW, their clocks started 3 days earlier. */
function insertDeployments(handle: DatabaseHandle, rows: number, endsIn: (i: number) => number): number {
  const started = performance.now();
  const project = handle.sqlite.prepare(
    `INSERT INTO cloud_projects (guild_id, name, slug, provider, region, created_by, created_at, updated_at)
     VALUES (?, ?, ?, 'gcp', 'us-central1', '222222222222222222', ?, ?)`,
  );
  const resource = handle.sqlite.prepare(
    `INSERT INTO cloud_resources (project_id, guild_id, name, resource_type, template, status, created_by, created_at, updated_at,
                                  ttl_ms, expires_at, ttl_set_at)
     VALUES (?, ?, ?, 'bucket', 'bucket', 'active', ?, ?, ?, ?, ?, ?)`,
  );
  handle.sqlite.transaction(() => {
    const ids: number[] = [];
    for (let g = 0; g < GUILDS; g++) ids.push(Number(project.run(String(100000000000000000n + BigInt(g)), `p${g}`, `p${g}`, NOW, NOW).lastInsertRowid));
    for (let i = 0; i < rows; i++) {
      const g = i % GUILDS;
      const end = NOW + endsIn(i);
      const setAt = end - 3 * 24 * HOUR;
      resource.run(ids[g], String(100000000000000000n + BigInt(g)), `b${i}`, String(700000000000000000n + BigInt(i)), setAt, setAt, 3 * 24 * HOUR, end, setAt);
    }
  })();
  handle.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  return performance.now() - started;
}

/**
 * Wall time of `work`, and the event-loop delay meanwhile (monitorEventLoopDelay at 1 ms: it records only when the
 * loop turns, so for a tick that never yields it reads 0 and the tick's whole time is how long it held the loop).
 */
async function measure<T>(work: () => Promise<T> | T): Promise<{ result: T; ms: number; delayMaxMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  const result = await work();
  const ms = performance.now() - started;
  delay.disable();
  return { result, ms, delayMaxMs: delay.max / 1e6 };
}

/** The destroyer's part the jobs call: subjects without a project lookup, every deployment destroyable, no engine. */
function stubDestroyer(ttls: TtlRepository): Pick<TtlDestroyer, 'subject' | 'cannotDestroy' | 'start' | 'isRunning' | 'deliverNotice'> & { started: number } {
  const stub = {
    started: 0,
    subject: async (row: TtlDeployment) => ({ subject: { resourceId: row.id, guildId: row.guildId, template: row.template, projectName: 'p', deployerId: row.createdBy, expiresAt: row.expiresAt ?? 0 }, project: {} as never }),
    cannotDestroy: () => Promise.resolve(undefined),
    isRunning: () => false,
    deliverNotice: async () => true,
    // As TtlDestroyer.start: the try is claimed on the row (the next one pushed back) before the destroy starts, and
    // the start does not wait for it (on SQLite the claim's statement runs within the call all the same).
    start: (row: TtlDeployment) => {
      void ttls.claim(row.id, NOW, NOW + 5 * 60_000).then((claimed) => {
        if (claimed) stub.started += 1;
      });
      return true;
    },
  };
  return stub;
}

function withDatabase<T>(work: (handle: DatabaseHandle) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-ttl-bench-'));
  const handle = openDatabase(join(dir, 'bench.db'));
  return work(handle).finally(() => {
    handle.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

function plan(handle: DatabaseHandle, sql: string, params: Record<string, unknown>): string {
  return (handle.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((row) => row.detail).join('; ');
}

async function run(): Promise<BenchmarkResult> {
  const machine = describeMachine(machineInfo());
  const label = fmtCount(ROWS);
  const rows: Array<[string, string]> = [];
  const clock = { now: () => NOW };
  const policies = { get: async () => ({ notificationChannelId: '400000000000000099' }) };

  // Reminders: every deployment ends within the next hour (its 1 h reminder due), none reminded yet.
  await withDatabase(async (handle) => {
    const insertMs = insertDeployments(handle, ROWS, (i) => 60_000 + (i % (59 * 60)) * 1_000);
    const ttls = ttlRepositoryFor(sqliteDataAccess(handle).session);
    const reminders = ttlReminderRepositoryFor(sqliteDataAccess(handle).session);
    const notifier = new InstantNotifier();
    const job = new TtlReminderJob({ reminders, ttls, destroyer: stubDestroyer(ttls), policies, notifier, clock, leadsMs: LEADS });
    const tick = await measure(() => job.run());
    const queueAll = await measure(() => reminders.enqueueDue(NOW, LEADS, ROWS * 2));
    const queued = (handle.sqlite.prepare('SELECT count(*) AS n FROM deployment_ttl_reminders').get() as { n: number }).n;
    if (queued !== ROWS) throw new Error(`expected ${ROWS} reminders queued, found ${queued}`);
    const enqueuePlan = plan(handle, 'SELECT r.id FROM cloud_resources r WHERE r.expires_at IS NOT NULL AND r.expired_at IS NULL AND r.expires_at > @now AND r.expires_at <= @now + @lead AND +r.status = \'active\' ORDER BY r.expires_at LIMIT 10', { now: NOW, lead: HOUR });
    rows.push(
      [`reminders: ${label} deployments ending within the hour`, `${GUILDS} guilds (inserted in ${fmtMs(insertMs)})`],
      [`reminders: one tick (queues 1,000, delivers 500 by DM + channel)`, `${fmtMs(tick.ms)}; counts ${JSON.stringify(tick.result)}; event-loop delay max ${fmtMs(tick.delayMaxMs)} (it yields every 100 reminders)`],
      [`reminders: queue all ${label} at once (one statement per lead)`, `${fmtMs(queueAll.ms)} (${fmtCount(ROWS / (queueAll.ms / 1000))} reminders/s)`],
      [`reminders: enqueue scan plan`, enqueuePlan],
    );
  });

  // Expiry: every deployment's time is up; then a tick with nothing due (all claimed, next tries later).
  await withDatabase(async (handle) => {
    const insertMs = insertDeployments(handle, ROWS, (i) => -1 - (i % HOUR));
    // As the clock's start leaves them: the first try is due at the end itself.
    handle.sqlite.exec('UPDATE cloud_resources SET ttl_next_attempt_at = expires_at');
    const session = sqliteDataAccess(handle).session;
    const ttls = ttlRepositoryFor(session);
    const destroyer = stubDestroyer(ttls);
    const job = new TtlExpiryJob({ ttls, destroyer, clock });
    const tick = await measure(() => job.run());
    let ticks = 1;
    const drain = await measure(async () => {
      while (destroyer.started < ROWS) {
        await job.run();
        ticks += 1;
      }
    });
    const idle = await measure(() => job.run());
    const reminderIdle = await measure(() =>
      new TtlReminderJob({ reminders: ttlReminderRepositoryFor(session), ttls, destroyer, policies, notifier: new InstantNotifier(), clock, leadsMs: LEADS }).run(),
    );
    rows.push(
      [`expiry: ${label} deployments past their end`, `${GUILDS} guilds (inserted in ${fmtMs(insertMs)})`],
      [`expiry: one tick (finds the due, claims 20 destroys)`, `${fmtMs(tick.ms)} (all of it on the event loop); counts ${JSON.stringify(tick.result)}`],
      [`expiry: claim all ${label}, 20 a tick`, `${fmtMs(drain.ms)} over ${fmtCount(ticks)} ticks (${fmtMs(drain.ms / ticks)} a tick)`],
      [`expiry: a tick with ${label} claimed, nothing due`, `${fmtMs(idle.ms)}; the reminder job beside it: ${fmtMs(reminderIdle.ms)}`],
      [`expiry: due query plan`, plan(handle, 'SELECT id FROM cloud_resources WHERE ttl_next_attempt_at IS NOT NULL AND expired_at IS NULL AND ttl_next_attempt_at <= @now ORDER BY ttl_next_attempt_at LIMIT 40', { now: NOW })],
    );
  });

  const lines = [...rows.map(([k, v]) => `  ${k}: ${v}`), `  Machine: ${machine}`];
  const markdown = [
    `Machine: ${machine}.`,
    '',
    '| Measure | Result |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`),
    '',
    'The TTL jobs run in the janitor tick after the JIT jobs. The reminder job queues at most 1,000 reminders and',
    'delivers at most 500 a tick (an instant notifier here: real delivery is paced by Discord); the expiry job starts',
    'at most 20 destroys a tick without waiting for them (each is an engine run, limited by MAX_CONCURRENT_RUNS), after',
    'claiming each try on its row. Both walk the partial index `cloud_resources_ttl_due` (deployments with an end not',
    'yet expired) and `cloud_resources_ttl_next_try` (when the next try is due: the end, then later by the backoff),',
    'so a tick with nothing due costs the same whatever the number of resources, and deployments waiting for a retry',
    'are not read at each tick. The reminder job yields to the event loop every 100 reminders (with the instant',
    'notifier nothing else would; with Discord every send does). The destroyer is a stand-in here: the project lookup',
    'and credential check each reminder makes (to say when no credential is left), and the destroys themselves, are',
    'not in these figures.',
  ].join('\n');
  return { lines, markdown };
}

export const ttlBenchmark: Benchmark = {
  id: 'ttl',
  title: 'TTL janitor jobs: 100,000 deployments with a time to live',
  run,
};
