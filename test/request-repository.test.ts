/**
 * The JIT request repository on both dialects (issue 16): the same behaviour from SQLite's statements and
 * PostgreSQL's, on real databases with their migrations: guild scoping, decisions that only close a pending request,
 * the self-extension total, set-based expiry with its audit entries and queued notices (two janitors racing), the
 * notice outbox and the shard a janitor may touch.
 */
import { expect, it } from 'vitest';
import { requestRepositoryFor, type NewJitRequest, type RequestRepository } from '../src/jit/request-repository.js';
import { shardOfGuild } from '../src/sharding/shard-scope.js';
import { describeOnBothDialects, type DialectUnderTest } from './support/dialects.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '999999999999999999';
const ADMIN = '222222222222222222';
const BOB = '333333333333333333';
const CAROL = '444444444444444444';
const CHANNEL = '555555555555555555';
const NOW = 1_780_000_000_000;
const MINUTE = 60_000;

const ask = (overrides: Partial<NewJitRequest> = {}): NewJitRequest => ({
  guildId: GUILD,
  kind: 'access',
  requesterId: BOB,
  provider: 'aws',
  level: 'deployer',
  durationMinutes: 60,
  reason: 'incident 7',
  grantId: null,
  reviewChannelId: CHANNEL,
  createdAt: NOW - MINUTE,
  expiresAt: NOW + 60 * MINUTE,
  ...overrides,
});

describeOnBothDialects('the JIT request repository', (open) => {
  async function setup(): Promise<{ db: DialectUnderTest; requests: RequestRepository }> {
    const db = await open();
    return { db, requests: requestRepositoryFor(db.data.session) };
  }

  it('stores a request and finds it only in its own guild; lists the open ones oldest first', async () => {
    const { requests } = await setup();
    const made = await requests.insert(ask());
    expect(made).toMatchObject({ guildId: GUILD, kind: 'access', requesterId: BOB, status: 'pending', durationMinutes: 60, decidedBy: null, grantId: null });
    expect(typeof made.id).toBe('number');
    expect(typeof made.expiresAt).toBe('number');
    expect(await requests.findInGuild(GUILD, made.id)).toEqual(made);
    expect(await requests.findInGuild(OTHER_GUILD, made.id)).toBeUndefined();
    const carols = await requests.insert(ask({ requesterId: CAROL }));
    await requests.insert(ask({ expiresAt: NOW }));
    await requests.insert(ask({ guildId: OTHER_GUILD }));
    expect((await requests.listPending(GUILD, NOW)).map((r) => r.id)).toEqual([made.id, carols.id]);
    expect((await requests.listPending(GUILD, NOW, CAROL)).map((r) => r.id)).toEqual([carols.id]);
  });

  it('decides a request once, never past its expiry nor in another guild, and queues the notice with it', async () => {
    const { db, requests } = await setup();
    const made = await requests.insert(ask());
    expect(await requests.decide(OTHER_GUILD, made.id, { status: 'denied', by: ADMIN, at: NOW, notify: true })).toBeUndefined();
    expect(await requests.decide(GUILD, made.id, { status: 'approved', by: ADMIN, at: NOW + 60 * MINUTE, approvedMinutes: 30, notify: true })).toBeUndefined();
    const decided = await requests.decide(GUILD, made.id, { status: 'denied', by: ADMIN, at: NOW, note: 'not today', notify: true });
    expect(decided).toMatchObject({ status: 'denied', decidedBy: ADMIN, decidedAt: NOW, decisionNote: 'not today' });
    expect(await requests.decide(GUILD, made.id, { status: 'approved', by: CAROL, at: NOW, notify: true })).toBeUndefined();
    expect(await db.rows('SELECT notice_status FROM jit_requests')).toEqual([{ notice_status: 'pending' }]);
    expect((await requests.queuedNotice(made.id))?.request.status).toBe('denied');
  });

  it('totals a grant’s self-extensions (decided by the holder) and finds where its access request was reviewed', async () => {
    const { db, requests } = await setup();
    await db.rows(`INSERT INTO jit_permissions (guild_id, user_id, provider, permission_level, granted_at, expires_at, granted_by) VALUES ('${GUILD}', '${BOB}', 'aws', 'deployer', ${NOW}, ${NOW + 60 * MINUTE}, '${ADMIN}')`);
    const [{ id }] = (await db.rows('SELECT id FROM jit_permissions')) as [{ id: number | string }];
    const grantId = Number(id);
    expect(await requests.selfExtendedMinutes(grantId)).toBe(0);
    const access = await requests.insert(ask());
    await requests.decide(GUILD, access.id, { status: 'approved', by: ADMIN, at: NOW, approvedMinutes: 60, grantId, notify: true });
    const extension = { kind: 'extension' as const, grantId, reviewChannelId: null, expiresAt: NOW };
    await requests.insert(ask({ ...extension, durationMinutes: 10 }), { status: 'approved', by: BOB, at: NOW, approvedMinutes: 10 });
    await requests.insert(ask({ ...extension, durationMinutes: 15 }), { status: 'approved', by: BOB, at: NOW, approvedMinutes: 15 });
    // Reviewed extensions are not the holder's allowance.
    await requests.insert(ask({ ...extension, durationMinutes: 40 }), { status: 'approved', by: ADMIN, at: NOW, approvedMinutes: 40 });
    expect(await requests.selfExtendedMinutes(grantId)).toBe(25);
    expect(await requests.reviewChannelOfGrant(GUILD, grantId)).toBe(CHANNEL);
    expect(await requests.reviewChannelOfGrant(OTHER_GUILD, grantId)).toBeUndefined();
  });

  it('expires due requests in batches, each with its audit entry and queued notice', async () => {
    const { db, requests } = await setup();
    for (let n = 0; n < 5; n += 1) await requests.insert(ask({ expiresAt: NOW - n }));
    const later = await requests.insert(ask({ expiresAt: NOW + 1 }));
    expect(await requests.expireDue(NOW, 3)).toBe(3);
    expect(await requests.expireDue(NOW, 3)).toBe(2);
    expect(await requests.expireDue(NOW, 3)).toBe(0);
    expect((await requests.findInGuild(GUILD, later.id))?.status).toBe('pending');
    const trail = await db.auditTrail(GUILD);
    expect(trail).toHaveLength(5);
    expect(trail.every((entry) => entry.action === 'jit.request.expire' && entry.userId === 'system' && entry.target === BOB)).toBe(true);
    expect(trail[0]?.details).toEqual({ requestId: 5, kind: 'access', provider: 'aws', level: 'deployer' });
    expect((await requests.pendingNoticeIds(0, 10)).length).toBe(5);
  });

  it('two janitors racing on one database expire and audit each request exactly once', async () => {
    const { db, requests } = await setup();
    const other = requestRepositoryFor((await db.another()).session);
    for (let n = 0; n < 40; n += 1) await requests.insert(ask({ expiresAt: NOW - n }));
    const counts = await Promise.all([requests.expireDue(NOW, 7), other.expireDue(NOW, 7), requests.expireDue(NOW, 7), other.expireDue(NOW, 7)]);
    let total = counts.reduce((a, b) => a + b, 0);
    for (let count = -1; count !== 0; total += count) count = (await Promise.all([requests.expireDue(NOW, 7), other.expireDue(NOW, 7)])).reduce((a, b) => a + b, 0);
    expect(total).toBe(40);
    expect(await db.auditTrail(GUILD)).toHaveLength(40);
    expect(await db.rows("SELECT CAST(count(*) AS INTEGER) AS n FROM jit_requests WHERE status = 'expired' AND notice_status = 'pending'")).toEqual([{ n: 40 }]);
  });

  it('closes a notice once, counts failed tries and gives up after the last', async () => {
    const { requests } = await setup();
    const a = await requests.insert(ask());
    const b = await requests.insert(ask({ requesterId: CAROL }));
    for (const made of [a, b]) await requests.decide(GUILD, made.id, { status: 'denied', by: ADMIN, at: NOW, notify: true });
    expect(await requests.pendingNoticeIds(0, 10)).toEqual([a.id, b.id]);
    expect(await requests.pendingNoticeIds(a.id, 10)).toEqual([b.id]);
    await requests.markNotified(a.id, 'sent', NOW, null);
    await requests.markNotified(a.id, 'failed', NOW, 'late');
    expect(await requests.queuedNotice(a.id)).toBeUndefined();
    await requests.markNoticeAttemptFailed(b.id, 'network', 2);
    expect((await requests.queuedNotice(b.id))?.attempts).toBe(1);
    await requests.markNoticeAttemptFailed(b.id, 'network', 2);
    expect(await requests.queuedNotice(b.id)).toBeUndefined();
    expect(await requests.pendingNoticeIds(0, 10)).toEqual([]);
  });

  it('lets a shard’s janitor expire and see the notices of its own guilds only', async () => {
    const { db } = await setup();
    const guilds = ['175928847299117063', '175928847299117064', '275928847299117063', '81384788765712384', '41771983423143937'];
    const everyone = requestRepositoryFor(db.data.session);
    const shardOne = requestRepositoryFor(db.data.session, { shard: { id: 1, count: 2 } });
    for (const guildId of guilds) await everyone.insert(ask({ guildId, expiresAt: NOW }));
    const ours = guilds.filter((guildId) => shardOfGuild(guildId, 2) === 1);
    expect(await shardOne.expireDue(NOW, 100)).toBe(ours.length);
    expect((await shardOne.pendingNoticeIds(0, 100)).length).toBe(ours.length);
    expect(await everyone.expireDue(NOW, 100)).toBe(guilds.length - ours.length);
  });
});
