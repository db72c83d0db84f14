/**
 * The one owner of `deployment_ttl_reminders`, the outbox of "this deployment is destroyed soon" reminders. For each
 * lead (24 h, 1 h...), one statement queues a reminder for every deployment entering its last `lead` (read, never
 * written, from cloud_resources); its DM and its channel notice are each marked as soon as they are sent, so a crash
 * repeats neither and loses neither. A bot that was down past several leads sends only the nearest one.
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { DatabaseHandle } from '../db/index.js';
import type { ReminderStatus } from '../db/schema.js';
import { shardCondition, type ShardScope } from '../sharding/shard-scope.js';

export interface QueuedTtlReminder {
  rowId: number;
  resourceId: number;
  /** The end this reminder is about; an extension since makes it stale (a new one comes for the new end). */
  expiresAt: number;
  leadMs: number;
  guildId: string;
  userId: string;
  dmStatus: ReminderStatus;
  channelStatus: ReminderStatus;
  attempts: number;
}

const rowSchema = z
  .object({
    rowid: z.number().int(),
    resource_id: z.number().int(),
    expires_at: z.number(),
    lead_ms: z.number(),
    guild_id: z.string(),
    user_id: z.string(),
    dm_status: z.string(),
    channel_status: z.string(),
    attempts: z.number().int(),
  })
  .transform(
    (row): QueuedTtlReminder => ({
      rowId: row.rowid,
      resourceId: row.resource_id,
      expiresAt: row.expires_at,
      leadMs: row.lead_ms,
      guildId: row.guild_id,
      userId: row.user_id,
      dmStatus: row.dm_status as ReminderStatus,
      channelStatus: row.channel_status as ReminderStatus,
      attempts: row.attempts,
    }),
  );

export class TtlReminderRepository {
  readonly #enqueue: Database.Statement;
  readonly #unfinished: Database.Statement;
  readonly #markDm: Database.Statement;
  readonly #markChannel: Database.Statement;
  readonly #markAttemptFailed: Database.Statement;

  /** `shard`: queue and send only the reminders of the guilds this shard serves (one sender per reminder). */
  constructor(handle: Pick<DatabaseHandle, 'sqlite'>, options: { shard?: ShardScope } = {}) {
    const sqlite = handle.sqlite;
    // Walks cloud_resources_ttl_due over the next `lead` ms only (`+r.status`: not by status, which would read every
    // active resource of every guild and sort them). A lifetime no longer than the lead gets no reminder
    // for it (the deployer has only just been told when it ends); a reminder of this lead or a nearer one already
    // queued for this end means this one is late or done.
    this.#enqueue = sqlite.prepare(
      `INSERT OR IGNORE INTO deployment_ttl_reminders (resource_id, expires_at, lead_ms, guild_id, user_id, queued_at)
       SELECT r.id, r.expires_at, @lead, r.guild_id, r.created_by, @now FROM cloud_resources r
        WHERE r.expires_at IS NOT NULL AND r.expired_at IS NULL AND r.expires_at > @now AND r.expires_at <= @now + @lead
          AND +r.status = 'active' AND r.expires_at - r.ttl_set_at > @lead${shardCondition(options.shard, 'r.guild_id')}
          AND NOT EXISTS (SELECT 1 FROM deployment_ttl_reminders t
                           WHERE t.resource_id = r.id AND t.expires_at = r.expires_at AND t.lead_ms <= @lead)
        ORDER BY r.expires_at LIMIT @limit`,
    );
    this.#unfinished = sqlite.prepare(
      `SELECT rowid, resource_id, expires_at, lead_ms, guild_id, user_id, dm_status, channel_status, attempts
         FROM deployment_ttl_reminders WHERE finished_at IS NULL${shardCondition(options.shard)} AND rowid > @after ORDER BY rowid LIMIT @limit`,
    );
    this.#markDm = sqlite.prepare(
      `UPDATE deployment_ttl_reminders SET dm_status = @status,
              finished_at = CASE WHEN channel_status = 'pending' THEN NULL ELSE @now END
        WHERE rowid = @rowId AND dm_status = 'pending'`,
    );
    this.#markChannel = sqlite.prepare(
      `UPDATE deployment_ttl_reminders SET channel_status = @status,
              finished_at = CASE WHEN dm_status = 'pending' THEN NULL ELSE @now END
        WHERE rowid = @rowId AND channel_status = 'pending'`,
    );
    this.#markAttemptFailed = sqlite.prepare(
      `UPDATE deployment_ttl_reminders SET attempts = attempts + 1, error = @error,
              dm_status = CASE WHEN attempts + 1 >= @maxAttempts AND dm_status = 'pending' THEN 'failed' ELSE dm_status END,
              channel_status = CASE WHEN attempts + 1 >= @maxAttempts AND channel_status = 'pending' THEN 'failed' ELSE channel_status END,
              finished_at = CASE WHEN attempts + 1 >= @maxAttempts THEN @now ELSE NULL END
        WHERE rowid = @rowId AND finished_at IS NULL`,
    );
  }

  /**
   * Queues the reminders due at `now` for the given leads (ms), up to `limit` in all; how many it queued. The nearest
   * lead goes first, so a deployment past two leads at once is reminded once, by the nearer.
   */
  enqueueDue(now: number, leadsMs: readonly number[], limit: number): number {
    let queued = 0;
    for (const lead of [...leadsMs].sort((a, b) => a - b)) {
      if (queued >= limit) break;
      queued += this.#enqueue.run({ now, lead, limit: limit - queued }).changes;
    }
    return queued;
  }

  /** Up to `limit` reminders still to send, after row `after`, oldest first. */
  unfinished(after: number, limit: number): QueuedTtlReminder[] {
    return this.#unfinished.all({ after, limit }).map((raw) => rowSchema.parse(raw));
  }

  markDm(rowId: number, status: ReminderStatus, now: number): void {
    this.#markDm.run({ rowId, status, now });
  }

  markChannel(rowId: number, status: ReminderStatus, now: number): void {
    this.#markChannel.run({ rowId, status, now });
  }

  markBoth(rowId: number, status: ReminderStatus, now: number): void {
    this.markDm(rowId, status, now);
    this.markChannel(rowId, status, now);
  }

  /** Counts a failed try; after `maxAttempts` what is still pending is given up as failed. */
  markAttemptFailed(rowId: number, error: string, maxAttempts: number, now: number): void {
    this.#markAttemptFailed.run({ rowId, error, maxAttempts, now });
  }
}
