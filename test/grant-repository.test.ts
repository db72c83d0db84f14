/**
 * The JIT grant repository on both dialects (issue 16): the same behaviour from SQLite's statements and PostgreSQL's,
 * on real databases with their migrations. What the janitor relies on is here too: set-based expiry with its audit
 * entries and queued notices, the notice outbox, and the shard a janitor may touch.
 */
import { expect, it } from 'vitest';
import { grantRepositoryFor, type GrantRepository, type NewGrant } from '../src/jit/grant-repository.js';
import { shardOfGuild } from '../src/sharding/shard-scope.js';
import { describeOnBothDialects, type DialectUnderTest } from './support/dialects.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '999999999999999999';
const ADMIN = '222222222222222222';
const BOB = '333333333333333333';
const CAROL = '444444444444444444';
const NOW = 1_780_000_000_000;
const MINUTE = 60_000;

const grant = (overrides: Partial<NewGrant> = {}): NewGrant => ({
  guildId: GUILD,
  userId: BOB,
  provider: 'aws',
  level: 'deployer',
  reason: null,
  grantedAt: NOW - 60 * MINUTE,
  expiresAt: NOW + 60 * MINUTE,
  grantedBy: ADMIN,
  ...overrides,
});

describeOnBothDialects('the JIT grant repository', (open) => {
  async function setup(): Promise<{ db: DialectUnderTest; grants: GrantRepository }> {
    const db = await open();
    return { db, grants: grantRepositoryFor(db.data.session) };
  }

  it('stores a grant and reads it back only in its own guild, or by its holder', async () => {
    const { grants } = await setup();
    const made = await grants.insert(grant({ reason: 'incident 7' }));
    expect(made).toMatchObject({ guildId: GUILD, userId: BOB, provider: 'aws', level: 'deployer', reason: 'incident 7', revoked: false, revokedAt: null, revokeReason: null });
    expect(typeof made.id).toBe('number');
    expect(typeof made.expiresAt).toBe('number');
    expect(await grants.findInGuild(GUILD, made.id)).toEqual(made);
    expect(await grants.findInGuild(OTHER_GUILD, made.id)).toBeUndefined();
    expect(await grants.findOfMember(BOB, made.id)).toEqual(made);
    expect(await grants.findOfMember(CAROL, made.id)).toBeUndefined();
  });

  it('lists grants in force soonest first (ties by id), leaving out revoked, ended and other guilds’ ones', async () => {
    const { grants } = await setup();
    const late = await grants.insert(grant({ expiresAt: NOW + 90 * MINUTE }));
    const tieA = await grants.insert(grant({ userId: CAROL, expiresAt: NOW + 30 * MINUTE }));
    const tieB = await grants.insert(grant({ expiresAt: NOW + 30 * MINUTE }));
    const revoked = await grants.insert(grant());
    await grants.revokeManually(revoked.id, ADMIN, NOW);
    await grants.insert(grant({ expiresAt: NOW }));
    await grants.insert(grant({ guildId: OTHER_GUILD }));
    expect((await grants.listActive(GUILD, NOW)).map((g) => g.id)).toEqual([tieA.id, tieB.id, late.id]);
    expect((await grants.listActive(GUILD, NOW, BOB)).map((g) => g.id)).toEqual([tieB.id, late.id]);
  });

  it('revokes by hand once, and all of a member’s grants in force in one guild', async () => {
    const { grants } = await setup();
    const one = await grants.insert(grant());
    expect(await grants.revokeManually(one.id, ADMIN, NOW)).toMatchObject({ id: one.id, revoked: true, revokedAt: NOW, revokedBy: ADMIN, revokeReason: 'manual' });
    expect(await grants.revokeManually(one.id, ADMIN, NOW + 1)).toBeUndefined();

    const a = await grants.insert(grant({ provider: 'gcp' }));
    const b = await grants.insert(grant({ provider: 'azure' }));
    await grants.insert(grant({ expiresAt: NOW - 1 }));
    const carols = await grants.insert(grant({ userId: CAROL }));
    const elsewhere = await grants.insert(grant({ guildId: OTHER_GUILD }));
    expect((await grants.revokeActiveOfMember(GUILD, BOB, ADMIN, NOW)).map((g) => g.id)).toEqual([a.id, b.id]);
    expect(await grants.revokeActiveOfMember(GUILD, BOB, ADMIN, NOW)).toEqual([]);
    expect((await grants.findInGuild(GUILD, carols.id))?.revoked).toBe(false);
    expect((await grants.findInGuild(OTHER_GUILD, elsewhere.id))?.revoked).toBe(false);
  });

  it('answers the check of the moment: levels in force for the providers asked, and the last grant that ended', async () => {
    const { grants } = await setup();
    await grants.insert(grant({ provider: 'aws', level: 'viewer' }));
    await grants.insert(grant({ provider: 'all', level: 'admin', expiresAt: NOW + MINUTE }));
    await grants.insert(grant({ provider: 'gcp', level: 'admin' }));
    const query = { guildId: GUILD, userId: BOB, providers: ['aws' as const, 'all' as const], now: NOW };
    expect((await grants.activeLevels(query)).sort()).toEqual(['admin', 'viewer']);
    expect(await grants.activeLevels({ ...query, now: NOW + MINUTE })).toEqual(['viewer']);
    expect(await grants.lastEnded(query)).toBeUndefined();
    expect(await grants.lastEnded({ ...query, now: NOW + MINUTE })).toMatchObject({ provider: 'all', level: 'admin' });
    expect(await grants.activeLevels({ ...query, guildId: OTHER_GUILD })).toEqual([]);
  });

  it('extends a grant in force, and not one that ended or is another guild’s', async () => {
    const { grants } = await setup();
    const made = await grants.insert(grant());
    expect(await grants.extend(GUILD, made.id, made.expiresAt + MINUTE, NOW)).toMatchObject({ expiresAt: made.expiresAt + MINUTE });
    expect(await grants.extend(OTHER_GUILD, made.id, made.expiresAt + 2 * MINUTE, NOW)).toBeUndefined();
    expect(await grants.extend(GUILD, made.id, made.expiresAt + 2 * MINUTE, made.expiresAt + MINUTE)).toBeUndefined();
  });

  it('expires what is due in batches, each grant once, with its audit entry and its notice queued', async () => {
    const { db, grants } = await setup();
    const due = [];
    for (let i = 0; i < 5; i += 1) due.push(await grants.insert(grant({ userId: String(BigInt(BOB) + BigInt(i)), expiresAt: NOW - i * MINUTE })));
    const later = await grants.insert(grant({ expiresAt: NOW + 1 }));
    expect(await grants.expireDue(NOW, 3)).toBe(3);
    expect(await grants.expireDue(NOW, 3)).toBe(2);
    expect(await grants.expireDue(NOW, 3)).toBe(0);
    for (const each of due) expect(await grants.findInGuild(GUILD, each.id)).toMatchObject({ revoked: true, revokedAt: NOW, revokeReason: 'expired', revokedBy: null });
    expect((await grants.findInGuild(GUILD, later.id))?.revoked).toBe(false);

    const expiries = (await db.auditTrail(GUILD)).filter((entry) => entry.action === 'jit.expire');
    expect(expiries).toHaveLength(5);
    // The oldest due first, in the shape AuditLog writes the janitor's entries.
    expect(expiries[0]).toEqual({
      action: 'jit.expire',
      userId: 'system',
      target: due[4]!.userId,
      outcome: 'success',
      details: { grantId: due[4]!.id, provider: 'aws', level: 'deployer', grantedBy: ADMIN, lastedMinutes: 56 },
    });
    expect(new Set(expiries.map((entry) => entry.details?.grantId))).toEqual(new Set(due.map((each) => each.id)));

    const pending = await grants.pendingNotices(0, 10);
    expect(pending.map((notice) => notice.id)).toEqual(due.map((each) => each.id));
    expect(pending[0]).toMatchObject({ grant: { id: due[0]!.id, revoked: true, revokeReason: 'expired' }, attempts: 0 });
  });

  it('closes notices as they go, counts failed tries, and gives up after the last one', async () => {
    const { grants } = await setup();
    const a = await grants.insert(grant({ expiresAt: NOW - 2 }));
    const b = await grants.insert(grant({ expiresAt: NOW - 1 }));
    await grants.expireDue(NOW, 10);
    await grants.markNotified(a.id, 'sent', NOW, null);
    await grants.markNotified(a.id, 'failed', NOW, 'too late');
    await grants.markNoticeAttemptFailed(b.id, 'network', 2);
    expect(await grants.pendingNotices(0, 10)).toMatchObject([{ id: b.id, attempts: 1 }]);
    expect(await grants.pendingNotices(b.id, 10)).toEqual([]);
    await grants.markNoticeAttemptFailed(b.id, 'network', 2);
    expect(await grants.pendingNotices(0, 10)).toEqual([]);
  });

  it('hands an unreadable pending row over as a problem, not as a notice with made-up words', async () => {
    const { db, grants } = await setup();
    const made = await grants.insert(grant({ expiresAt: NOW - 1 }));
    await grants.expireDue(NOW, 10);
    await db.rows(`UPDATE jit_permissions SET provider = 'oracle' WHERE id = ${made.id}`);
    const [notice] = await grants.pendingNotices(0, 10);
    expect(notice?.grant).toBeUndefined();
    expect(notice).toMatchObject({ id: made.id, problem: expect.stringContaining('provider') });
  });

  it('lets a shard’s janitor expire and notice only the guilds that shard serves', async () => {
    const { db } = await setup();
    const guilds = ['175928847299117063', '175928847303311367', '175928847307505671', '175928847311699975'];
    const shardOne = grantRepositoryFor(db.data.session, { shard: { id: 1, count: 2 } });
    const everyone = grantRepositoryFor(db.data.session);
    for (const guildId of [...guilds, 'console']) await everyone.insert(grant({ guildId, expiresAt: NOW - 1 }));
    const ours = guilds.filter((guildId) => shardOfGuild(guildId, 2) === 1);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.length).toBeLessThan(guilds.length);
    expect(await shardOne.expireDue(NOW, 100)).toBe(ours.length);
    expect((await shardOne.pendingNotices(0, 100)).map((notice) => notice.grant?.guildId).sort()).toEqual([...ours].sort());
    // The console's made-up guild belongs to shard 0, on both dialects.
    expect(await everyone.expireDue(NOW, 100)).toBe(guilds.length + 1 - ours.length);
  });
});
