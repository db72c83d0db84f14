import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from '../logging/logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import { deliverToMember, describeError } from '../jit/delivery.js';
import type { GrantRepository, JitGrant } from '../jit/grant-repository.js';
import { expiryNotice } from '../jit/notices.js';
import type { JitPolicy, JitPolicySource } from '../jit/ports.js';
import type { JanitorJob, JobCounts } from './job.js';
import { CheckpointPacer } from './checkpoint-pacer.js';
import { OwnTime } from './own-time.js';
import { AdaptiveBatchSize, TimeSlicer } from './time-slicer.js';

export interface JitExpiryJobOptions {
  /** The owner of jit_permissions: batched, set-based expiry with its audit entries, and the notice outbox. */
  grants: GrantRepository;
  clock: Clock;
  notifier: Notifier;
  policies: JitPolicySource;
  logger?: Logger;
  /** How long notice delivery may hold the event loop at a stretch, in ms (default 5); it yields when used up. */
  sliceBudgetMs?: number;
  /**
   * How long one revoke batch (one transaction) should hold the event loop, in ms (default 20): batches are sized
   * to it from the measured cost per grant, on the thread's own time (OwnTime). Longer than a notice's slice because
   * each commit has a fixed cost, the audit index pages of every guild in the batch: about 4.5 ms of CPU for 100
   * guilds, plus about 12 µs a grant (100,000 grants in batches of 400: 2.4 s of CPU; of 2,000: 1.5 s). At 12 ms over
   * a third of each batch was that fixed cost: 1,000,000 grants took 21 s of CPU in 1,484 commits, and 31 s in 2,702
   * when other processes' load shrank the batches (wall-clock sizing). 20 ms: 16 s in 694, and room under the 50 ms
   * stall target for a batch that runs long.
   */
  revokeSliceMs?: number;
  /** Most grants revoked per transaction (default 5000); the actual size adapts to revokeSliceMs. */
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
  /**
   * Runs a passive WAL checkpoint off the event loop (WalCheckpointer) and reports what it did. Awaited whenever a
   * long revocation has written about WAL_FRAMES_PER_STRETCH frames (CheckpointPacer, from the frames it reports),
   * at its end and after the notices, so the WAL starts afresh and stays small, and no commit of the bot's has a
   * big checkpoint to do itself.
   */
  checkpoint?: () => Promise<unknown>;
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
 * Fewest grants a revoke batch holds (unless revokeBatchSize is lower): each commit rewrites the pages its audit
 * entries touch in every guild's part of the audit index, whatever the batch size, so tiny batches (what the slice
 * budget would give on a machine busy with other processes) cost far more per grant.
 */
const MIN_REVOKE_BATCH = 100;

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

  private readonly revokeBatchSize: number;
  private readonly sliceBudgetMs: number;
  private readonly revokeSliceMs: number;
  private readonly noticeBatchSize: number;
  private readonly maxNoticesPerTick: number;
  private readonly maxNoticeAttempts: number;
  #checkpointFailed = false;

  constructor(private readonly options: JitExpiryJobOptions) {
    this.revokeBatchSize = options.revokeBatchSize ?? 5000;
    this.sliceBudgetMs = options.sliceBudgetMs ?? 5;
    this.revokeSliceMs = options.revokeSliceMs ?? 20;
    this.noticeBatchSize = options.noticeBatchSize ?? 100;
    this.maxNoticesPerTick = options.maxNoticesPerTick ?? 1000;
    this.maxNoticeAttempts = options.maxNoticeAttempts ?? 5;
  }

  async run(): Promise<ExpiryCounts> {
    const expired = await this.revokeDue();
    const notices = await this.deliverPendingNotices();
    if (notices.noticesSent + notices.noticesFallback + notices.noticesFailed + notices.noticesRetrying > 0) await this.#checkpoint();
    return { expired, ...notices };
  }

  /**
   * Revokes every grant due at this instant, in batches, each batch one transaction with its audit entries and
   * queued notices. Yields to the event loop between batches, and sizes them so one holds it for about revokeSliceMs.
   */
  async revokeDue(): Promise<number> {
    const now = this.options.clock.now();
    const batch = new AdaptiveBatchSize(this.revokeSliceMs, Math.min(MIN_REVOKE_BATCH, this.revokeBatchSize), this.revokeBatchSize);
    const pacer = new CheckpointPacer();
    let total = 0;
    for (;;) {
      const limit = batch.current;
      const timer = new OwnTime();
      const revoked = await this.options.grants.expireDue(now, limit);
      // Sized on the thread's own time: waiting for a CPU behind other processes is not the batch's cost.
      batch.observe(revoked, timer.elapsedMs());
      total += revoked;
      pacer.committed(revoked);
      if (revoked < limit) {
        if (total > 0) await this.#checkpoint();
        return total;
      }
      if (pacer.due) pacer.checkpointed(await this.#checkpoint());
      // Always, even after a checkpoint: one that failed at once gave the event loop no turn.
      await yieldToEventLoop();
    }
  }

  /**
   * A checkpoint off the event loop when there is a checkpointer, and its report; failing, SQLite's own
   * auto-checkpoint remains (and the report is undefined).
   */
  async #checkpoint(): Promise<unknown> {
    try {
      return await this.options.checkpoint?.();
    } catch (error) {
      if (!this.#checkpointFailed) this.options.logger?.warn({ error: describeError(error) }, 'WAL checkpoint off the event loop failed; SQLite checkpoints on commit instead');
      this.#checkpointFailed = true;
      return undefined;
    }
  }

  /**
   * Sends pending expiry notices (oldest first, up to maxNoticesPerTick) and records how each went. Another process
   * delivering this shard's notices right now (PostgreSQL, several janitors) has them all: this one sends none.
   */
  async deliverPendingNotices(): Promise<NoticeCounts> {
    const none: NoticeCounts = { noticesSent: 0, noticesFallback: 0, noticesFailed: 0, noticesRetrying: 0 };
    return (await this.options.grants.deliveringNotices(() => this.#deliverPendingNotices())) ?? none;
  }

  async #deliverPendingNotices(): Promise<NoticeCounts> {
    const counts: NoticeCounts = { noticesSent: 0, noticesFallback: 0, noticesFailed: 0, noticesRetrying: 0 };
    const policies = new Map<string, Promise<JitPolicy>>();
    const guildNames = new Map<string, Promise<string | undefined>>();
    const slicer = new TimeSlicer(this.sliceBudgetMs);
    let after = 0;
    let handled = 0;
    while (handled < this.maxNoticesPerTick) {
      const limit = Math.min(this.noticeBatchSize, this.maxNoticesPerTick - handled);
      const rows = await this.options.grants.pendingNotices(after, limit);
      for (const row of rows) {
        after = row.id;
        handled += 1;
        if (!row.grant) {
          await this.options.grants.markNotified(row.id, 'failed', this.options.clock.now(), 'unreadable grant row');
          this.options.logger?.error({ grantId: row.id, error: row.problem }, 'JIT expiry notice skipped: unreadable row');
          counts.noticesFailed += 1;
          continue;
        }
        const outcome = await this.deliverOne(row.grant, row.attempts, policies, guildNames);
        counts[outcome] += 1;
        // A real notifier yields on every network round trip; an instant one (or a run of refusals) would not.
        await slicer.maybeYield();
      }
      if (rows.length < limit) break;
    }
    return counts;
  }

  private async deliverOne(
    grant: JitGrant,
    attempts: number,
    policies: Map<string, Promise<JitPolicy>>,
    guildNames: Map<string, Promise<string | undefined>>,
  ): Promise<'noticesSent' | 'noticesFallback' | 'noticesFailed' | 'noticesRetrying'> {
    const { notifier, clock, logger, grants } = this.options;
    try {
      const policy = await memo(policies, grant.guildId, async () => this.options.policies.get(grant.guildId));
      const guildName = await memo(guildNames, grant.guildId, () => notifier.guildName(grant.guildId).catch(() => undefined));
      const delivery = await deliverToMember(
        notifier,
        grant.userId,
        { direct: expiryNotice(grant, guildName), channel: expiryNotice(grant, guildName, true) },
        policy.notificationChannelId,
      );
      const now = clock.now();
      if (delivery.via === 'dm') {
        await grants.markNotified(grant.id, 'sent', now, null);
        return 'noticesSent';
      }
      if (delivery.via === 'channel') {
        await grants.markNotified(grant.id, 'fallback', now, `direct message refused: ${delivery.refused}`);
        return 'noticesFallback';
      }
      await grants.markNotified(grant.id, 'failed', now, `direct message refused: ${delivery.refused}; the guild has no notification channel`);
      return 'noticesFailed';
    } catch (error) {
      // Anything else may pass (network, rate limit, a channel post that failed): keep it pending for a later tick.
      const description = describeError(error);
      await grants.markNoticeAttemptFailed(grant.id, description, this.maxNoticeAttempts);
      const gaveUp = attempts + 1 >= this.maxNoticeAttempts;
      logger?.[gaveUp ? 'warn' : 'debug'](
        { guildId: grant.guildId, grantId: grant.id, attempts: attempts + 1, error: description },
        gaveUp ? 'JIT expiry notice given up after repeated failures' : 'JIT expiry notice failed; will retry',
      );
      return gaveUp ? 'noticesFailed' : 'noticesRetrying';
    }
  }
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
