import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { SYSTEM_USER } from '../audit/audit-log.js';
import type { Logger } from '../logging/logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import { deliverToMember, describeError } from '../jit/delivery.js';
import { jitProviderSchema, permissionLevelSchema } from '../jit/levels.js';
import { expiryNotice, type GrantFacts } from '../jit/notices.js';
import type { JitAuditSink, JitPolicy, JitPolicySource } from '../jit/ports.js';
import type { JanitorJob, JobCounts } from './job.js';
import { AdaptiveBatchSize, TimeSlicer } from './time-slicer.js';

export interface JitExpiryJobOptions {
  /** The raw connection (DatabaseHandle.sqlite): batches are single prepared statements drizzle cannot express. */
  sqlite: Database.Database;
  clock: Clock;
  audit: JitAuditSink;
  notifier: Notifier;
  policies: JitPolicySource;
  logger?: Logger;
  /**
   * How long the job may hold the event loop at a stretch, in ms (default 5). Revoke batches are sized to fit it
   * on this machine; notice delivery yields whenever it is used up.
   */
  sliceBudgetMs?: number;
  /** Most grants revoked per transaction (default 1000); the actual size adapts to sliceBudgetMs. */
  revokeBatchSize?: number;
  /** Pending notices read per query (default 100). */
  noticeBatchSize?: number;
  /**
   * Notices sent per tick at most. Sending is paced by Discord's rate limits; capping it keeps a backlog from
   * holding the tick (and so the next revocations) for long. The rest go out on the next ticks.
   */
  maxNoticesPerTick?: number;
  /** Transient failures (network, rate limit) after which a notice is given up as failed. */
  maxNoticeAttempts?: number;
}

export interface NoticeCounts extends JobCounts {
  noticesSent: number;
  noticesFallback: number;
  noticesFailed: number;
  noticesRetrying: number;
}

export interface ExpiryCounts extends NoticeCounts {
  expired: number;
}

/**
 * What the revoke returns, read loosely on purpose: a row with an odd value (hand-edited, from a future version)
 * must still be revoked and audited, never block every later revocation by failing the batch.
 */
const revokedRowSchema = z.object({
  id: z.number().int(),
  guild_id: z.string(),
  user_id: z.string(),
  provider: z.string(),
  permission_level: z.string(),
  granted_at: z.number(),
  expires_at: z.number(),
  granted_by: z.string(),
});
/** What a notice is built from: strict, since its words come from these values. */
const pendingRowSchema = revokedRowSchema.extend({
  provider: jitProviderSchema,
  permission_level: permissionLevelSchema,
  reason: z.string().nullable(),
  notice_attempts: z.number().int(),
});
const pendingIdSchema = z.object({ id: z.number().int() });
type PendingRow = z.infer<typeof pendingRowSchema>;

const ROW_COLUMNS = 'id, guild_id, user_id, provider, permission_level, granted_at, expires_at, granted_by, reason';

function facts(row: PendingRow): GrantFacts {
  return {
    id: row.id,
    userId: row.user_id,
    provider: row.provider,
    level: row.permission_level,
    grantedAt: row.granted_at,
    expiresAt: row.expires_at,
    grantedBy: row.granted_by,
    reason: row.reason,
  };
}

/**
 * Revokes grants past their expiry and tells each member, exactly once.
 *
 * The revocation and the outbox entry (notice_status = 'pending') are one UPDATE, so a crash can never revoke
 * without queuing the notice. A notice is marked sent right after the notifier accepts it and only 'pending' rows
 * are ever sent, so a later tick — of this process or of a new one after a crash — sends what is left and never
 * repeats what went out. (The one unavoidable window: the process dying between Discord accepting a DM and the
 * row update, a few microseconds, would send that one notice again.)
 */
export class JitExpiryJob implements JanitorJob {
  readonly name = 'jit-expiry';

  private readonly revokeBatch: Database.Statement;
  private readonly selectPending: Database.Statement;
  private readonly markDelivered: Database.Statement;
  private readonly markAttemptFailed: Database.Statement;
  private readonly revokeBatchSize: number;
  private readonly sliceBudgetMs: number;
  private readonly noticeBatchSize: number;
  private readonly maxNoticesPerTick: number;
  private readonly maxNoticeAttempts: number;

  constructor(private readonly options: JitExpiryJobOptions) {
    this.revokeBatchSize = options.revokeBatchSize ?? 1000;
    this.sliceBudgetMs = options.sliceBudgetMs ?? 5;
    this.noticeBatchSize = options.noticeBatchSize ?? 100;
    this.maxNoticesPerTick = options.maxNoticesPerTick ?? 1000;
    this.maxNoticeAttempts = options.maxNoticeAttempts ?? 5;
    const { sqlite } = options;
    // The inner SELECT walks the jit_expiry_due (revoked, expires_at) index; LIMIT keeps each transaction short.
    this.revokeBatch = sqlite.prepare(
      `UPDATE jit_permissions
          SET revoked = 1, revoked_at = @now, revoke_reason = 'expired', notice_status = 'pending'
        WHERE id IN (SELECT id FROM jit_permissions WHERE revoked = 0 AND expires_at <= @now LIMIT @limit)
        RETURNING ${ROW_COLUMNS}`,
    );
    // Walks the partial index jit_notice_pending; the id cursor lets a notice that failed this tick wait for the next.
    this.selectPending = sqlite.prepare(
      `SELECT ${ROW_COLUMNS}, notice_attempts FROM jit_permissions
        WHERE notice_status = 'pending' AND id > @after ORDER BY id LIMIT @limit`,
    );
    this.markDelivered = sqlite.prepare(
      `UPDATE jit_permissions
          SET notice_status = @status, notified_at = @now, notice_attempts = notice_attempts + 1, notice_error = @error
        WHERE id = @id AND notice_status = 'pending'`,
    );
    this.markAttemptFailed = sqlite.prepare(
      `UPDATE jit_permissions
          SET notice_attempts = notice_attempts + 1, notice_error = @error,
              notice_status = CASE WHEN notice_attempts + 1 >= @maxAttempts THEN 'failed' ELSE 'pending' END
        WHERE id = @id AND notice_status = 'pending'`,
    );
  }

  async run(): Promise<ExpiryCounts> {
    const expired = await this.revokeDue();
    const notices = await this.deliverPendingNotices();
    return { expired, ...notices };
  }

  /**
   * Revokes every grant due at this instant, in batches, each batch one transaction together with its audit
   * entries. Yields to the event loop between batches, and sizes them so one holds it for about sliceBudgetMs.
   */
  async revokeDue(): Promise<number> {
    const now = this.options.clock.now();
    const { audit } = this.options;
    const revokeAndAudit = this.options.sqlite.transaction((limit: number): number => {
      const rows = this.revokeBatch.all({ now, limit }).map((row) => revokedRowSchema.parse(row));
      const entries = rows.map((row) => ({
        guildId: row.guild_id,
        userId: SYSTEM_USER,
        action: 'jit.expire',
        target: row.user_id,
        outcome: 'success' as const,
        details: {
          grantId: row.id,
          provider: row.provider,
          level: row.permission_level,
          grantedBy: row.granted_by,
          lastedMinutes: Math.round((row.expires_at - row.granted_at) / 60_000),
        },
      }));
      if (audit.recordMany) audit.recordMany(entries);
      else for (const entry of entries) audit.record(entry);
      return rows.length;
    });
    const batch = new AdaptiveBatchSize(this.sliceBudgetMs, Math.min(5, this.revokeBatchSize), this.revokeBatchSize);
    let total = 0;
    for (;;) {
      const limit = batch.current;
      const started = performance.now();
      const revoked = revokeAndAudit(limit);
      batch.observe(revoked, performance.now() - started);
      total += revoked;
      if (revoked < limit) return total;
      await yieldToEventLoop();
    }
  }

  /** Sends pending expiry notices (oldest first, up to maxNoticesPerTick) and records how each went. */
  async deliverPendingNotices(): Promise<NoticeCounts> {
    const counts: NoticeCounts = { noticesSent: 0, noticesFallback: 0, noticesFailed: 0, noticesRetrying: 0 };
    const policies = new Map<string, Promise<JitPolicy>>();
    const guildNames = new Map<string, Promise<string | undefined>>();
    const slicer = new TimeSlicer(this.sliceBudgetMs);
    let after = 0;
    let handled = 0;
    while (handled < this.maxNoticesPerTick) {
      const limit = Math.min(this.noticeBatchSize, this.maxNoticesPerTick - handled);
      const rows = this.selectPending.all({ after, limit });
      for (const raw of rows) {
        after = pendingIdSchema.parse(raw).id;
        handled += 1;
        const row = pendingRowSchema.safeParse(raw);
        if (!row.success) {
          this.markDelivered.run({ id: after, status: 'failed', now: this.options.clock.now(), error: 'unreadable grant row' });
          this.options.logger?.error({ grantId: after, error: describeIssues(row.error) }, 'JIT expiry notice skipped: unreadable row');
          counts.noticesFailed += 1;
          continue;
        }
        const outcome = await this.deliverOne(row.data, policies, guildNames);
        counts[outcome] += 1;
        // A real notifier yields on every network round trip; an instant one (or a run of refusals) would not.
        await slicer.maybeYield();
      }
      if (rows.length < limit) break;
    }
    return counts;
  }

  private async deliverOne(
    row: PendingRow,
    policies: Map<string, Promise<JitPolicy>>,
    guildNames: Map<string, Promise<string | undefined>>,
  ): Promise<'noticesSent' | 'noticesFallback' | 'noticesFailed' | 'noticesRetrying'> {
    const { notifier, clock, logger } = this.options;
    try {
      const policy = await memo(policies, row.guild_id, async () => this.options.policies.get(row.guild_id));
      const guildName = await memo(guildNames, row.guild_id, () => notifier.guildName(row.guild_id).catch(() => undefined));
      const grant = facts(row);
      const delivery = await deliverToMember(
        notifier,
        row.user_id,
        { direct: expiryNotice(grant, guildName), channel: expiryNotice(grant, guildName, true) },
        policy.notificationChannelId,
      );
      const now = clock.now();
      if (delivery.via === 'dm') {
        this.markDelivered.run({ id: row.id, status: 'sent', now, error: null });
        return 'noticesSent';
      }
      if (delivery.via === 'channel') {
        this.markDelivered.run({ id: row.id, status: 'fallback', now, error: `direct message refused: ${delivery.refused}` });
        return 'noticesFallback';
      }
      this.markDelivered.run({
        id: row.id,
        status: 'failed',
        now,
        error: `direct message refused: ${delivery.refused}; the guild has no notification channel`,
      });
      return 'noticesFailed';
    } catch (error) {
      // Anything else may pass (network, rate limit, a channel post that failed): keep it pending for a later tick.
      const description = describeError(error);
      this.markAttemptFailed.run({ id: row.id, error: description, maxAttempts: this.maxNoticeAttempts });
      const gaveUp = row.notice_attempts + 1 >= this.maxNoticeAttempts;
      logger?.[gaveUp ? 'warn' : 'debug'](
        { guildId: row.guild_id, grantId: row.id, attempts: row.notice_attempts + 1, error: description },
        gaveUp ? 'JIT expiry notice given up after repeated failures' : 'JIT expiry notice failed; will retry',
      );
      return gaveUp ? 'noticesFailed' : 'noticesRetrying';
    }
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
}

/** One lookup per key per tick, shared by every notice of the same guild. */
function memo<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) {
    value = load();
    cache.set(key, value);
  }
  return value;
}
