import type { Logger } from '../logging/logger.js';
import { DirectMessageRefused, type Notifier } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import { describeError } from '../jit/delivery.js';
import type { GrantRepository, JitGrant } from '../jit/grant-repository.js';
import type { JitPolicySource } from '../jit/ports.js';
import type { QueuedReminder, ReminderRepository } from '../jit/reminder-repository.js';
import { expiryReminder } from '../jit/request-notices.js';
import type { JanitorJob, JobCounts } from './job.js';

export interface JitReminderJobOptions {
  reminders: ReminderRepository;
  grants: Pick<GrantRepository, 'findInGuild'>;
  policies: JitPolicySource;
  notifier: Notifier;
  clock: Clock;
  /** How long before a grant ends its holder is reminded (config JIT_EXPIRY_REMINDER_MINUTES); 0 turns it off. */
  leadMs: number;
  logger?: Logger;
  /** Reminders queued per tick at most (default 1000). */
  maxQueuedPerTick?: number;
  /** Reminders delivered per tick at most (default 500). */
  maxSentPerTick?: number;
  /** Transient failures after which a reminder is given up (default 5). */
  maxAttempts?: number;
}

type Sent = 'sent' | 'retrying' | 'failed' | 'skipped';

/**
 * Before a grant ends, DMs its holder (and posts in the notification channel, when set) with an Extend button.
 * Exactly once each across crashes: queued in one statement, each channel marked as soon as it went out.
 */
export class JitReminderJob implements JanitorJob {
  readonly name = 'jit-reminders';

  constructor(private readonly options: JitReminderJobOptions) {}

  async run(): Promise<JobCounts> {
    const { reminders, clock, leadMs } = this.options;
    const counts = { queued: 0, sent: 0, retrying: 0, failed: 0, skipped: 0 };
    if (leadMs <= 0) return counts;
    counts.queued = await reminders.enqueueDue(clock.now(), leadMs, this.options.maxQueuedPerTick ?? 1000);
    // Another process sending this shard's reminders right now (PostgreSQL) has them all: this one sends none.
    await reminders.delivering(() => this.#sweep(counts));
    return counts;
  }

  async #sweep(counts: Record<Sent, number>): Promise<void> {
    const max = this.options.maxSentPerTick ?? 500;
    let after: QueuedReminder | undefined;
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
    }
  }

  private async deliver(reminder: QueuedReminder): Promise<Sent> {
    const { reminders, grants, policies, notifier, clock, logger } = this.options;
    const grant = await grants.findInGuild(reminder.guildId, reminder.grantId);
    if (!grant || !stillEnding(grant, reminder, clock.now())) {
      // Extended (a new reminder comes for the new end), revoked, or already over: nothing to remind of.
      await reminders.markBoth(reminder, 'skipped', clock.now());
      return 'skipped';
    }
    try {
      const guildName = await notifier.guildName(grant.guildId).catch(() => undefined);
      if (reminder.dmStatus === 'pending') {
        let status: 'sent' | 'refused' = 'sent';
        try {
          await notifier.sendDirect(grant.userId, expiryReminder(grant, guildName));
        } catch (error) {
          if (!(error instanceof DirectMessageRefused)) throw error;
          status = 'refused';
        }
        await reminders.markDm(reminder, status, clock.now());
      }
      if (reminder.channelStatus === 'pending') {
        const channelId = (await policies.get(grant.guildId)).notificationChannelId;
        if (channelId) await notifier.sendToChannel(channelId, expiryReminder(grant, guildName, true));
        await reminders.markChannel(reminder, channelId ? 'sent' : 'none', clock.now());
      }
      return 'sent';
    } catch (error) {
      const description = describeError(error);
      const maxAttempts = this.options.maxAttempts ?? 5;
      await reminders.markAttemptFailed(reminder, description, maxAttempts, clock.now());
      const gaveUp = reminder.attempts + 1 >= maxAttempts;
      logger?.[gaveUp ? 'warn' : 'debug'](
        { guildId: grant.guildId, grantId: grant.id, attempts: reminder.attempts + 1, error: description },
        gaveUp ? 'JIT expiry reminder given up after repeated failures' : 'JIT expiry reminder failed; will retry',
      );
      return gaveUp ? 'failed' : 'retrying';
    }
  }
}

function stillEnding(grant: JitGrant, reminder: QueuedReminder, now: number): boolean {
  return !grant.revoked && grant.expiresAt === reminder.expiresAt && grant.expiresAt > now;
}
