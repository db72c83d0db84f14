import { AuditLog } from '../src/audit/audit-log.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { afterEach, describe, expect, it } from 'vitest';
import { GrantNotActive, GrantNotFound, InvalidGrant, PermissionDenied } from '../src/jit/errors.js';
import { GrantRepository } from '../src/jit/grant-repository.js';
import { JitService, type GrantRequest } from '../src/jit/jit-service.js';
import { highestLevel, providerCovers, satisfies } from '../src/jit/levels.js';
import { UserError } from '../src/shared/errors.js';
import { FakeClock } from './support/clock.js';
import { RecordingNotifier } from './support/recording-notifier.js';
import { shownInDiscord } from './support/shown.js';
import { toMarkdown } from '../src/discord/markdown.js';
import { makeTestDatabase } from './support/tmp.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '999999999999999999';
const ADMIN = '222222222222222222';
const BOB = '333333333333333333';
const CAROL = '444444444444444444';
const CHANNEL = '555555555555555555';



const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function setup() {
  const database = makeTestDatabase();
  cleanups.push(database.cleanup);
  const clock = new FakeClock();
  const notifier = new RecordingNotifier({ [GUILD]: 'ACME Corp', [OTHER_GUILD]: 'Other Corp' });
  const policies = new PolicyService(database.db, PriceCatalogue.load(), clock);
  const audit = new AuditLog(database.db, clock);
  const jit = new JitService({ grants: new GrantRepository(database), policies, audit, notifier, clock });
  const request = (overrides: Partial<GrantRequest> = {}): GrantRequest => ({
    guildId: GUILD,
    granteeId: BOB,
    granteeIsBot: false,
    grantedBy: ADMIN,
    provider: 'aws',
    level: 'deployer',
    durationMinutes: 60,
    ...overrides,
  });
  const level = (provider: 'gcp' | 'aws' | 'azure', userId = BOB, guildId = GUILD) =>
    jit.effectiveLevel({ guildId, userId, provider, isGuildAdmin: false });
  return { database, clock, notifier, policies, audit, jit, request, level };
}

/** The guild's audit entries, oldest first. */
function auditTrail(audit: AuditLog, guildId = GUILD) {
  return audit.recent(guildId, { limit: 200 }).reverse();
}

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe('permission levels', () => {
  it('orders viewer < deployer < admin and lets "all" cover every provider', () => {
    expect(satisfies('admin', 'deployer')).toBe(true);
    expect(satisfies('deployer', 'deployer')).toBe(true);
    expect(satisfies('viewer', 'deployer')).toBe(false);
    expect(satisfies(null, 'viewer')).toBe(false);
    expect(highestLevel(['viewer', 'admin', 'deployer'])).toBe('admin');
    expect(highestLevel([])).toBeNull();
    expect(providerCovers('all', 'azure')).toBe(true);
    expect(providerCovers('gcp', 'aws')).toBe(false);
  });
});

describe('granting', () => {
  it('grants the level for the duration, DMs the member what, where, until when and by whom, and audits it', async () => {
    const { jit, request, clock, notifier, audit, level } = setup();
    const result = await jit.grant(request({ reason: 'incident 42' }));

    expect(result.grant).toMatchObject({ guildId: GUILD, userId: BOB, provider: 'aws', level: 'deployer', grantedBy: ADMIN, reason: 'incident 42' });
    expect(result.grant.expiresAt).toBe(clock.now() + 60 * 60_000);
    expect(result.dmDelivered).toBe(true);
    expect(level('aws')).toBe('deployer');

    const [dm] = notifier.dmsTo(BOB);
    const text = shownInDiscord(dm);
    expect(text).toContain('Deployer');
    expect(text).toContain('AWS');
    expect(text).toContain('ACME Corp');
    expect(text).toContain(`<t:${Math.floor(result.grant.expiresAt / 1000)}:R>`);
    expect(text).toContain(`<@${ADMIN}>`);

    expect(auditTrail(audit)).toEqual([
      expect.objectContaining({ action: 'jit.grant', userId: ADMIN, target: BOB, outcome: 'success', details: expect.objectContaining({ grantId: result.grant.id }) }),
    ]);
  });

  it('refuses a duration of 0, a fraction, or above the policy maximum, naming the allowed range', async () => {
    const { jit, request, level, clock } = setup();
    for (const durationMinutes of [0, -5, 1.5, 481]) {
      const error = await rejection(jit.grant(request({ durationMinutes })));
      expect(error).toBeInstanceOf(InvalidGrant);
      expect(error.code).toBe('jit.duration_out_of_range');
      expect(error.message).toContain('from 1 to 480');
    }
    expect(level('aws')).toBeNull();
    // The bounds themselves are allowed.
    await expect(jit.grant(request({ durationMinutes: 1 }))).resolves.toMatchObject({ grant: { expiresAt: clock.now() + 60_000 } });
    await expect(jit.grant(request({ durationMinutes: 480 }))).resolves.toMatchObject({ grant: { expiresAt: clock.now() + 480 * 60_000 } });
  });

  it('follows a change of the guild policy maximum at once', async () => {
    const { jit, request, policies } = setup();
    policies.update(GUILD, { maxJitMinutes: 30 }, ADMIN);
    const error = await rejection(jit.grant(request({ durationMinutes: 60 })));
    expect(error.message).toContain('from 1 to 30');

    policies.update(GUILD, { maxJitMinutes: 1440 }, ADMIN);
    const { grant } = await jit.grant(request({ durationMinutes: 1000 }));
    expect(grant.expiresAt - grant.grantedAt).toBe(1000 * 60_000);
    // Another guild keeps its own (default) maximum.
    await expect(rejection(jit.grant(request({ guildId: OTHER_GUILD, durationMinutes: 1000 })))).resolves.toBeInstanceOf(InvalidGrant);
  });

  it('refuses a grant to oneself or to a bot, and audits the refusal', async () => {
    const { jit, request, audit, level } = setup();
    const self = await rejection(jit.grant(request({ granteeId: ADMIN })));
    expect(self.code).toBe('jit.self_grant');
    expect(self.message).toMatch(/another server admin/i);
    const bot = await rejection(jit.grant(request({ granteeIsBot: true })));
    expect(bot.code).toBe('jit.bot_grantee');
    expect(level('aws', ADMIN)).toBeNull();
    expect(level('aws')).toBeNull();
    expect(auditTrail(audit).map((e) => [e.action, e.outcome, e.details?.code])).toEqual([
      ['jit.grant', 'denied', 'jit.self_grant'],
      ['jit.grant', 'denied', 'jit.bot_grantee'],
    ]);
  });

  it('refuses an unknown provider or level, and ids that are not snowflakes, with a message saying what is allowed', async () => {
    const { jit, request } = setup();
    const provider = await rejection(jit.grant(request({ provider: 'oracle' as never })));
    expect(provider.message).toContain('provider must be one of gcp, aws, azure, all');
    const level = await rejection(jit.grant(request({ level: 'root' as never })));
    expect(level.message).toContain('level must be one of viewer, deployer, admin');
    const id = await rejection(jit.grant(request({ granteeId: 'bob' })));
    expect(id.code).toBe('jit.invalid');
  });

  it('still grants when the member has DMs closed, posting in the notification channel when the guild has one', async () => {
    const { jit, request, notifier, policies, level } = setup();
    notifier.closeDms(BOB);

    const silent = await jit.grant(request());
    expect(silent.dmDelivered).toBe(false);
    expect(silent.notice.via).toBe('none');
    expect(level('aws')).toBe('deployer');

    policies.update(GUILD, { notificationChannelId: CHANNEL }, ADMIN);
    const viaChannel = await jit.grant(request({ provider: 'gcp' }));
    expect(viaChannel.dmDelivered).toBe(false);
    expect(viaChannel.notice.via).toBe('channel');
    const [post] = notifier.postsIn(CHANNEL);
    expect(shownInDiscord(post?.description)).toContain(`<@${BOB}>`);
  });

  it('still grants when the notifier fails outright, reporting the failure in the result', async () => {
    const { jit, request, notifier, level } = setup();
    notifier.failNext(1);
    const result = await jit.grant(request());
    expect(result.notice.via).toBe('error');
    expect(result.dmDelivered).toBe(false);
    expect(level('aws')).toBe('deployer');
  });
});

describe('checking permissions at the moment of use', () => {
  it('denies a member whose grant has expired even though the janitor has not run yet', async () => {
    const { jit, request, clock, level, database } = setup();
    await jit.grant(request({ durationMinutes: 30 }));
    clock.advanceMinutes(29);
    expect(level('aws')).toBe('deployer');
    clock.advanceMinutes(1);
    expect(level('aws')).toBeNull();
    expect(() => jit.require({ guildId: GUILD, userId: BOB, provider: 'aws', isGuildAdmin: false, needed: 'viewer' })).toThrow(PermissionDenied);
    // The row itself is untouched: only the clock decided.
    expect(database.sqlite.prepare('SELECT revoked FROM jit_permissions').get()).toEqual({ revoked: 0 });
  });

  it('gives the highest active level, lets an "all" grant cover every provider, and keeps providers apart', async () => {
    const { jit, request, level } = setup();
    await jit.grant(request({ provider: 'aws', level: 'viewer' }));
    await jit.grant(request({ provider: 'all', level: 'deployer', durationMinutes: 10 }));
    await jit.grant(request({ provider: 'gcp', level: 'admin' }));
    expect(level('aws')).toBe('deployer');
    expect(level('azure')).toBe('deployer');
    expect(level('gcp')).toBe('admin');
    expect(level('aws', CAROL)).toBeNull();
  });

  it('treats guild admins as admin without any grant', () => {
    const { jit } = setup();
    expect(jit.effectiveLevel({ guildId: GUILD, userId: CAROL, provider: 'azure', isGuildAdmin: true })).toBe('admin');
    expect(jit.require({ guildId: GUILD, userId: CAROL, provider: 'azure', isGuildAdmin: true, needed: 'admin' })).toBe('admin');
  });

  it('denies with a message naming the level needed and how to get it', async () => {
    const { jit, request } = setup();
    await jit.grant(request({ level: 'viewer' }));
    let denied: unknown;
    try {
      jit.require({ guildId: GUILD, userId: BOB, provider: 'aws', isGuildAdmin: false, needed: 'deployer' });
    } catch (error) {
      denied = error;
    }
    expect(denied).toBeInstanceOf(PermissionDenied);
    const message = toMarkdown((denied as PermissionDenied).text);
    expect(message).toContain('Deployer access to AWS');
    expect(message).toContain('You have Viewer access');
    expect(message).toContain('/cloud-jit-grant');
    expect(jit.require({ guildId: GUILD, userId: BOB, provider: 'aws', isGuildAdmin: false, needed: 'viewer' })).toBe('viewer');
  });

  it("does not let a grant in one guild count in another", async () => {
    const { jit, request, level } = setup();
    await jit.grant(request({ provider: 'all', level: 'admin' }));
    expect(level('aws', BOB, OTHER_GUILD)).toBeNull();
  });
});

describe('revoking and listing', () => {
  it('revokes one grant by id, audits it, and refuses to revoke it twice', async () => {
    const { jit, request, level, audit } = setup();
    const { grant } = await jit.grant(request());
    const revoked = jit.revokeOne(GUILD, grant.id, ADMIN);
    expect(revoked).toMatchObject({ id: grant.id, revoked: true, revokedBy: ADMIN, revokeReason: 'manual' });
    expect(level('aws')).toBeNull();
    expect(() => jit.revokeOne(GUILD, grant.id, ADMIN)).toThrow(GrantNotActive);
    expect(auditTrail(audit).map((e) => e.action)).toEqual(['jit.grant', 'jit.revoke']);
  });

  it("reports another guild's grant id as not found and leaves that grant alone", async () => {
    const { jit, request, level } = setup();
    const { grant } = await jit.grant(request({ guildId: OTHER_GUILD }));
    expect(() => jit.revokeOne(GUILD, grant.id, ADMIN)).toThrow(GrantNotFound);
    expect(() => jit.revokeOne(GUILD, 424242, ADMIN)).toThrow(GrantNotFound);
    expect(level('aws', BOB, OTHER_GUILD)).toBe('deployer');
  });

  it('refuses to revoke a grant that has already expired', async () => {
    const { jit, request, clock } = setup();
    const { grant } = await jit.grant(request({ durationMinutes: 5 }));
    clock.advanceMinutes(6);
    expect(() => jit.revokeOne(GUILD, grant.id, ADMIN)).toThrow(/already expired/);
  });

  it("revokes all of a member's active grants in the guild only, and counts them", async () => {
    const { jit, request, level, clock } = setup();
    await jit.grant(request({ provider: 'aws' }));
    await jit.grant(request({ provider: 'gcp', level: 'admin' }));
    await jit.grant(request({ provider: 'azure', durationMinutes: 1 }));
    await jit.grant(request({ granteeId: CAROL }));
    await jit.grant(request({ guildId: OTHER_GUILD }));
    clock.advanceMinutes(2); // the azure grant has expired: nothing to revoke there

    expect(jit.revokeAll(GUILD, BOB, ADMIN)).toBe(2);
    expect(level('aws')).toBeNull();
    expect(level('gcp')).toBeNull();
    expect(level('aws', CAROL)).toBe('deployer');
    expect(level('aws', BOB, OTHER_GUILD)).toBe('deployer');
    expect(jit.revokeAll(GUILD, BOB, ADMIN)).toBe(0);
  });

  it("lists a guild's active grants, or one member's, soonest expiry first", async () => {
    const { jit, request, clock } = setup();
    await jit.grant(request({ durationMinutes: 120 }));
    await jit.grant(request({ granteeId: CAROL, durationMinutes: 60 }));
    const { grant: shortOne } = await jit.grant(request({ durationMinutes: 5 }));
    const { grant: revoked } = await jit.grant(request({ provider: 'gcp' }));
    jit.revokeOne(GUILD, revoked.id, ADMIN);
    await jit.grant(request({ guildId: OTHER_GUILD }));

    expect(jit.listActive(GUILD).map((g) => [g.userId, g.expiresAt - g.grantedAt])).toEqual([
      [BOB, 5 * 60_000],
      [CAROL, 60 * 60_000],
      [BOB, 120 * 60_000],
    ]);
    clock.advanceMinutes(5);
    expect(jit.listActive(GUILD, BOB).map((g) => g.id)).not.toContain(shortOne.id);
    expect(jit.listActive(GUILD, BOB)).toHaveLength(1);
  });
});
