/**
 * JIT access requests and extensions, the services on both dialects (issue 16): an approval grants, closes the
 * request and audits both in one transaction over the same repositories on SQLite and PostgreSQL; two reviewers
 * racing settle a request once; a self-extension moves the grant and records itself; the janitor expires what
 * nobody decided and tells the requester once. (The Discord-facing flows: jit-requests.test.ts, jit-extensions.test.ts.)
 */
import { sqliteDataAccess } from '../src/db/data-access.js';
import { afterEach, expect, it } from 'vitest';
import type { DataAccess } from '../src/db/data-access.js';
import { JitRequestExpiryJob } from '../src/janitor/jit-request-expiry-job.js';
import { JitRequestService } from '../src/jit/access-requests.js';
import { ExtensionService } from '../src/jit/extensions.js';
import { JitService } from '../src/jit/jit-service.js';
import { jitStore } from '../src/jit/jit-store.js';
import { RequestClosed, RequestNotFound } from '../src/jit/request-errors.js';
import { RequestNoticeOutbox } from '../src/jit/request-outbox.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { FakeClock } from './support/clock.js';
import { describeOnBothDialects, type DialectUnderTest } from './support/dialects.js';
import { RecordingNotifier } from './support/recording-notifier.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '999999999999999999';
const ADMIN = '222222222222222222';
const BOB = '333333333333333333';
const CAROL = '444444444444444444';
const CHANNEL = '555555555555555555';
const admin = { id: ADMIN, isGuildAdmin: true };
const carol = { id: CAROL, isGuildAdmin: true };

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

async function setup(open: () => Promise<DialectUnderTest>) {
  const db = await open();
  // The guild policy is another part's; it stays on a SQLite file of its own whatever the dialect.
  const policyDatabase = makeTestDatabase();
  cleanups.push(policyDatabase.cleanup);
  const clock = new FakeClock();
  const notifier = new RecordingNotifier({ [GUILD]: 'ACME Corp' });
  const policies = new PolicyService(sqliteDataAccess(policyDatabase), PriceCatalogue.load(), clock);
  const audit = db.audit(clock);
  const services = (data: DataAccess) => {
    const units = jitStore(data, { clock });
    const jit = new JitService({ store: units, policies, audit, notifier, clock });
    const outbox = new RequestNoticeOutbox({ requests: units.outside.requests, grants: units.outside.grants, policies, notifier, clock });
    const requests = new JitRequestService({ units, jit, policies, audit, notifier, clock, outbox, requestTtlMs: 60 * 60_000 });
    const extensions = new ExtensionService({ units, reviews: requests, policies, audit, clock });
    const expiry = new JitRequestExpiryJob({ units, outbox, clock });
    return { units, jit, requests, extensions, expiry };
  };
  const ask = (requests: JitRequestService, overrides: { provider?: 'aws' | 'gcp' } = {}) =>
    requests.ask({ guildId: GUILD, channelId: CHANNEL, requesterId: BOB, requesterIsBot: false, provider: overrides.provider ?? 'aws', level: 'deployer', durationMinutes: 60, reason: 'incident 7' });
  return { db, clock, notifier, policies, services, ask, ...services(db.data) };
}

const titled = (notifier: RecordingNotifier, title: string) => notifier.dmsTo(BOB).filter((n) => n.title === title);

describeOnBothDialects('JIT requests and extensions', (open) => {
  it('approving grants for the minutes approved, closes the request and audits both, and tells the requester once', async () => {
    const { requests, jit, db, notifier, clock, ask } = await setup(open);
    const { request, postedIn } = await ask(requests);
    expect(postedIn).toBe(CHANNEL);
    expect(await requests.listPending(GUILD)).toHaveLength(1);
    const approval = await requests.approve({ guildId: GUILD, requestId: request.id, reviewer: admin, minutes: 30 });
    if (approval.outcome !== 'approved') throw new Error('not approved');
    expect(approval.request).toMatchObject({ status: 'approved', decidedBy: ADMIN, approvedMinutes: 30, grantId: approval.grant.id });
    expect(approval.grant.expiresAt).toBe(clock.now() + 30 * 60_000);
    expect(await jit.effectiveLevel({ guildId: GUILD, userId: BOB, provider: 'aws', isGuildAdmin: false })).toBe('deployer');
    expect((await db.auditTrail(GUILD)).map((entry) => `${entry.action}:${entry.outcome}`)).toEqual(['jit.request:success', 'jit.request.approve:success', 'jit.grant:success']);
    expect(await Promise.all([requests.tellRequester(request.id), requests.tellRequester(request.id)])).toEqual(['sent', 'skipped']);
    expect(await requests.tellRequester(request.id)).toBe('skipped');
    expect(titled(notifier, 'JIT request approved')).toHaveLength(1);
    expect(await requests.listPending(GUILD)).toEqual([]);
  });

  it('two reviewers approving at once (on PostgreSQL from two connections) make one grant; the second is told it was decided', async () => {
    const { requests, db, services, ask } = await setup(open);
    // Two SQLite connections in one process would block each other's BEGIN; SQLite's processes are one per file anyway.
    const second = db.dialect === 'postgres' ? services(await db.another()).requests : requests;
    const { request } = await ask(requests);
    const outcomes = await Promise.allSettled([
      requests.approve({ guildId: GUILD, requestId: request.id, reviewer: admin, minutes: 60 }),
      second.approve({ guildId: GUILD, requestId: request.id, reviewer: carol, minutes: 45 }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === 'rejected');
    expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(RequestClosed);
    expect(await db.rows('SELECT CAST(count(*) AS INTEGER) AS n FROM jit_permissions')).toEqual([{ n: 1 }]);
    expect((await db.auditTrail(GUILD)).filter((entry) => entry.action === 'jit.grant')).toHaveLength(1);
  });

  it('denies with words; another guild’s request is not found; a requester cannot decide their own', async () => {
    const { requests, notifier, ask } = await setup(open);
    const { request } = await ask(requests);
    await expect(requests.approve({ guildId: OTHER_GUILD, requestId: request.id, reviewer: admin, minutes: 60 })).rejects.toBeInstanceOf(RequestNotFound);
    await expect(requests.find(OTHER_GUILD, request.id)).rejects.toBeInstanceOf(RequestNotFound);
    await expect(requests.deny({ guildId: GUILD, requestId: request.id, reviewer: { id: BOB, isGuildAdmin: true } })).rejects.toThrow(/your own request/);
    const denied = await requests.deny({ guildId: GUILD, requestId: request.id, reviewer: admin, note: 'not today' });
    expect(denied).toMatchObject({ status: 'denied', decisionNote: 'not today' });
    await expect(requests.approve({ guildId: GUILD, requestId: request.id, reviewer: carol, minutes: 60 })).rejects.toBeInstanceOf(RequestClosed);
    expect(await requests.tellRequester(request.id)).toBe('sent');
    expect(titled(notifier, 'JIT request denied')).toHaveLength(1);
  });

  it('self-extends within the allowance, then asks reviewers; the approved extension moves the grant', async () => {
    const { requests, extensions, jit, policies, db } = await setup(open);
    await policies.update(GUILD, { jitSelfExtendMinutes: 20, notificationChannelId: CHANNEL }, ADMIN);
    const { grant } = await jit.grant({ guildId: GUILD, granteeId: BOB, granteeIsBot: false, grantedBy: ADMIN, provider: 'aws', level: 'deployer', durationMinutes: 60 });
    const ref = { guildId: GUILD, grantId: grant.id };
    await expect(extensions.ask(ref, CAROL, { minutes: 5, reason: 'mine', channelId: CHANNEL })).rejects.toThrow(/Only the member holding this grant/);
    const self = await extensions.ask(ref, BOB, { minutes: 15, reason: 'almost done', channelId: CHANNEL });
    expect(self).toMatchObject({ outcome: 'extended', addedMinutes: 15, grant: { expiresAt: grant.expiresAt + 15 * 60_000 } });
    expect((await extensions.offer(ref, BOB, CHANNEL)).selfAllowance).toBe(5);
    const asked = await extensions.ask(ref, BOB, { minutes: 30, reason: 'a bit more', channelId: CHANNEL });
    if (asked.outcome !== 'requested') throw new Error('not requested');
    await expect(extensions.ask(ref, BOB, { minutes: 30, reason: 'again', channelId: CHANNEL })).rejects.toThrow(/already asked for more time/);
    const approval = await requests.approve({ guildId: GUILD, requestId: asked.request.id, reviewer: admin, minutes: 10 });
    expect(approval).toMatchObject({ outcome: 'approved', grant: { id: grant.id, expiresAt: grant.expiresAt + 25 * 60_000 } });
    expect((await db.auditTrail(GUILD)).filter((entry) => entry.action === 'jit.extend' && entry.outcome === 'success').map((entry) => entry.details?.self)).toEqual([true, false]);
  });

  it('an extension approved after its grant ended closes as expired and extends nothing', async () => {
    const { requests, extensions, jit, policies } = await setup(open);
    await policies.update(GUILD, { notificationChannelId: CHANNEL }, ADMIN);
    const { grant } = await jit.grant({ guildId: GUILD, granteeId: BOB, granteeIsBot: false, grantedBy: ADMIN, provider: 'aws', level: 'deployer', durationMinutes: 60 });
    const asked = await extensions.ask({ guildId: GUILD, grantId: grant.id }, BOB, { minutes: 30, reason: 'more', channelId: CHANNEL });
    if (asked.outcome !== 'requested') throw new Error('not requested');
    await jit.revokeOne(GUILD, grant.id, ADMIN);
    const approval = await requests.approve({ guildId: GUILD, requestId: asked.request.id, reviewer: admin, minutes: 30 });
    expect(approval).toMatchObject({ outcome: 'grant_ended', request: { status: 'expired' } });
  });

  it('the janitor expires what nobody decided, audits it and tells the requester once, even with two janitors', async () => {
    const { requests, expiry, db, services, clock, notifier, ask } = await setup(open);
    const other = db.dialect === 'postgres' ? services(await db.another()).expiry : expiry;
    await ask(requests);
    await ask(requests, { provider: 'gcp' });
    clock.advanceMinutes(61);
    const [a, b] = await Promise.all([expiry.run(), other.run()]);
    expect((a.expired ?? 0) + (b.expired ?? 0)).toBe(2);
    expect((a.noticesSent ?? 0) + (b.noticesSent ?? 0)).toBe(2);
    expect(titled(notifier, 'JIT request expired')).toHaveLength(2);
    expect((await db.auditTrail(GUILD)).filter((entry) => entry.action === 'jit.request.expire')).toHaveLength(2);
    expect(await expiry.run()).toMatchObject({ expired: 0, noticesSent: 0 });
  });
});
