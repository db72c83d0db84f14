/**
 * The JIT expiry reminders' outbox on both dialects (issue 16), on real databases with their migrations: one
 * reminder per grant and end, queued only for this shard's guilds, each part closed as it goes out, and two
 * processes sending the same due reminder send it once.
 */
import { expect, it } from 'vitest';
import type { DataAccess } from '../src/db/data-access.js';
import { JitReminderJob } from '../src/janitor/jit-reminder-job.js';
import { grantRepositoryFor, type NewGrant } from '../src/jit/grant-repository.js';
import { reminderRepositoryFor } from '../src/jit/reminder-repository.js';
import { shardOfGuild } from '../src/sharding/shard-scope.js';
import { FakeClock } from './support/clock.js';
import { describeOnBothDialects, type DialectUnderTest } from './support/dialects.js';
import { HeldDmNotifier } from './support/held-dm-notifier.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '888888888888888888'; // the other shard of two
const ADMIN = '222222222222222222';
const BOB = '333333333333333333';
const NOW = 1_780_000_000_000;
const MINUTE = 60_000;
const LEAD = 15 * MINUTE;

/** A grant of an hour ending in ten minutes: due for its reminder. */
const endingSoon = (overrides: Partial<NewGrant> = {}): NewGrant => ({
  guildId: GUILD,
  userId: BOB,
  provider: 'aws',
  level: 'deployer',
  reason: null,
  grantedAt: NOW - 50 * MINUTE,
  expiresAt: NOW + 10 * MINUTE,
  grantedBy: ADMIN,
  ...overrides,
});

function reminderJob(data: DataAccess, notifier: HeldDmNotifier) {
  return new JitReminderJob({
    reminders: reminderRepositoryFor(data.session),
    grants: grantRepositoryFor(data.session),
    policies: { get: () => ({ maxJitMinutes: 480, notificationChannelId: null }) },
    notifier,
    clock: new FakeClock(NOW),
    leadMs: LEAD,
  });
}

describeOnBothDialects('the JIT expiry reminders', (open) => {
  async function setup(): Promise<DialectUnderTest> {
    const db = await open();
    if (db.dialect === 'postgres') await db.rows('TRUNCATE jit_expiry_reminders');
    return db;
  }

  it('queues one reminder per grant and end, for this shard’s guilds only, and closes it as each part goes out', async () => {
    const db = await setup();
    const grants = grantRepositoryFor(db.data.session);
    const reminders = reminderRepositoryFor(db.data.session);
    const shard = { id: shardOfGuild(GUILD, 2), count: 2 };
    expect(shardOfGuild(OTHER_GUILD, 2)).not.toBe(shard.id);
    const mine = await grants.insert(endingSoon());
    const theirs = await grants.insert(endingSoon({ guildId: OTHER_GUILD }));
    await grants.insert(endingSoon({ grantedAt: NOW - 2 * MINUTE })); // no longer than the lead: just told when it ends
    await grants.insert(endingSoon({ expiresAt: NOW + 30 * MINUTE })); // not due yet
    const ownShard = reminderRepositoryFor(db.data.session, { shard });
    expect(await ownShard.enqueueDue(NOW, LEAD, 10)).toBe(1);
    expect(await ownShard.unfinished(undefined, 10)).toEqual([
      { grantId: mine.id, expiresAt: NOW + 10 * MINUTE, guildId: GUILD, userId: BOB, dmStatus: 'pending', channelStatus: 'pending', attempts: 0 },
    ]);
    expect(await reminders.enqueueDue(NOW, LEAD, 10)).toBe(1);
    expect(await reminders.enqueueDue(NOW + MINUTE, LEAD, 10)).toBe(0);
    const [a, b] = await reminders.unfinished(undefined, 10);
    expect([a?.grantId, b?.grantId]).toEqual([mine.id, theirs.id]);
    expect((await reminders.unfinished(a, 10)).map((r) => r.grantId)).toEqual([theirs.id]);

    // An extension moves the end: a new reminder is due for it, beside the old one (which the job skips as stale).
    await grants.extend(GUILD, mine.id, NOW + 14 * MINUTE, NOW);
    expect(await reminders.enqueueDue(NOW, LEAD, 10)).toBe(1);
    expect((await reminders.unfinished(undefined, 10)).map((r) => [r.grantId, r.expiresAt])).toEqual([
      [mine.id, NOW + 10 * MINUTE],
      [mine.id, NOW + 14 * MINUTE],
      [theirs.id, NOW + 10 * MINUTE],
    ]);
    await reminders.markBoth(a!, 'skipped', NOW);
    const [fresh] = await reminders.unfinished(undefined, 1);
    await reminders.markDm(fresh!, 'refused', NOW);
    await reminders.markChannel(fresh!, 'sent', NOW);
    await reminders.markDm(fresh!, 'sent', NOW); // only a pending part is ever marked
    for (let i = 0; i < 2; i++) await reminders.markAttemptFailed(b!, 'rate limited', 2, NOW);
    expect(await reminders.unfinished(undefined, 10)).toEqual([]);
    expect(await db.rows('SELECT dm_status, channel_status, attempts, error FROM jit_expiry_reminders ORDER BY grant_id, expires_at')).toEqual([
      { dm_status: 'skipped', channel_status: 'skipped', attempts: 0, error: null },
      { dm_status: 'refused', channel_status: 'sent', attempts: 0, error: null },
      { dm_status: 'failed', channel_status: 'failed', attempts: 2, error: 'rate limited' },
    ]);
  });

  it('two processes sending the same due reminder: exactly one sends it, and nobody again', async () => {
    const db = await setup();
    await grantRepositoryFor(db.data.session).insert(endingSoon());
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
    expect(second ?? (await there.run())).toMatchObject({ queued: 0, sent: 0 });
    expect(await Promise.all([here.run(), there.run()])).toEqual([expect.objectContaining({ sent: 0 }), expect.objectContaining({ sent: 0 })]);
    expect(notifier.dmsTo(BOB)).toHaveLength(1);
  });
});
