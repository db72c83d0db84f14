import { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import { snowflakeSchema } from '../shared/snowflake.js';
import { deliverToMember, describeError, type Delivery } from './delivery.js';
import type { JitGrant } from './grant-repository.js';
import type { JitRepositories, JitStore } from './jit-store.js';
import { GrantNotActive, GrantNotFound, InvalidGrant, PermissionDenied } from './errors.js';
import {
  highestLevel,
  jitProviderSchema,
  permissionLevelSchema,
  satisfies,
  type PermissionLevel,
  type Provider,
} from './levels.js';
import { grantNotice } from './notices.js';
import type { JitAuditSink, JitPolicySource } from './ports.js';

export type { JitGrant } from './grant-repository.js';

const snowflake = snowflakeSchema;

const grantRequestSchema = z.object({
  guildId: snowflake,
  granteeId: snowflake,
  granteeIsBot: z.boolean(),
  grantedBy: snowflake,
  provider: jitProviderSchema,
  level: permissionLevelSchema,
  durationMinutes: z.number({ error: 'a number of minutes' }),
  reason: z
    .string()
    .trim()
    .max(300, 'at most 300 characters')
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
});

export type GrantRequest = z.input<typeof grantRequestSchema>;

export type GrantNoticeOutcome = Delivery | { via: 'error'; error: string };

export interface GrantResult {
  grant: JitGrant;
  /** How the member was told: by DM, in the notification channel, not at all (DMs closed, no channel), or an error. */
  notice: GrantNoticeOutcome;
  dmDelivered: boolean;
}

export interface JitServiceDeps {
  /** The grants and their audit entries, in units of work (the janitor's expiry job shares the grants). */
  store: JitStore;
  policies: JitPolicySource;
  audit: JitAuditSink;
  notifier: Notifier;
  clock: Clock;
  logger?: Logger;
}

type LevelQuery = { guildId: string; userId: string; provider: Provider; isGuildAdmin: boolean };
type RequiredLevel = LevelQuery & { needed: PermissionLevel };

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'the request'} must be ${issue.message}`).join('; ');
}

/**
 * Time-boxed permissions: granting, revoking, listing, and the check every command makes at the moment of use.
 * Whether a grant counts is decided by `expires_at` against the clock, never by whether the janitor has run.
 */
export class JitService {
  private readonly store: JitStore;
  private readonly policies: JitPolicySource;
  private readonly audit: JitAuditSink;
  private readonly notifier: Notifier;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;

  constructor(deps: JitServiceDeps) {
    this.store = deps.store;
    this.policies = deps.policies;
    this.audit = deps.audit;
    this.notifier = deps.notifier;
    this.clock = deps.clock;
    this.logger = deps.logger;
  }

  /**
   * Grants `level` on `provider` to a member for `durationMinutes` (1 to the guild policy's maximum), then tells
   * the member. A member who cannot be reached does not undo the grant; the result says how the notice went.
   * Authorization (is `grantedBy` a guild admin?) is the caller's job, as for every command.
   */
  async grant(request: GrantRequest): Promise<GrantResult> {
    const parsed = grantRequestSchema.safeParse(request);
    if (!parsed.success) throw new InvalidGrant('jit.invalid', `That grant cannot be made: ${describeIssues(parsed.error)}.`);
    const input = parsed.data;

    const refuse = async (code: string, message: string): Promise<never> => {
      await this.audit.record({
        guildId: input.guildId,
        userId: input.grantedBy,
        action: 'jit.grant',
        target: input.granteeId,
        outcome: 'denied',
        details: { code, provider: input.provider, level: input.level, durationMinutes: input.durationMinutes },
      });
      throw new InvalidGrant(code, message);
    };

    if (input.granteeIsBot) await refuse('jit.bot_grantee', 'JIT permissions are for members, not bots. Pick a human member.');
    if (input.granteeId === input.grantedBy) {
      await refuse('jit.self_grant', 'You cannot grant temporary permissions to yourself. Ask another server admin to grant them.');
    }
    const policy = await this.policies.get(input.guildId);
    const max = policy.maxJitMinutes;
    if (!Number.isInteger(input.durationMinutes) || input.durationMinutes < 1 || input.durationMinutes > max) {
      await refuse(
        'jit.duration_out_of_range',
        `The duration must be a whole number of minutes from 1 to ${max} (this server's maximum, set in the guild policy); ` +
          `${input.durationMinutes} is not.`,
      );
    }

    const now = this.clock.now();
    const grant = await this.store.transaction(async (tx) => {
      const created = await tx.grants.insert({
        guildId: input.guildId,
        userId: input.granteeId,
        provider: input.provider,
        level: input.level,
        reason: input.reason ?? null,
        grantedAt: now,
        expiresAt: now + input.durationMinutes * 60_000,
        grantedBy: input.grantedBy,
      });
      await tx.audit.record({
        guildId: input.guildId,
        userId: input.grantedBy,
        action: 'jit.grant',
        target: input.granteeId,
        outcome: 'success',
        details: {
          grantId: created.id,
          provider: created.provider,
          level: created.level,
          durationMinutes: input.durationMinutes,
          expiresAt: created.expiresAt,
          ...(created.reason ? { reason: created.reason } : {}),
        },
      });
      return created;
    });

    const notice = await this.notifyGranted(grant, policy.notificationChannelId);
    return { grant, notice, dmDelivered: notice.via === 'dm' };
  }

  private async notifyGranted(grant: JitGrant, channelId: string | null | undefined): Promise<GrantNoticeOutcome> {
    try {
      const guildName = await this.notifier.guildName(grant.guildId);
      return await deliverToMember(
        this.notifier,
        grant.userId,
        { direct: grantNotice(grant, guildName), channel: grantNotice(grant, guildName, true) },
        channelId,
      );
    } catch (error) {
      const description = describeError(error);
      this.logger?.warn({ guildId: grant.guildId, grantId: grant.id, error: description }, 'JIT grant notice could not be sent');
      return { via: 'error', error: description };
    }
  }

  /** Revokes every active grant of a member in a guild; returns how many. Grants already past expiry are left to the janitor. */
  async revokeAll(guildId: string, userId: string, revokedBy: string): Promise<number> {
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      const revoked = await tx.grants.revokeActiveOfMember(guildId, userId, revokedBy, now);
      for (const grant of revoked) await this.recordRevoke(tx, grant, revokedBy);
      return revoked.length;
    });
  }

  /** Revokes one grant by id. A grant of another guild is reported as not found, exactly like a missing id. */
  async revokeOne(guildId: string, grantId: number, revokedBy: string): Promise<JitGrant> {
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      const existing = await tx.grants.findInGuild(guildId, grantId);
      if (!existing) throw new GrantNotFound(grantId);
      if (existing.revoked) throw new GrantNotActive(grantId, existing.revokeReason === 'expired' ? 'expired' : 'revoked');
      if (existing.expiresAt <= now) throw new GrantNotActive(grantId, 'expired');
      const revoked = await tx.grants.revokeManually(grantId, revokedBy, now);
      if (!revoked) throw new GrantNotActive(grantId, 'revoked');
      await this.recordRevoke(tx, revoked, revokedBy);
      return revoked;
    });
  }

  private async recordRevoke(tx: JitRepositories, grant: JitGrant, revokedBy: string): Promise<void> {
    await tx.audit.record({
      guildId: grant.guildId,
      userId: revokedBy,
      action: 'jit.revoke',
      target: grant.userId,
      outcome: 'success',
      details: { grantId: grant.id, provider: grant.provider, level: grant.level },
    });
  }

  /** Grants in force right now in a guild (optionally one member's), soonest expiry first. */
  listActive(guildId: string, userId?: string): Promise<JitGrant[]> {
    return this.store.outside.grants.listActive(guildId, this.clock.now(), userId);
  }

  /**
   * The highest level a member holds for a provider at this instant: guild admins are admin; otherwise the best
   * grant that is neither revoked nor past `expires_at` (a grant for 'all' covers every provider); null for none.
   */
  async effectiveLevel(query: LevelQuery): Promise<PermissionLevel | null> {
    if (query.isGuildAdmin) return 'admin';
    return highestLevel(await this.store.outside.grants.activeLevels(this.#covering(query)));
  }

  /** The member's latest grant covering `provider` that is no longer in force (expired or revoked): why access ended. */
  lastEnded(query: { guildId: string; userId: string; provider: Provider }): Promise<JitGrant | undefined> {
    return this.store.outside.grants.lastEnded(this.#covering(query));
  }

  /** Returns the member's level when it is at least `needed`; otherwise throws PermissionDenied saying how to get it. */
  async require(query: RequiredLevel): Promise<PermissionLevel> {
    return enough(await this.effectiveLevel(query), query);
  }

  /** A member's grants that cover `provider` (a grant for 'all' covers every provider), at this instant. */
  #covering(query: { guildId: string; userId: string; provider: Provider }) {
    return { guildId: query.guildId, userId: query.userId, providers: [query.provider, 'all' as const], now: this.clock.now() };
  }
}

/** The held level when it is at least `needed`; otherwise PermissionDenied saying how to get it. */
function enough(held: PermissionLevel | null, query: RequiredLevel): PermissionLevel {
  if (held === null || !satisfies(held, query.needed)) throw new PermissionDenied(query.needed, query.provider, held);
  return held;
}
