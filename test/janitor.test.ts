import type Database from 'better-sqlite3';
import { execa } from 'execa';
import { AuditLog } from '../src/audit/audit-log.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../src/db/index.js';
import { Janitor } from '../src/janitor/janitor.js';
import { JitExpiryJob, type JitExpiryJobOptions } from '../src/janitor/jit-expiry-job.js';
import type { JanitorJob } from '../src/janitor/job.js';
import { AdaptiveBatchSize } from '../src/janitor/time-slicer.js';
import { VaultPurgeJob } from '../src/janitor/vault-purge-job.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { jitStore } from '../src/jit/jit-store.js';
import { JitService } from '../src/jit/jit-service.js';
import { createLogger } from '../src/logging/logger.js';
import type { Notice, Notifier, PostedMessage } from '../src/notify/notifier.js';
import { EphemeralVault } from '../src/vault/ephemeral-vault.js';
import { FakeClock } from './support/clock.js';
import { RecordingNotifier } from './support/recording-notifier.js';
import { makeTestDatabase } from './support/tmp.js';
import { shownInDiscord } from './support/shown.js';
import { toMarkdown } from '../src/discord/markdown.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '999999999999999999';
const ADMIN = '222222222222222222';
const BOB = '333333333333333333';
const CAROL = '444444444444444444';
const DAVE = '666666666666666666';
const CHANNEL = '555555555555555555';



interface NoticeRow {
  id: number;
  user_id: string;
  revoked: number;
  revoke_reason: string | null;
  notice_status: string | null;
  notice_attempts: number;
  notice_error: string | null;
}

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

/** Log lines as parsed JSON objects. */
function captureLogs() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { lines, logger };
}

/**
 * One "process": its own connection to the database file, its own notifier and janitor. Two of them over the same
 * file stand for the bot before and after a crash.
 */
function bootProcess(path: string, clock: FakeClock, notifier: Notifier, jobOptions: Partial<JitExpiryJobOptions> = {}) {
  const handle: DatabaseHandle = openDatabase(path);
  cleanups.unshift(handle.close);
  const policies = new PolicyService(sqliteDataAccess(handle), PriceCatalogue.load(), clock);
  const audit = new AuditLog(sqliteDataAccess(handle).session, clock);
  const { lines, logger } = captureLogs();
  const store = jitStore(sqliteDataAccess(handle), { clock });
  const grants = store.outside.grants;
  const jit = new JitService({ store, policies, audit, notifier, clock });
  const expiry = new JitExpiryJob({ grants, clock, notifier, policies, logger, ...jobOptions });
  const janitor = new Janitor({ schedule: '* * * * *', jobs: [expiry], logger, tickOnStart: true });
  cleanups.unshift(() => void janitor.stop());
  const rows = (): NoticeRow[] =>
    handle.sqlite
      .prepare('SELECT id, user_id, revoked, revoke_reason, notice_status, notice_attempts, notice_error FROM jit_permissions ORDER BY id')
      .all() as NoticeRow[];
  return { handle, policies, jit, expiry, janitor, logs: lines, rows };
}

function setup(jobOptions: Partial<JitExpiryJobOptions> = {}) {
  const database = makeTestDatabase();
  database.close(); // each "process" opens its own connection
  cleanups.push(database.cleanup);
  const clock = new FakeClock();
  const notifier = new RecordingNotifier({ [GUILD]: 'ACME Corp', [OTHER_GUILD]: 'Other Corp' });
  const process = bootProcess(database.path, clock, notifier, jobOptions);
  const grant = (userId: string, minutes: number, guildId = GUILD) =>
    process.jit.grant({
      guildId,
      granteeId: userId,
      granteeIsBot: false,
      grantedBy: ADMIN,
      provider: 'aws',
      level: 'deployer',
      durationMinutes: minutes,
    });
  return { ...process, path: database.path, clock, notifier, grant };
}

/** Bulk-inserts grants that expired before `now`, the way a long downtime leaves them. */
function insertExpired(sqlite: Database.Database, count: number, now: number, guildId = GUILD): void {
  const insert = sqlite.prepare(
    `INSERT INTO jit_permissions (user_id, guild_id, provider, permission_level, granted_at, expires_at, granted_by)
     VALUES (?, ?, 'gcp', 'viewer', ?, ?, ?)`,
  );
  sqlite.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(String(700000000000000000n + BigInt(i)), guildId, now - 3_600_000, now - 60_000 - i, ADMIN);
  })();
}

describe('expiry job', () => {
  it('revokes grants past expiry, DMs each member guild, level, provider and duration, and audits each expiry', async () => {
    const { grant, clock, janitor, notifier, rows, handle } = setup();
    await grant(BOB, 120);
    await grant(CAROL, 480);
    notifier.sent.length = 0;
    clock.advanceMinutes(120);

    const report = await janitor.tick();
    expect(report.jobs[0]).toMatchObject({ ok: true, counts: { expired: 1, noticesSent: 1 } });
    expect(rows().map((r) => [r.user_id, r.revoked, r.revoke_reason, r.notice_status])).toEqual([
      [BOB, 1, 'expired', 'sent'],
      [CAROL, 0, null, null],
    ]);
    const [dm] = notifier.dmsTo(BOB);
    expect(toMarkdown(dm?.description ?? '')).toContain('Deployer permission for AWS in server "ACME Corp" has expired');
    expect(shownInDiscord(dm?.fields)).toContain('2 h');
    const audited = await new AuditLog(sqliteDataAccess(handle).session).recent(GUILD, { action: 'jit.expire' });
    expect(audited).toEqual([
      expect.objectContaining({
        userId: 'system',
        action: 'jit.expire',
        target: BOB,
        outcome: 'success',
        createdAt: clock.now(),
        details: { grantId: rows()[0]!.id, provider: 'aws', level: 'deployer', grantedBy: ADMIN, lastedMinutes: 120 },
      }),
    ]);
  });

  it('finds due grants through the jit_expiry_due index and pending notices through jit_notice_pending', () => {
    const { handle } = setup();
    const plan = (sql: string) =>
      (handle.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
    expect(plan('SELECT id FROM jit_permissions WHERE revoked = 0 AND expires_at <= 1 LIMIT 500')).toMatch(/USING (COVERING )?INDEX jit_expiry_due/);
    // The batch's order is the partial index's own: no sort, however many grants are due.
    const due = plan('SELECT id FROM jit_permissions WHERE revoked = 0 AND expires_at <= 1 ORDER BY expires_at, id LIMIT 500');
    expect(due).toMatch(/USING (COVERING )?INDEX jit_expiry_due/);
    expect(due).not.toMatch(/TEMP B-TREE/);
    // A member's permission check reads that member's grants only.
    expect(plan(`SELECT permission_level FROM jit_permissions WHERE guild_id = '1' AND user_id = '2' AND revoked = 0 AND expires_at > 1`)).toMatch(
      /USING INDEX jit_member_active \(guild_id=\? AND user_id=\? AND expires_at>\?\)/,
    );
    expect(plan("SELECT id FROM jit_permissions WHERE notice_status = 'pending' AND id > 0 ORDER BY id LIMIT 100")).toMatch(
      /USING (COVERING )?INDEX jit_notice_pending/,
    );
    expect(plan('SELECT id FROM jit_permissions WHERE notice_status = \'pending\' AND id > 0 ORDER BY id LIMIT 100')).not.toMatch(/TEMP B-TREE/);
  });

  it('works through more grants than one batch holds, and spreads a notice backlog over ticks', async () => {
    const { handle, clock, janitor, notifier, rows } = setup({ revokeBatchSize: 50, noticeBatchSize: 20, maxNoticesPerTick: 300 });
    insertExpired(handle.sqlite, 420, clock.now());

    const first = await janitor.tick();
    expect(first.jobs[0]).toMatchObject({ ok: true, counts: { expired: 420, noticesSent: 300 } });
    expect(rows().every((r) => r.revoked === 1)).toBe(true);
    const second = await janitor.tick();
    expect(second.jobs[0]).toMatchObject({ ok: true, counts: { expired: 0, noticesSent: 120 } });
    expect(notifier.sent).toHaveLength(420);
    expect(new Set(notifier.sent.map((s) => JSON.stringify(s.to))).size).toBe(420);
  });

  it('leaves grants that are not yet due alone, in every guild', async () => {
    const { grant, clock, janitor, rows } = setup();
    await grant(BOB, 10);
    await grant(BOB, 60, OTHER_GUILD);
    clock.advanceMinutes(10);
    await janitor.tick();
    expect(rows().map((r) => [r.revoked, r.notice_status])).toEqual([
      [1, 'sent'],
      [0, null],
    ]);
  });

  it('a hand-edited row with an unknown provider is still revoked, and does not block the others', async () => {
    const { grant, clock, janitor, notifier, rows, handle } = setup();
    await grant(BOB, 5);
    await grant(CAROL, 5);
    notifier.sent.length = 0;
    handle.sqlite.prepare("UPDATE jit_permissions SET provider = 'oracle' WHERE user_id = ?").run(BOB);
    clock.advanceMinutes(5);
    const report = await janitor.tick();
    expect(report.jobs[0]).toMatchObject({ ok: true, counts: { expired: 2, noticesSent: 1, noticesFailed: 1 } });
    expect(rows().map((r) => [r.revoked, r.notice_status])).toEqual([
      [1, 'failed'],
      [1, 'sent'],
    ]);
    expect(notifier.sent.map((s) => s.to)).toEqual([{ user: CAROL }]);
  });
});

describe('exactly-once expiry notices', () => {
  it('when the process dies between revoking and sending, a new process sends each notice once and never again', async () => {
    const { grant, clock, expiry, notifier, rows, path } = setup();
    await grant(BOB, 5);
    await grant(CAROL, 5);
    clock.advanceMinutes(5);
    // The first process revokes (and queues) and dies before any DM goes out.
    await expiry.revokeDue();
    notifier.sent.length = 0;
    expect(rows().map((r) => r.notice_status)).toEqual(['pending', 'pending']);

    const afterCrash = new RecordingNotifier({ [GUILD]: 'ACME Corp' });
    const restarted = bootProcess(path, clock, afterCrash);
    const report = await restarted.janitor.tick();
    expect(report.jobs[0]).toMatchObject({ counts: { expired: 0, noticesSent: 2 } });
    expect(afterCrash.dmsTo(BOB)).toHaveLength(1);
    expect(afterCrash.dmsTo(CAROL)).toHaveLength(1);

    await restarted.janitor.tick();
    const third = bootProcess(path, clock, afterCrash);
    await third.janitor.tick();
    expect(afterCrash.sent).toHaveLength(2);
    expect(notifier.sent).toHaveLength(0);
  });

  it('when the notifier dies halfway through, the sent notices stay sent and only the rest go out after restart', async () => {
    const { grant, clock, janitor, notifier, rows, path } = setup();
    await grant(BOB, 5);
    await grant(CAROL, 5);
    await grant(DAVE, 5);
    notifier.sent.length = 0;
    clock.advanceMinutes(5);
    // Bob's DM goes out; then the connection dies for everything else in this process.
    const dyingNotifier = new RecordingNotifier().dieAfter(1);
    const dying = bootProcess(path, clock, dyingNotifier);
    await dying.janitor.tick();
    expect(dyingNotifier.dmsTo(BOB)).toHaveLength(1);
    expect(rows().map((r) => r.notice_status)).toEqual(['sent', 'pending', 'pending']);

    const fresh = new RecordingNotifier();
    await bootProcess(path, clock, fresh).janitor.tick();
    await janitor.tick();
    expect(fresh.sent.map((s) => s.to)).toEqual([{ user: CAROL }, { user: DAVE }]);
    expect(dyingNotifier.sent).toHaveLength(1);
    expect(notifier.sent).toHaveLength(0);
  });

  it('when the process is killed inside a revoke batch, the batch leaves nothing and each grant is audited and told once', async () => {
    const { handle, clock, path, rows } = setup();
    insertExpired(handle.sqlite, 420, clock.now());
    // Batches of 50; the kill comes while the third batch writes its audit entries, its transaction open.
    const crashed = await execa('node', ['--import', 'tsx', 'test/support/crash-mid-expiry.ts', path, '50', '120'], {
      env: { NOW: String(clock.now()) },
      reject: false,
    });
    expect(crashed.signal).toBe('SIGKILL');
    expect(crashed.stdout).not.toContain('finished');
    const revokedNow = rows().filter((r) => r.revoked === 1);
    expect(revokedNow).toHaveLength(100);
    expect(revokedNow.every((r) => r.revoke_reason === 'expired' && r.notice_status === 'pending')).toBe(true);
    expect(handle.sqlite.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'jit.expire'").get()).toEqual({ n: 100 });

    const notifier = new RecordingNotifier({ [GUILD]: 'ACME Corp' });
    const restarted = bootProcess(path, clock, notifier);
    expect((await restarted.janitor.tick()).jobs[0]).toMatchObject({ counts: { expired: 320, noticesSent: 420 } });
    await restarted.janitor.tick();
    expect(notifier.sent).toHaveLength(420);
    expect(new Set(notifier.sent.map((s) => JSON.stringify(s.to))).size).toBe(420);
    const audited = handle.sqlite.prepare("SELECT details FROM audit_log WHERE action = 'jit.expire'").all() as Array<{ details: string }>;
    const grantIds = audited.map((row) => (JSON.parse(row.details) as { grantId: number }).grantId);
    expect(new Set(grantIds).size).toBe(420);
    expect(rows().every((r) => r.revoked === 1 && r.notice_status === 'sent')).toBe(true);
  });

  it('retries a transient failure on later ticks and gives up after the configured attempts', async () => {
    const { grant, clock, janitor, notifier, rows } = setup({ maxNoticeAttempts: 3 });
    await grant(BOB, 5);
    notifier.sent.length = 0;
    clock.advanceMinutes(5);

    notifier.failNext(1);
    expect((await janitor.tick()).jobs[0]).toMatchObject({ counts: { noticesRetrying: 1 } });
    expect(rows()[0]).toMatchObject({ notice_status: 'pending', notice_attempts: 1, notice_error: 'Error: connect ECONNRESET' });
    await janitor.tick();
    expect(notifier.dmsTo(BOB)).toHaveLength(1);
    expect(rows()[0]).toMatchObject({ notice_status: 'sent', notice_attempts: 2 });

    await grant(CAROL, 5);
    notifier.sent.length = 0;
    clock.advanceMinutes(5);
    notifier.failNext(100);
    await janitor.tick();
    await janitor.tick();
    expect((await janitor.tick()).jobs[0]).toMatchObject({ counts: { noticesFailed: 1 } });
    expect(rows()[1]).toMatchObject({ notice_status: 'failed', notice_attempts: 3 });
    notifier.failNext(0);
    await janitor.tick();
    expect(notifier.dmsTo(CAROL)).toHaveLength(0);
  });
});

describe('members who cannot be reached', () => {
  it('with DMs closed and a notification channel, the notice goes to the channel and the others still get DMs', async () => {
    const { grant, clock, janitor, notifier, policies, rows } = setup();
    await policies.update(GUILD, { notificationChannelId: CHANNEL }, ADMIN);
    await grant(BOB, 5);
    await grant(CAROL, 5);
    notifier.sent.length = 0;
    notifier.closeDms(BOB);
    clock.advanceMinutes(5);

    const report = await janitor.tick();
    expect(report.jobs[0]).toMatchObject({ counts: { noticesSent: 1, noticesFallback: 1 } });
    const [post] = notifier.postsIn(CHANNEL);
    expect(shownInDiscord(post?.description)).toContain(`<@${BOB}>`);
    expect(notifier.dmsTo(CAROL)).toHaveLength(1);
    expect(rows()[0]).toMatchObject({ notice_status: 'fallback', notice_error: expect.stringContaining('50007') });
    await janitor.tick();
    expect(notifier.sent).toHaveLength(2);
  });

  it('with DMs closed and no notification channel, the failure is recorded and not retried', async () => {
    const { grant, clock, janitor, notifier, rows } = setup();
    await grant(BOB, 5);
    await grant(CAROL, 5, OTHER_GUILD);
    notifier.sent.length = 0;
    notifier.closeDms(BOB);
    clock.advanceMinutes(5);

    expect((await janitor.tick()).jobs[0]).toMatchObject({ counts: { noticesSent: 1, noticesFailed: 1 } });
    expect(rows()[0]).toMatchObject({ notice_status: 'failed', notice_error: expect.stringContaining('no notification channel') });
    await janitor.tick();
    expect(notifier.sent.map((s) => s.to)).toEqual([{ user: CAROL }]);
  });

  it("a guild's fallback channel is used only for that guild's members", async () => {
    const { grant, clock, janitor, notifier, policies } = setup();
    await policies.update(OTHER_GUILD, { notificationChannelId: CHANNEL }, ADMIN);
    await grant(BOB, 5);
    notifier.closeDms(BOB);
    clock.advanceMinutes(5);
    await janitor.tick();
    expect(notifier.postsIn(CHANNEL)).toHaveLength(0);
  });
});

describe('janitor', () => {
  it('runs overlapping tick requests once: the second joins the first', async () => {
    const { grant, clock, notifier, path } = setup();
    await grant(BOB, 5);
    await grant(CAROL, 5);
    clock.advanceMinutes(5);
    const gate = new GatedNotifier(notifier);
    const slow = bootProcess(path, clock, gate);

    const first = slow.janitor.tick();
    const second = slow.janitor.tick();
    await new Promise((resolve) => setImmediate(resolve));
    const third = slow.janitor.tick();
    gate.open();
    const reports = await Promise.all([first, second, third]);
    expect(new Set(reports.map((r) => r.tick))).toEqual(new Set([1]));
    expect(reports[0]?.jobs[0]).toMatchObject({ counts: { expired: 2, noticesSent: 2 } });
    expect(notifier.dmsTo(BOB)).toHaveLength(2); // the grant DM and one expiry DM
    expect(notifier.dmsTo(CAROL)).toHaveLength(2);
    expect((await slow.janitor.tick()).tick).toBe(2);
  });

  it('catches up after downtime: the first tick after start-up revokes everything that expired meanwhile', async () => {
    const { grant, clock, notifier, path, janitor } = setup();
    await janitor.stop();
    await grant(BOB, 30);
    await grant(CAROL, 480);
    notifier.sent.length = 0;
    clock.advanceMinutes(12 * 60); // the bot was off for twelve hours

    const restarted = bootProcess(path, clock, notifier);
    restarted.janitor.start();
    const report = await restarted.janitor.tick(); // joins the start-up tick
    await restarted.janitor.stop();
    expect(report.tick).toBe(1);
    expect(report.jobs[0]).toMatchObject({ counts: { expired: 2, noticesSent: 2 } });
    expect(restarted.rows().every((r) => r.revoked === 1 && r.notice_status === 'sent')).toBe(true);
  });

  it('a failing job is logged and neither stops the other jobs nor the next tick; each tick logs one summary line', async () => {
    const { lines, logger } = captureLogs();
    let calls = 0;
    const broken: JanitorJob = {
      name: 'broken',
      run: async () => {
        throw new Error('disk on fire');
      },
    };
    const counting: JanitorJob = { name: 'counting', run: async () => ({ done: ++calls }) };
    const janitor = new Janitor({ schedule: '* * * * *', jobs: [broken, counting], logger });

    const first = await janitor.tick();
    const second = await janitor.tick();
    expect(first.jobs).toEqual([
      expect.objectContaining({ job: 'broken', ok: false, error: 'Error: disk on fire' }),
      expect.objectContaining({ job: 'counting', ok: true, counts: { done: 1 } }),
    ]);
    expect(second.jobs[1]).toMatchObject({ ok: true, counts: { done: 2 } });
    expect(lines.filter((l) => l.msg === 'janitor job failed')).toHaveLength(2);
    const summaries = lines.filter((l) => l.msg === 'janitor tick');
    expect(summaries).toHaveLength(2);
    expect(summaries[1]).toMatchObject({ tick: 2, 'counting.done': 2, failed: ['broken'] });
  });

  it('purges expired vault sessions on each tick', async () => {
    const clock = new FakeClock();
    const vault = new EphemeralVault({ ttlMs: 30 * 60_000, maxSessionsPerGuild: 5, clock });
    vault.open(GUILD, BOB, { token: 'x' });
    vault.open(GUILD, CAROL, { token: 'y' });
    const { logger } = captureLogs();
    const janitor = new Janitor({ schedule: '* * * * *', jobs: [new VaultPurgeJob(vault)], logger });
    expect((await janitor.tick()).jobs[0]).toMatchObject({ counts: { purged: 0 } });
    clock.advanceMinutes(30);
    expect((await janitor.tick()).jobs[0]).toMatchObject({ counts: { purged: 2 } });
    expect(vault.list(GUILD)).toEqual([]);
  });

  it('refuses an invalid schedule', () => {
    const { logger } = captureLogs();
    expect(() => new Janitor({ schedule: 'every minute', jobs: [], logger })).toThrow(/invalid janitor schedule/);
  });
});

/** Holds every DM until open() is called, so a tick stays in flight while the test asks for more ticks. */
class GatedNotifier implements Notifier {
  private release!: () => void;
  private readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  constructor(private readonly inner: RecordingNotifier) {}
  open(): void {
    this.release();
  }
  async sendDirect(userId: string, notice: Notice): Promise<void> {
    await this.opened;
    await this.inner.sendDirect(userId, notice);
  }
  sendToChannel(channelId: string, notice: Notice): Promise<PostedMessage> {
    return this.inner.sendToChannel(channelId, notice);
  }
  editChannelMessage(message: PostedMessage, notice: Notice): Promise<void> {
    return this.inner.editChannelMessage(message, notice);
  }
  channelInGuild(guildId: string, channelId: string): Promise<boolean> {
    return this.inner.channelInGuild(guildId, channelId);
  }
  guildName(guildId: string): Promise<string | undefined> {
    return this.inner.guildName(guildId);
  }
}

describe('revoke batch sizing', () => {
  it('shrinks batches whose rows are expensive and grows cheap ones, within the bounds', () => {
    const batch = new AdaptiveBatchSize(5, 5, 1000, 64);
    for (let i = 0; i < 6; i++) batch.observe(batch.current, batch.current); // 1 ms a row: about 5 rows fit
    expect(batch.current).toBeLessThanOrEqual(7);
    expect(batch.current).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < 20; i++) batch.observe(batch.current, batch.current * 0.001); // 1 µs a row
    expect(batch.current).toBe(1000);
    batch.observe(0, 0); // an empty batch teaches nothing
    expect(batch.current).toBe(1000);
  });
});
