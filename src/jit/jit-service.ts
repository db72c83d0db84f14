import { and, asc, desc, eq, gt, inArray, lte, or } from 'drizzle-orm';
import { z } from 'zod';
import { jitPermissions, type Db } from '../db/index.js';
import type { Logger } from '../logging/logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import { snowflakeSchema } from '../shared/snowflake.js';
import { deliverToMember, describeError, type Delivery } from './delivery.js';
import { GrantNotActive, GrantNotFound, InvalidGrant, PermissionDenied } from './errors.js';
import {
  highestLevel,
  jitProviderSchema,
  permissionLevelSchema,
  satisfies,
  type JitProvider,
  type PermissionLevel,
  type Provider,
} from './levels.js';
import { grantNotice } from './notices.js';
import type { JitAuditSink, JitPolicySource } from './ports.js';

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

/** One JIT grant as the rest of the bot sees it. */
export interface JitGrant {
  id: number;
  guildId: string;
  userId: string;
  provider: JitProvider;
  level: PermissionLevel;
  reason: string | null;
  grantedAt: number;
  expiresAt: number;
  grantedBy: string;
  revoked: boolean;
  revokedAt: number | null;
  revokedBy: string | null;
  revokeReason: 'manual' | 'expired' | null;
}

export type GrantNoticeOutcome = Delivery | { via: 'error'; error: string };

export interface GrantResult {
  grant: JitGrant;
  /** How the member was told: by DM, in the notification channel, not at all (DMs closed, no channel), or an error. */
  notice: GrantNoticeOutcome;
  dmDelivered: boolean;
}

export interface JitServiceDeps {
  db: Db;
  policies: JitPolicySource;
  audit: JitAuditSink;
  notifier: Notifier;
  clock: Clock;
  logger?: Logger;
}

type Row = typeof jitPermissions.$inferSelect;

function toGrant(row: Row): JitGrant {
  return {
    id: row.id,
    guildId: row.guild_id,
    userId: row.user_id,
    provider: row.provider,
    level: row.permission_level,
    reason: row.reason,
    grantedAt: row.granted_at,
    expiresAt: row.expires_at,
    grantedBy: row.granted_by,
    revoked: row.revoked,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    revokeReason: row.revoke_reason,
  };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'the request'} must be ${issue.message}`).join('; ');
}

/**
 * Time-boxed permissions: granting, revoking, listing, and the check every command makes at the moment of use.
 * Whether a grant counts is decided by `expires_at` against the clock, never by whether the janitor has run.
 */
export class JitService {
  private readonly db: Db;
  private readonly policies: JitPolicySource;
  private readonly audit: JitAuditSink;
  private readonly notifier: Notifier;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;

  constructor(deps: JitServiceDeps) {
    this.db = deps.db;
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

    const refuse = (code: string, message: string): never => {
      this.audit.record({
        guildId: input.guildId,
        userId: input.grantedBy,
        action: 'jit.grant',
        target: input.granteeId,
        outcome: 'denied',
        details: { code, provider: input.provider, level: input.level, durationMinutes: input.durationMinutes },
      });
      throw new InvalidGrant(code, message);
    };

    if (input.granteeIsBot) refuse('jit.bot_grantee', 'JIT permissions are for members, not bots. Pick a human member.');
    if (input.granteeId === input.grantedBy) {
      refuse('jit.self_grant', 'You cannot grant temporary permissions to yourself. Ask another server admin to grant them.');
    }
    const policy = await this.policies.get(input.guildId);
    const max = policy.maxJitMinutes;
    if (!Number.isInteger(input.durationMinutes) || input.durationMinutes < 1 || input.durationMinutes > max) {
      refuse(
        'jit.duration_out_of_range',
        `The duration must be a whole number of minutes from 1 to ${max} (this server's maximum, set in the guild policy); ` +
          `${input.durationMinutes} is not.`,
      );
    }

    const now = this.clock.now();
    const grant = this.db.transaction((tx) => {
      const row = tx
        .insert(jitPermissions)
        .values({
          guild_id: input.guildId,
          user_id: input.granteeId,
          provider: input.provider,
          permission_level: input.level,
          reason: input.reason ?? null,
          granted_at: now,
          expires_at: now + input.durationMinutes * 60_000,
          granted_by: input.grantedBy,
        })
        .returning()
        .get();
      this.audit.record({
        guildId: input.guildId,
        userId: input.grantedBy,
        action: 'jit.grant',
        target: input.granteeId,
        outcome: 'success',
        details: {
          grantId: row.id,
          provider: row.provider,
          level: row.permission_level,
          durationMinutes: input.durationMinutes,
          expiresAt: row.expires_at,
          ...(row.reason ? { reason: row.reason } : {}),
        },
      });
      return toGrant(row);
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
  revokeAll(guildId: string, userId: string, revokedBy: string): number {
    const now = this.clock.now();
    return this.db.transaction((tx) => {
      const rows = tx
        .update(jitPermissions)
        .set({ revoked: true, revoked_at: now, revoked_by: revokedBy, revoke_reason: 'manual' })
        .where(
          and(
            eq(jitPermissions.guild_id, guildId),
            eq(jitPermissions.user_id, userId),
            eq(jitPermissions.revoked, false),
            gt(jitPermissions.expires_at, now),
          ),
        )
        .returning()
        .all();
      for (const row of rows) this.recordRevoke(row, revokedBy);
      return rows.length;
    });
  }

  /** Revokes one grant by id. A grant of another guild is reported as not found, exactly like a missing id. */
  revokeOne(guildId: string, grantId: number, revokedBy: string): JitGrant {
    const now = this.clock.now();
    return this.db.transaction((tx) => {
      const existing = tx
        .select()
        .from(jitPermissions)
        .where(and(eq(jitPermissions.id, grantId), eq(jitPermissions.guild_id, guildId)))
        .get();
      if (!existing) throw new GrantNotFound(grantId);
      if (existing.revoked) throw new GrantNotActive(grantId, existing.revoke_reason === 'expired' ? 'expired' : 'revoked');
      if (existing.expires_at <= now) throw new GrantNotActive(grantId, 'expired');
      const row = tx
        .update(jitPermissions)
        .set({ revoked: true, revoked_at: now, revoked_by: revokedBy, revoke_reason: 'manual' })
        .where(and(eq(jitPermissions.id, grantId), eq(jitPermissions.revoked, false)))
        .returning()
        .get();
      if (!row) throw new GrantNotActive(grantId, 'revoked');
      this.recordRevoke(row, revokedBy);
      return toGrant(row);
    });
  }

  private recordRevoke(row: Row, revokedBy: string): void {
    this.audit.record({
      guildId: row.guild_id,
      userId: revokedBy,
      action: 'jit.revoke',
      target: row.user_id,
      outcome: 'success',
      details: { grantId: row.id, provider: row.provider, level: row.permission_level },
    });
  }

  /** Grants in force right now in a guild (optionally one member's), soonest expiry first. */
  listActive(guildId: string, userId?: string): JitGrant[] {
    const now = this.clock.now();
    return this.db
      .select()
      .from(jitPermissions)
      .where(
        and(
          eq(jitPermissions.guild_id, guildId),
          userId === undefined ? undefined : eq(jitPermissions.user_id, userId),
          eq(jitPermissions.revoked, false),
          gt(jitPermissions.expires_at, now),
        ),
      )
      .orderBy(asc(jitPermissions.expires_at), asc(jitPermissions.id))
      .all()
      .map(toGrant);
  }

  /**
   * The highest level a member holds for a provider at this instant: guild admins are admin; otherwise the best
   * grant that is neither revoked nor past `expires_at` (a grant for 'all' covers every provider); null for none.
   */
  effectiveLevel(query: { guildId: string; userId: string; provider: Provider; isGuildAdmin: boolean }): PermissionLevel | null {
    if (query.isGuildAdmin) return 'admin';
    const rows = this.db
      .select({ level: jitPermissions.permission_level })
      .from(jitPermissions)
      .where(
        and(
          eq(jitPermissions.guild_id, query.guildId),
          eq(jitPermissions.user_id, query.userId),
          eq(jitPermissions.revoked, false),
          gt(jitPermissions.expires_at, this.clock.now()),
          inArray(jitPermissions.provider, [query.provider, 'all']),
        ),
      )
      .all();
    return highestLevel(rows.map((row) => row.level));
  }

  /** The member's latest grant covering `provider` that is no longer in force (expired or revoked): why access ended. */
  lastEnded(query: { guildId: string; userId: string; provider: Provider }): JitGrant | undefined {
    const row = this.db
      .select()
      .from(jitPermissions)
      .where(
        and(
          eq(jitPermissions.guild_id, query.guildId),
          eq(jitPermissions.user_id, query.userId),
          inArray(jitPermissions.provider, [query.provider, 'all']),
          or(eq(jitPermissions.revoked, true), lte(jitPermissions.expires_at, this.clock.now())),
        ),
      )
      .orderBy(desc(jitPermissions.id))
      .get();
    return row ? toGrant(row) : undefined;
  }

  /** Returns the member's level when it is at least `needed`; otherwise throws PermissionDenied saying how to get it. */
  require(query: { guildId: string; userId: string; provider: Provider; isGuildAdmin: boolean; needed: PermissionLevel }): PermissionLevel {
    const held = this.effectiveLevel(query);
    if (held === null || !satisfies(held, query.needed)) throw new PermissionDenied(query.needed, query.provider, held);
    return held;
  }
}
