/**
 * The time-to-live repositories on both dialects (issue 16): a deployment's TTL columns (compare-and-set on guild and
 * state, a destroy's try claimed by one process) and the outbox of reminders before its end, on real databases with
 * their migrations. Another guild's rows are never read or changed through a guild's calls, a shard queues only its
 * guilds' reminders, and two processes sending the same due reminder (or "expired" notices) send it once.
 */
import { expect, it } from 'vitest';
import { TtlReminderJob } from '../src/janitor/ttl-reminder-job.js';
import { shardOfGuild } from '../src/sharding/shard-scope.js';
import type { TtlDestroyer } from '../src/ttl/ttl-destroyer.js';
import { ttlReminderRepositoryFor } from '../src/ttl/ttl-reminder-repository.js';
import { ttlRepositoryFor, type TtlDeployment } from '../src/ttl/ttl-repository.js';
import type { DataAccess } from '../src/db/data-access.js';
import { FakeClock } from './support/clock.js';
import { emptyDeployments, insertDeployment, insertProject } from './support/deployment-rows.js';
import { describeOnBothDialects, type DialectUnderTest } from './support/dialects.js';
import { HeldDmNotifier } from './support/held-dm-notifier.js';

const GUILD = '111111111111111111';
// In the other shard of two (checked below), so a shard's statements tell them apart.
const OTHER_GUILD = '888888888888888888';
const BOB = '333333333333333333';
const CAROL = '444444444444444444';
const NOW = 1_780_000_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const LEADS = [24 * HOUR, HOUR];

/** An active deployment of the guild whose 3 h clock started 2.5 h ago: it ends in 30 minutes. */
async function endingSoon(db: DialectUnderTest, guildId: string, createdBy: string): Promise<number> {
  const projectId = await insertProject(db, guildId);
  const id = await insertDeployment(db, { guildId, projectId, createdBy, status: 'active', ttlMs: 3 * HOUR });
  expect(await ttlRepositoryFor(db.data.session).start(guildId, id, NOW - 150 * MINUTE)).toBe(NOW + 30 * MINUTE);
  return id;
}

/** The reminder job over one process's database: what the janitor of that process runs. */
function reminderJob(data: DataAccess, notifier: HeldDmNotifier) {
  const ttls = ttlRepositoryFor(data.session);
  const destroyer: Pick<TtlDestroyer, 'subject' | 'cannotDestroy'> = {
    subject: async (row: TtlDeployment) => ({ subject: { resourceId: row.id, guildId: row.guildId, template: 'vm', projectName: 'web', deployerId: row.createdBy, expiresAt: row.expiresAt ?? 0 }, project: {} as never }),
    cannotDestroy: async () => undefined,
  };
  const policies = { get: async () => ({ notificationChannelId: null }) };
  return new TtlReminderJob({ reminders: ttlReminderRepositoryFor(data.session), ttls, destroyer, policies, notifier, clock: new FakeClock(NOW), leadsMs: LEADS });
}

describeOnBothDialects('the TTL repositories', (open) => {
  async function setup() {
    const db = await open();
    await emptyDeployments(db);
    return { db, ttls: ttlRepositoryFor(db.data.session), reminders: ttlReminderRepositoryFor(db.data.session) };
  }

  it('asks, starts the clock once at the apply, extends by compare-and-set, and keeps another guild out', async () => {
    const { db, ttls } = await setup();
    const id = await insertDeployment(db, { guildId: GUILD, projectId: await insertProject(db, GUILD), createdBy: BOB, status: 'planned', ttlMs: null });
    await ttls.setTtl(OTHER_GUILD, id, HOUR);
    expect((await ttls.find(GUILD, id))?.ttlMs).toBeNull();
    await ttls.setTtl(GUILD, id, HOUR);
    expect(await ttls.start(GUILD, id, NOW)).toBeNull(); // still planned: no clock before the apply
    await db.rows(`UPDATE cloud_resources SET status = 'active' WHERE id = ${id}`);
    expect(await ttls.start(OTHER_GUILD, id, NOW)).toBeNull();
    expect(await ttls.start(GUILD, id, NOW)).toBe(NOW + HOUR);
    expect(await ttls.start(GUILD, id, NOW + MINUTE)).toBe(NOW + HOUR); // once
    expect(await ttls.find(OTHER_GUILD, id)).toBeUndefined();
    expect(await ttls.findAnywhere(id)).toMatchObject({ id, guildId: GUILD, createdBy: BOB, status: 'active', ttlMs: HOUR, expiresAt: NOW + HOUR, ttlSetAt: NOW, attempts: 0, noticeDirectDone: false });

    expect(await ttls.extend(OTHER_GUILD, id, NOW + HOUR, NOW + 2 * HOUR, NOW)).toBe(false);
    expect(await ttls.extend(GUILD, id, NOW + 5 * MINUTE, NOW + 2 * HOUR, NOW)).toBe(false); // the end moved meanwhile
    expect(await ttls.extend(GUILD, id, NOW + HOUR, NOW + 2 * HOUR, NOW)).toBe(true);
    expect(await ttls.extend(GUILD, id, NOW + HOUR, NOW + 3 * HOUR, NOW)).toBe(false); // a second press on the old end
    await ttls.dueNow(OTHER_GUILD, id, NOW);
    expect((await ttls.find(GUILD, id))?.expiresAt).toBe(NOW + 2 * HOUR);
    await ttls.dueNow(GUILD, id, NOW + MINUTE);
    expect(await ttls.find(GUILD, id)).toMatchObject({ expiresAt: NOW + MINUTE, nextAttemptAt: NOW + MINUTE });
  });

  it('a due destroy is claimed by one of two processes, then expired with its notice queued once', async () => {
    const { db, ttls } = await setup();
    const first = await endingSoon(db, GUILD, BOB);
    const second = await endingSoon(db, OTHER_GUILD, CAROL);
    const later = NOW + 31 * MINUTE;
    expect((await ttls.due(later, 10)).map((row) => row.id)).toEqual([first, second]);
    const elsewhere = ttlRepositoryFor((await db.another()).session);
    const claims = await Promise.all([ttls.claim(first, later, later + 5 * MINUTE), elsewhere.claim(first, later, later + 5 * MINUTE)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await ttls.due(later, 10)).map((row) => row.id)).toEqual([second]); // its next try waits for the backoff
    await ttls.recordFailure(first, 'x'.repeat(3000));
    expect((await ttls.find(GUILD, first))?.lastError).toHaveLength(2000);

    await ttls.markExpired(first, later);
    await elsewhere.markExpired(first, later + MINUTE); // a second process too late: nothing changes
    expect(await ttls.find(GUILD, first)).toMatchObject({ expiredAt: later, noticeStatus: 'pending', lastError: null, nextAttemptAt: null });
    expect((await ttls.pendingNotices(10)).map((row) => row.id)).toEqual([first]);
    await ttls.markNoticeDirectDone(first);
    expect((await ttls.find(GUILD, first))?.noticeDirectDone).toBe(true);
    await ttls.markNotice(first, 'sent');
    await elsewhere.markNotice(first, 'failed');
    expect((await ttls.find(GUILD, first))?.noticeStatus).toBe('sent');
    expect(await ttls.pendingNotices(10)).toEqual([]);
    await ttls.clear(second);
    expect(await ttls.due(later, 10)).toEqual([]);
  });

  it('"expired" notices are delivered by one process at a time (PostgreSQL); SQLite has one process', async () => {
    const { db, ttls } = await setup();
    const elsewhere = ttlRepositoryFor((await db.another()).session);
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reach = (): void => undefined;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    const holding = ttls.deliveringNotices(async () => {
      reach();
      await released;
      return 'first';
    });
    await reached;
    expect(await elsewhere.deliveringNotices(async () => 'second')).toBe(db.dialect === 'postgres' ? undefined : 'second');
    release();
    expect(await holding).toBe('first');
    expect(await elsewhere.deliveringNotices(async () => 'after')).toBe('after');
  });

  it('queues the nearest lead once per end, for this shard’s guilds only, and closes a reminder as each part goes out', async () => {
    const { db, reminders } = await setup();
    const shard = { id: shardOfGuild(GUILD, 2), count: 2 };
    expect(shardOfGuild(OTHER_GUILD, 2)).not.toBe(shard.id);
    const mine = await endingSoon(db, GUILD, BOB);
    const theirs = await endingSoon(db, OTHER_GUILD, CAROL);
    const ownShard = ttlReminderRepositoryFor(db.data.session, { shard });
    expect(await ownShard.enqueueDue(NOW, LEADS, 10)).toBe(1);
    expect(await ownShard.unfinished(undefined, 10)).toEqual([
      { resourceId: mine, expiresAt: NOW + 30 * MINUTE, leadMs: HOUR, guildId: GUILD, userId: BOB, dmStatus: 'pending', channelStatus: 'pending', attempts: 0 },
    ]);
    // A 3 h lifetime gets no 24 h reminder; the 1 h one once, however often it is asked for.
    expect(await reminders.enqueueDue(NOW, LEADS, 10)).toBe(1);
    expect(await reminders.enqueueDue(NOW + MINUTE, LEADS, 10)).toBe(0);
    const [a, b] = await reminders.unfinished(undefined, 10);
    expect([a?.resourceId, b?.resourceId]).toEqual([mine, theirs]);
    expect((await reminders.unfinished(a, 10)).map((r) => r.resourceId)).toEqual([theirs]);
    expect(await ownShard.unfinished(undefined, 10)).toHaveLength(1);

    await reminders.markDm(a!, 'sent', NOW);
    expect((await reminders.unfinished(undefined, 10)).map((r) => [r.resourceId, r.dmStatus])).toEqual([[mine, 'sent'], [theirs, 'pending']]);
    await reminders.markChannel(a!, 'none', NOW);
    await reminders.markDm(a!, 'refused', NOW); // only a pending part is ever marked
    for (let i = 0; i < 3; i++) await reminders.markAttemptFailed(b!, 'network down', 3, NOW);
    expect(await reminders.unfinished(undefined, 10)).toEqual([]);
    expect(await db.rows('SELECT resource_id, dm_status, channel_status, attempts, error FROM deployment_ttl_reminders ORDER BY resource_id')).toEqual([
      { resource_id: expect.anything(), dm_status: 'sent', channel_status: 'none', attempts: 0, error: null },
      { resource_id: expect.anything(), dm_status: 'failed', channel_status: 'failed', attempts: 3, error: 'network down' },
    ]);
  });

  it('two processes sending the same due reminder: exactly one sends it, and nobody again', async () => {
    const { db } = await setup();
    await endingSoon(db, GUILD, BOB);
    const notifier = new HeldDmNotifier();
    const here = reminderJob(db.data, notifier);
    const there = reminderJob(await db.another(), notifier);
    const held = notifier.holdNextDm();
    const first = here.run();
    await held.reached;
    // PostgreSQL: the other process's janitor ticks while this one is sending. SQLite: one process per file (the
    // process lock), so the other one comes after it.
    const second = db.dialect === 'postgres' ? await there.run() : undefined;
    held.release();
    expect(await first).toMatchObject({ queued: 1, sent: 1 });
    const after = second ?? (await there.run());
    expect(after).toMatchObject({ queued: 0, sent: 0 });
    expect(await Promise.all([here.run(), there.run()])).toEqual([expect.objectContaining({ sent: 0 }), expect.objectContaining({ sent: 0 })]);
    expect(notifier.dmsTo(BOB)).toHaveLength(1);
  });
});
