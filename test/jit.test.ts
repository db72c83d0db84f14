import { sqliteDataAccess } from '../src/db/data-access.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { afterEach, describe, expect, it } from 'vitest';
import { jitStore } from '../src/jit/jit-store.js';
import { describeOnBothDialects, type DialectUnderTest } from './support/dialects.js';
import { GrantNotActive, GrantNotFound, InvalidGrant, PermissionDenied } from '../src/jit/errors.js';
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

async function setup(open: () => Promise<DialectUnderTest>) {
  const db = await open();
  // The guild policy is another part's (a port of JIT's); it stays on a SQLite file of its own whatever the dialect.
  const policyDatabase = makeTestDatabase();
  cleanups.push(policyDatabase.cleanup);
  const clock = new FakeClock();
  const notifier = new RecordingNotifier({ [GUILD]: 'ACME Corp', [OTHER_GUILD]: 'Other Corp' });
  const policies = new PolicyService(sqliteDataAccess(policyDatabase), PriceCatalogue.load(), clock);
  const audit = db.audit(clock);
  const jit = new JitService({ store: jitStore(db.data, { clock }), policies, audit, notifier, clock });
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
  /** The guild's audit entries, oldest first. */
  const auditTrail = (guildId = GUILD) => db.auditTrail(guildId);
  return { db, clock, notifier, policies, jit, request, level, auditTrail };
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

describeOnBothDialects('JIT grants', (open) => {
  describe('granting', () => {
    it('grants the level for the duration, DMs the member what, where, until when and by whom, and audits it', async () => {
      const { jit, request, clock, notifier, auditTrail, level } = await setup(open);
      const result = await jit.grant(request({ reason: 'incident 42' }));

      expect(result.grant).toMatchObject({ guildId: GUILD, userId: BOB, provider: 'aws', level: 'deployer', grantedBy: ADMIN, reason: 'incident 42' });
      expect(result.grant.expiresAt).toBe(clock.now() + 60 * 60_000);
      expect(result.dmDelivered).toBe(true);
      expect(await level('aws')).toBe('deployer');

      const [dm] = notifier.dmsTo(BOB);
      const text = shownInDiscord(dm);
      expect(text).toContain('Deployer');
      expect(text).toContain('AWS');
      expect(text).toContain('ACME Corp');
      expect(text).toContain(`<t:${Math.floor(result.grant.expiresAt / 1000)}:R>`);
      expect(text).toContain(`<@${ADMIN}>`);

      expect(await auditTrail()).toEqual([
        expect.objectContaining({ action: 'jit.grant', userId: ADMIN, target: BOB, outcome: 'success', details: expect.objectContaining({ grantId: result.grant.id }) }),
      ]);
    });

    it('refuses a duration of 0, a fraction, or above the policy maximum, naming the allowed range', async () => {
      const { jit, request, level, clock } = await setup(open);
      for (const durationMinutes of [0, -5, 1.5, 481]) {
        const error = await rejection(jit.grant(request({ durationMinutes })));
        expect(error).toBeInstanceOf(InvalidGrant);
        expect(error.code).toBe('jit.duration_out_of_range');
        expect(error.message).toContain('from 1 to 480');
      }
      expect(await level('aws')).toBeNull();
      // The bounds themselves are allowed.
      await expect(jit.grant(request({ durationMinutes: 1 }))).resolves.toMatchObject({ grant: { expiresAt: clock.now() + 60_000 } });
      await expect(jit.grant(request({ durationMinutes: 480 }))).resolves.toMatchObject({ grant: { expiresAt: clock.now() + 480 * 60_000 } });
    });

    it('follows a change of the guild policy maximum at once', async () => {
      const { jit, request, policies } = await setup(open);
      await policies.update(GUILD, { maxJitMinutes: 30 }, ADMIN);
      const error = await rejection(jit.grant(request({ durationMinutes: 60 })));
      expect(error.message).toContain('from 1 to 30');

      await policies.update(GUILD, { maxJitMinutes: 1440 }, ADMIN);
      const { grant } = await jit.grant(request({ durationMinutes: 1000 }));
      expect(grant.expiresAt - grant.grantedAt).toBe(1000 * 60_000);
      // Another guild keeps its own (default) maximum.
      await expect(rejection(jit.grant(request({ guildId: OTHER_GUILD, durationMinutes: 1000 })))).resolves.toBeInstanceOf(InvalidGrant);
    });

    it('refuses a grant to oneself or to a bot, and audits the refusal', async () => {
      const { jit, request, auditTrail, level } = await setup(open);
      const self = await rejection(jit.grant(request({ granteeId: ADMIN })));
      expect(self.code).toBe('jit.self_grant');
      expect(self.message).toMatch(/another server admin/i);
      const bot = await rejection(jit.grant(request({ granteeIsBot: true })));
      expect(bot.code).toBe('jit.bot_grantee');
      expect(await level('aws', ADMIN)).toBeNull();
      expect(await level('aws')).toBeNull();
      expect((await auditTrail()).map((e) => [e.action, e.outcome, e.details?.code])).toEqual([
        ['jit.grant', 'denied', 'jit.self_grant'],
        ['jit.grant', 'denied', 'jit.bot_grantee'],
      ]);
    });

    it('refuses an unknown provider or level, and ids that are not snowflakes, with a message saying what is allowed', async () => {
      const { jit, request } = await setup(open);
      const provider = await rejection(jit.grant(request({ provider: 'oracle' as never })));
      expect(provider.message).toContain('provider must be one of gcp, aws, azure, all');
      const level = await rejection(jit.grant(request({ level: 'root' as never })));
      expect(level.message).toContain('level must be one of viewer, deployer, admin');
      const id = await rejection(jit.grant(request({ granteeId: 'bob' })));
      expect(id.code).toBe('jit.invalid');
    });

    it('still grants when the member has DMs closed, posting in the notification channel when the guild has one', async () => {
      const { jit, request, notifier, policies, level } = await setup(open);
      notifier.closeDms(BOB);

      const silent = await jit.grant(request());
      expect(silent.dmDelivered).toBe(false);
      expect(silent.notice.via).toBe('none');
      expect(await level('aws')).toBe('deployer');

      await policies.update(GUILD, { notificationChannelId: CHANNEL }, ADMIN);
      const viaChannel = await jit.grant(request({ provider: 'gcp' }));
      expect(viaChannel.dmDelivered).toBe(false);
      expect(viaChannel.notice.via).toBe('channel');
      const [post] = notifier.postsIn(CHANNEL);
      expect(shownInDiscord(post?.description)).toContain(`<@${BOB}>`);
    });

    it('still grants when the notifier fails outright, reporting the failure in the result', async () => {
      const { jit, request, notifier, level } = await setup(open);
      notifier.failNext(1);
      const result = await jit.grant(request());
      expect(result.notice.via).toBe('error');
      expect(result.dmDelivered).toBe(false);
      expect(await level('aws')).toBe('deployer');
    });
  });

  describe('checking permissions at the moment of use', () => {
    it('denies a member whose grant has expired even though the janitor has not run yet', async () => {
      const { jit, request, clock, level, db } = await setup(open);
      await jit.grant(request({ durationMinutes: 30 }));
      clock.advanceMinutes(29);
      expect(await level('aws')).toBe('deployer');
      clock.advanceMinutes(1);
      expect(await level('aws')).toBeNull();
      await expect(jit.require({ guildId: GUILD, userId: BOB, provider: 'aws', isGuildAdmin: false, needed: 'viewer' })).rejects.toThrow(PermissionDenied);
      // The row itself is untouched: only the clock decided.
      expect((await db.rows('SELECT revoked FROM jit_permissions')).map((row) => Boolean(row.revoked))).toEqual([false]);
    });

    it('gives the highest active level, lets an "all" grant cover every provider, and keeps providers apart', async () => {
      const { jit, request, level } = await setup(open);
      await jit.grant(request({ provider: 'aws', level: 'viewer' }));
      await jit.grant(request({ provider: 'all', level: 'deployer', durationMinutes: 10 }));
      await jit.grant(request({ provider: 'gcp', level: 'admin' }));
      expect(await level('aws')).toBe('deployer');
      expect(await level('azure')).toBe('deployer');
      expect(await level('gcp')).toBe('admin');
      expect(await level('aws', CAROL)).toBeNull();
    });

    it('treats guild admins as admin without any grant', async () => {
      const { jit } = await setup(open);
      expect(await jit.effectiveLevel({ guildId: GUILD, userId: CAROL, provider: 'azure', isGuildAdmin: true })).toBe('admin');
      expect(await jit.require({ guildId: GUILD, userId: CAROL, provider: 'azure', isGuildAdmin: true, needed: 'admin' })).toBe('admin');
    });

    it('denies with a message naming the level needed and how to get it', async () => {
      const { jit, request } = await setup(open);
      await jit.grant(request({ level: 'viewer' }));
      let denied: unknown;
      try {
        await jit.require({ guildId: GUILD, userId: BOB, provider: 'aws', isGuildAdmin: false, needed: 'deployer' });
      } catch (error) {
        denied = error;
      }
      expect(denied).toBeInstanceOf(PermissionDenied);
      const message = toMarkdown((denied as PermissionDenied).text);
      expect(message).toContain('Deployer access to AWS');
      expect(message).toContain('You have Viewer access');
      expect(message).toContain('/cloud-jit-grant');
      expect(await jit.require({ guildId: GUILD, userId: BOB, provider: 'aws', isGuildAdmin: false, needed: 'viewer' })).toBe('viewer');
    });

    it("does not let a grant in one guild count in another", async () => {
      const { jit, request, level } = await setup(open);
      await jit.grant(request({ provider: 'all', level: 'admin' }));
      expect(await level('aws', BOB, OTHER_GUILD)).toBeNull();
    });
  });

  describe('revoking and listing', () => {
    it('revokes one grant by id, audits it, and refuses to revoke it twice', async () => {
      const { jit, request, level, auditTrail } = await setup(open);
      const { grant } = await jit.grant(request());
      const revoked = await jit.revokeOne(GUILD, grant.id, ADMIN);
      expect(revoked).toMatchObject({ id: grant.id, revoked: true, revokedBy: ADMIN, revokeReason: 'manual' });
      expect(await level('aws')).toBeNull();
      await expect(jit.revokeOne(GUILD, grant.id, ADMIN)).rejects.toThrow(GrantNotActive);
      expect((await auditTrail()).map((e) => e.action)).toEqual(['jit.grant', 'jit.revoke']);
    });

    it("reports another guild's grant id as not found and leaves that grant alone", async () => {
      const { jit, request, level } = await setup(open);
      const { grant } = await jit.grant(request({ guildId: OTHER_GUILD }));
      await expect(jit.revokeOne(GUILD, grant.id, ADMIN)).rejects.toThrow(GrantNotFound);
      await expect(jit.revokeOne(GUILD, 424242, ADMIN)).rejects.toThrow(GrantNotFound);
      expect(await level('aws', BOB, OTHER_GUILD)).toBe('deployer');
    });

    it('refuses to revoke a grant that has already expired', async () => {
      const { jit, request, clock } = await setup(open);
      const { grant } = await jit.grant(request({ durationMinutes: 5 }));
      clock.advanceMinutes(6);
      await expect(jit.revokeOne(GUILD, grant.id, ADMIN)).rejects.toThrow(/already expired/);
    });

    it("revokes all of a member's active grants in the guild only, and counts them", async () => {
      const { jit, request, level, clock } = await setup(open);
      await jit.grant(request({ provider: 'aws' }));
      await jit.grant(request({ provider: 'gcp', level: 'admin' }));
      await jit.grant(request({ provider: 'azure', durationMinutes: 1 }));
      await jit.grant(request({ granteeId: CAROL }));
      await jit.grant(request({ guildId: OTHER_GUILD }));
      clock.advanceMinutes(2); // the azure grant has expired: nothing to revoke there

      expect(await jit.revokeAll(GUILD, BOB, ADMIN)).toBe(2);
      expect(await level('aws')).toBeNull();
      expect(await level('gcp')).toBeNull();
      expect(await level('aws', CAROL)).toBe('deployer');
      expect(await level('aws', BOB, OTHER_GUILD)).toBe('deployer');
      expect(await jit.revokeAll(GUILD, BOB, ADMIN)).toBe(0);
    });

    it("lists a guild's active grants, or one member's, soonest expiry first", async () => {
      const { jit, request, clock } = await setup(open);
      await jit.grant(request({ durationMinutes: 120 }));
      await jit.grant(request({ granteeId: CAROL, durationMinutes: 60 }));
      const { grant: shortOne } = await jit.grant(request({ durationMinutes: 5 }));
      const { grant: revoked } = await jit.grant(request({ provider: 'gcp' }));
      await jit.revokeOne(GUILD, revoked.id, ADMIN);
      await jit.grant(request({ guildId: OTHER_GUILD }));

      expect((await jit.listActive(GUILD)).map((g) => [g.userId, g.expiresAt - g.grantedAt])).toEqual([
        [BOB, 5 * 60_000],
        [CAROL, 60 * 60_000],
        [BOB, 120 * 60_000],
      ]);
      clock.advanceMinutes(5);
      expect((await jit.listActive(GUILD, BOB)).map((g) => g.id)).not.toContain(shortOne.id);
      expect(await jit.listActive(GUILD, BOB)).toHaveLength(1);
    });
  });
});
