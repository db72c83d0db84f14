/**
 * The deployment approvals' repository on both dialects (issue 16), on real databases with their migrations: an
 * approval is found only in its own guild, decided once however many presses or processes race, expired (and
 * audited) once by two janitors at once, each within its shard, and its notice and card edit outboxes close as told.
 */
import { expect, it } from 'vitest';
import { deployApprovalRepositoryFor, deployApprovalUnits, type NewDeployApproval } from '../src/deploy/approval-repository.js';
import { shardOfGuild } from '../src/sharding/shard-scope.js';
import { FakeClock } from './support/clock.js';
import { emptyDeployments, insertDeployment, insertProject } from './support/deployment-rows.js';
import { describeOnBothDialects, type DialectUnderTest } from './support/dialects.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '888888888888888888'; // the other shard of two
const ALICE = '300000000000000001';
const CAROL = '300000000000000003';
const NOW = 1_780_000_000_000;
const HOUR = 3_600_000;

async function newApproval(db: DialectUnderTest, guildId: string, overrides: Partial<NewDeployApproval> = {}): Promise<NewDeployApproval> {
  const projectId = await insertProject(db, guildId, `web${Math.floor(Math.random() * 1e9)}`);
  const resourceId = await insertDeployment(db, { guildId, projectId, createdBy: ALICE, status: 'planned', ttlMs: null });
  return {
    guildId,
    projectId,
    resourceId,
    planRunId: 7,
    planSha256: 'ab'.repeat(32),
    plannedResourcesJson: '[]',
    requester: { id: ALICE, isGuildAdmin: false },
    confirmedBy: { id: ALICE, isGuildAdmin: false },
    credential: null,
    credentialLabel: 'gcp-main (stored)',
    channelId: '400000000000000001',
    requestedAt: NOW,
    expiresAt: NOW + HOUR,
    ...overrides,
  };
}

describeOnBothDialects('the deployment approvals repository', (open) => {
  async function setup() {
    const db = await open();
    await emptyDeployments(db);
    return { db, approvals: deployApprovalRepositoryFor(db.data.session) };
  }

  it('stores an approval and finds it in its own guild only; another guild cannot record its card', async () => {
    const { db, approvals } = await setup();
    const made = await approvals.insert(await newApproval(db, GUILD));
    expect(made).toMatchObject({ guildId: GUILD, status: 'pending', requester: { id: ALICE, isGuildAdmin: false }, expiresAt: NOW + HOUR, decidedBy: null, card: null });
    expect(typeof made.id).toBe('number');
    expect(await approvals.findInGuild(GUILD, made.id)).toEqual(made);
    expect(await approvals.findInGuild(OTHER_GUILD, made.id)).toBeUndefined();
    await approvals.recordCard(OTHER_GUILD, made.id, { channelId: 'elsewhere', messageId: 'forged' });
    expect((await approvals.findInGuild(GUILD, made.id))?.card).toBeNull();
    await approvals.recordCard(GUILD, made.id, { channelId: '400000000000000001', messageId: 'm1' });
    expect((await approvals.findInGuild(GUILD, made.id))?.card).toEqual({ channelId: '400000000000000001', messageId: 'm1' });
    expect(await approvals.pendingCardEditIds(0, 10)).toEqual([]); // still pending: nothing to show closed
  });

  it('is decided once when two processes press at once, never past its expiry, never from another guild', async () => {
    const { db, approvals } = await setup();
    const made = await approvals.insert(await newApproval(db, GUILD));
    const elsewhere = deployApprovalRepositoryFor((await db.another()).session);
    expect(await approvals.decide(OTHER_GUILD, made.id, { status: 'approved', by: CAROL, at: NOW, notify: true })).toBeUndefined();
    expect(await approvals.decide(GUILD, made.id, { status: 'approved', by: CAROL, at: NOW + HOUR, notify: true })).toBeUndefined();
    const decided = await Promise.all([
      approvals.decide(GUILD, made.id, { status: 'approved', by: CAROL, at: NOW + 1, notify: true }),
      elsewhere.decide(GUILD, made.id, { status: 'rejected', by: CAROL, at: NOW + 2, notify: true }),
    ]);
    expect(decided.filter(Boolean)).toHaveLength(1);
    const [winner] = decided.filter(Boolean);
    expect(await approvals.findInGuild(GUILD, made.id)).toMatchObject({ status: winner?.status, decidedBy: CAROL });
    expect(await approvals.pendingNoticeIds(0, 10)).toEqual([made.id]);
  });

  it('a decision and its audit entry commit together, or not at all', async () => {
    const { db } = await setup();
    const units = deployApprovalUnits(db.data, { clock: new FakeClock(NOW) });
    const made = await units.outside.approvals.insert(await newApproval(db, GUILD));
    const decide = (fail: boolean) =>
      units.transaction(async (tx) => {
        const row = await tx.approvals.decide(GUILD, made.id, { status: 'rejected', by: CAROL, at: NOW, notify: true });
        await tx.audit.record({ guildId: GUILD, userId: CAROL, action: 'deploy.approval', target: 'web', outcome: 'denied', details: { approvalId: made.id } });
        if (fail) throw new Error('the press failed after the decision');
        return row;
      });
    await expect(decide(true)).rejects.toThrow(/press failed/);
    expect((await units.outside.approvals.findInGuild(GUILD, made.id))?.status).toBe('pending');
    expect(await db.auditTrail(GUILD)).toEqual([]);
    expect((await decide(false))?.status).toBe('rejected');
    expect((await db.auditTrail(GUILD)).map((entry) => [entry.action, entry.userId])).toEqual([['deploy.approval', CAROL]]);
  });

  it('two janitors expire each due approval once, audited once, each in its own shard', async () => {
    const { db, approvals } = await setup();
    const shard = { id: shardOfGuild(GUILD, 2), count: 2 };
    expect(shardOfGuild(OTHER_GUILD, 2)).not.toBe(shard.id);
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await approvals.insert(await newApproval(db, GUILD)));
    await approvals.recordCard(GUILD, mine[0]!.id, { channelId: '400000000000000001', messageId: 'm1' });
    const theirs = await approvals.insert(await newApproval(db, OTHER_GUILD));
    await approvals.insert(await newApproval(db, GUILD, { expiresAt: NOW + 3 * HOUR }));
    const ownShard = deployApprovalRepositoryFor(db.data.session, { shard });
    const elsewhere = deployApprovalRepositoryFor((await db.another()).session, { shard });
    const batches = await Promise.all([ownShard.expireDue(NOW + HOUR, 2), elsewhere.expireDue(NOW + HOUR, 2), ownShard.expireDue(NOW + HOUR, 2)]);
    const expired = batches.flat().map((row) => row.id);
    expect(expired.sort((a, b) => a - b)).toEqual(mine.map((a) => a.id));
    expect(batches.flat()[0]).toMatchObject({ guild_id: GUILD, requester_id: ALICE });
    expect((await approvals.findInGuild(OTHER_GUILD, theirs.id))?.status).toBe('pending');
    const audited = (await db.auditTrail(GUILD)).filter((entry) => entry.action === 'deploy.approval');
    expect(audited.map((entry) => Number(entry.details?.approvalId)).sort((a, b) => a - b)).toEqual(mine.map((a) => a.id));
    expect(audited.every((entry) => entry.userId === 'system' && entry.outcome === 'denied' && entry.target === ALICE)).toBe(true);
    expect(await ownShard.pendingNoticeIds(0, 10)).toEqual(mine.map((a) => a.id));
    expect(await ownShard.pendingCardEditIds(0, 10)).toEqual([mine[0]!.id]);
    expect(await approvals.expireDue(NOW + HOUR, 10)).toEqual([{ id: theirs.id, guild_id: OTHER_GUILD, requester_id: ALICE }]);
  });

  it('closes a queued notice and card edit as told, gives up after the tries allowed, and skips what is closed', async () => {
    const { db, approvals } = await setup();
    const made = await approvals.insert(await newApproval(db, GUILD));
    await approvals.recordCard(GUILD, made.id, { channelId: '400000000000000001', messageId: 'm1' });
    await approvals.expireDue(NOW + HOUR, 10);
    expect(await approvals.queuedNotice(made.id)).toMatchObject({ approval: { id: made.id, status: 'expired' }, attempts: 0 });
    await approvals.markNotice(made.id, 'retry', 2);
    expect((await approvals.queuedNotice(made.id))?.attempts).toBe(1);
    await approvals.markNotice(made.id, 'retry', 2);
    expect(await approvals.queuedNotice(made.id)).toBeUndefined();
    expect(await approvals.pendingNoticeIds(0, 10)).toEqual([]);
    expect(await approvals.queuedCardEdit(made.id)).toMatchObject({ attempts: 0 });
    await approvals.markCardEdit(made.id, 'edited', 5);
    await approvals.markCardEdit(made.id, 'failed', 5); // closed: not reopened
    expect(await db.rows(`SELECT notice_status, notice_attempts, card_edit_status, card_edit_attempts FROM deploy_approvals WHERE id = ${made.id}`)).toEqual([
      { notice_status: 'failed', notice_attempts: 2, card_edit_status: 'edited', card_edit_attempts: 1 },
    ]);
  });

  it('one process at a time sweeps a shard’s notices (PostgreSQL); SQLite has one process', async () => {
    const { db, approvals } = await setup();
    const elsewhere = deployApprovalRepositoryFor((await db.another()).session);
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reach = (): void => undefined;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    const holding = approvals.delivering(async () => {
      reach();
      await released;
      return 'first';
    });
    await reached;
    expect(await elsewhere.delivering(async () => 'second')).toBe(db.dialect === 'postgres' ? undefined : 'second');
    release();
    expect(await holding).toBe('first');
    expect(await elsewhere.delivering(async () => 'after')).toBe('after');
  });
});
