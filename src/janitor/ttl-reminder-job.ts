import type { Logger } from '../logging/logger.js';
import { DirectMessageRefused, type Notifier } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import { describeError } from '../jit/delivery.js';
import type { TtlDestroyer } from '../ttl/ttl-destroyer.js';
import { ttlReminder } from '../ttl/ttl-notices.js';
import type { QueuedTtlReminder, TtlReminderRepository } from '../ttl/ttl-reminder-repository.js';
import type { TtlRepository } from '../ttl/ttl-repository.js';
import type { JanitorJob, JobCounts } from './job.js';

export interface TtlReminderJobOptions {
  reminders: TtlReminderRepository;
  ttls: Pick<TtlRepository, 'find'>;
  destroyer: Pick<TtlDestroyer, 'subject' | 'cannotDestroy'>;
  policies: { get(guildId: string): Promise<{ notificationChannelId: string | null }> };
  notifier: Notifier;
  clock: Clock;
  /** How long before the end the deployer is reminded (config TTL_REMINDER_LEADS); empty turns it off. */
  leadsMs: readonly number[];
  logger?: Logger;
  maxQueuedPerTick?: number;
  maxSentPerTick?: number;
  /** Transient failures after which a reminder is given up (default 5). */
  maxAttempts?: number;
}

type Sent = 'sent' | 'retrying' | 'failed' | 'skipped';

/**
 * Before a deployment's time to live runs out (24 h and 1 h before by default), DMs its deployer and posts in the
 * notification channel, with Extend and Destroy now, and says when the bot could not destroy it unattended as things
 * stand (no credential for its project). Exactly once each across crashes: queued in one statement, each channel
 * marked as soon as it went out.
 */
export class TtlReminderJob implements JanitorJob {
  readonly name = 'ttl-reminders';

  constructor(private readonly options: TtlReminderJobOptions) {}

  async run(): Promise<JobCounts> {
    const { reminders, clock, leadsMs } = this.options;
    const counts = { queued: 0, sent: 0, retrying: 0, failed: 0, skipped: 0 };
    if (leadsMs.length === 0) return counts;
    counts.queued = await reminders.enqueueDue(clock.now(), leadsMs, this.options.maxQueuedPerTick ?? 1000);
    // Another process sending this shard's reminders right now (PostgreSQL) has them all: this one sends none.
    await reminders.delivering(() => this.#sweep(counts));
    return counts;
  }

  async #sweep(counts: Record<Sent, number>): Promise<void> {
    const max = this.options.maxSentPerTick ?? 500;
    let after: QueuedTtlReminder | undefined;
    let handled = 0;
    while (handled < max) {
      const limit = Math.min(100, max - handled);
      const batch = await this.options.reminders.unfinished(after, limit);
      for (const reminder of batch) {
        after = reminder;
        handled += 1;
        counts[await this.deliver(reminder)] += 1;
      }
      if (batch.length < limit) break;
      // Between batches, commands waiting on the event loop go first (a notifier that never waits would hold it).
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async deliver(reminder: QueuedTtlReminder): Promise<Sent> {
    const { reminders, ttls, destroyer, policies, notifier, clock, logger } = this.options;
    const row = await ttls.find(reminder.guildId, reminder.resourceId);
    const found = row && row.expiresAt === reminder.expiresAt && row.expiredAt === null && row.status === 'active' && row.expiresAt > clock.now() ? await destroyer.subject(row) : undefined;
    if (!row || !found) {
      // Extended (a new reminder comes for the new end), destroyed, or already over: nothing to remind of.
      await reminders.markBoth(reminder, 'skipped', clock.now());
      return 'skipped';
    }
    try {
      const guildName = await notifier.guildName(row.guildId).catch(() => undefined);
      const cannotDestroy = await destroyer.cannotDestroy(row);
      if (reminder.dmStatus === 'pending') {
        let status: 'sent' | 'refused' = 'sent';
        try {
          await notifier.sendDirect(row.createdBy, ttlReminder(found.subject, guildName, false, cannotDestroy));
        } catch (error) {
          if (!(error instanceof DirectMessageRefused)) throw error;
          status = 'refused';
        }
        await reminders.markDm(reminder, status, clock.now());
      }
      if (reminder.channelStatus === 'pending') {
        const channelId = (await policies.get(row.guildId)).notificationChannelId;
        if (channelId) await notifier.sendToChannel(channelId, ttlReminder(found.subject, guildName, true, cannotDestroy));
        await reminders.markChannel(reminder, channelId ? 'sent' : 'none', clock.now());
      }
      return 'sent';
    } catch (error) {
      const description = describeError(error);
      const maxAttempts = this.options.maxAttempts ?? 5;
      await reminders.markAttemptFailed(reminder, description, maxAttempts, clock.now());
      const gaveUp = reminder.attempts + 1 >= maxAttempts;
      logger?.[gaveUp ? 'warn' : 'debug'](
        { guildId: row.guildId, resourceId: row.id, attempts: reminder.attempts + 1, error: description },
        gaveUp ? 'TTL reminder given up after repeated failures' : 'TTL reminder failed; will retry',
      );
      return gaveUp ? 'failed' : 'retrying';
    }
  }
}
