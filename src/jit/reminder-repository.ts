/**
 * The one owner of `jit_expiry_reminders`, the outbox of "your grant ends soon" reminders. A reminder is queued in
 * one statement for every grant entering its last minutes (read, never written, from jit_permissions: the grant
 * itself is still GrantRepository's), then its DM and its channel notice are each marked as soon as they are sent, so
 * a crash repeats neither and loses neither. An extension moves the grant's end, which makes it due for a new one.
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { DatabaseHandle } from '../db/index.js';
import type { ReminderStatus } from '../db/schema.js';
import { shardCondition, type ShardScope } from '../sharding/shard-scope.js';

export interface QueuedReminder {
  rowId: number;
  grantId: number;
  /** The grant's end this reminder is about; a grant extended since is due for another, later, reminder. */
  expiresAt: number;
  guildId: string;
  userId: string;
  dmStatus: ReminderStatus;
  channelStatus: ReminderStatus;
  attempts: number;
}

const rowSchema = z
  .object({
    rowid: z.number().int(),
    grant_id: z.number().int(),
    expires_at: z.number(),
    guild_id: z.string(),
    user_id: z.string(),
    dm_status: z.string(),
    channel_status: z.string(),
    attempts: z.number().int(),
  })
  .transform(
    (row): QueuedReminder => ({
      rowId: row.rowid,
      grantId: row.grant_id,
      expiresAt: row.expires_at,
      guildId: row.guild_id,
      userId: row.user_id,
      dmStatus: row.dm_status as ReminderStatus,
      channelStatus: row.channel_status as ReminderStatus,
      attempts: row.attempts,
    }),
  );

export class ReminderRepository {
  readonly #enqueue: Database.Statement;
  readonly #unfinished: Database.Statement;
  readonly #markDm: Database.Statement;
  readonly #markChannel: Database.Statement;
  readonly #markAttemptFailed: Database.Statement;

  /** `shard`: queue and send only the reminders of the guilds this shard serves (one sender per reminder). */
  constructor(handle: Pick<DatabaseHandle, 'sqlite'>, options: { shard?: ShardScope } = {}) {
    const sqlite = handle.sqlite;
    // Walks jit_permissions' (revoked, expires_at) index over the next `lead` ms only. Grants no longer than the
    // lead get no reminder: their holder has only just been told when they end.
    this.#enqueue = sqlite.prepare(
      `INSERT OR IGNORE INTO jit_expiry_reminders (grant_id, expires_at, guild_id, user_id, queued_at)
       SELECT p.id, p.expires_at, p.guild_id, p.user_id, @now FROM jit_permissions p
        WHERE p.revoked = 0 AND p.expires_at > @now AND p.expires_at <= @now + @lead
          AND p.expires_at - p.granted_at > @lead${shardCondition(options.shard, 'p.guild_id')}
          AND NOT EXISTS (SELECT 1 FROM jit_expiry_reminders r WHERE r.grant_id = p.id AND r.expires_at = p.expires_at)
        ORDER BY p.expires_at LIMIT @limit`,
    );
    this.#unfinished = sqlite.prepare(
      `SELECT rowid, grant_id, expires_at, guild_id, user_id, dm_status, channel_status, attempts
         FROM jit_expiry_reminders WHERE finished_at IS NULL${shardCondition(options.shard)} AND rowid > @after ORDER BY rowid LIMIT @limit`,
    );
    // Each mark closes the row when the other channel is settled too; only a 'pending' channel is ever marked.
    this.#markDm = sqlite.prepare(
      `UPDATE jit_expiry_reminders SET dm_status = @status,
              finished_at = CASE WHEN channel_status = 'pending' THEN NULL ELSE @now END
        WHERE rowid = @rowId AND dm_status = 'pending'`,
    );
    this.#markChannel = sqlite.prepare(
      `UPDATE jit_expiry_reminders SET channel_status = @status,
              finished_at = CASE WHEN dm_status = 'pending' THEN NULL ELSE @now END
        WHERE rowid = @rowId AND channel_status = 'pending'`,
    );
    this.#markAttemptFailed = sqlite.prepare(
      `UPDATE jit_expiry_reminders SET attempts = attempts + 1, error = @error,
              dm_status = CASE WHEN attempts + 1 >= @maxAttempts AND dm_status = 'pending' THEN 'failed' ELSE dm_status END,
              channel_status = CASE WHEN attempts + 1 >= @maxAttempts AND channel_status = 'pending' THEN 'failed' ELSE channel_status END,
              finished_at = CASE WHEN attempts + 1 >= @maxAttempts THEN @now ELSE NULL END
        WHERE rowid = @rowId AND finished_at IS NULL`,
    );
  }

  /** Queues a reminder for up to `limit` grants ending within `leadMs` of `now`; how many it queued. */
  enqueueDue(now: number, leadMs: number, limit: number): number {
    return this.#enqueue.run({ now, lead: leadMs, limit }).changes;
  }

  /** Up to `limit` reminders still to send, after row `after`, oldest first. */
  unfinished(after: number, limit: number): QueuedReminder[] {
    return this.#unfinished.all({ after, limit }).map((raw) => rowSchema.parse(raw));
  }

  markDm(rowId: number, status: ReminderStatus, now: number): void {
    this.#markDm.run({ rowId, status, now });
  }

  markChannel(rowId: number, status: ReminderStatus, now: number): void {
    this.#markChannel.run({ rowId, status, now });
  }

  /** Both channels at once, e.g. 'skipped' for a grant extended or revoked since the reminder was queued. */
  markBoth(rowId: number, status: ReminderStatus, now: number): void {
    this.markDm(rowId, status, now);
    this.markChannel(rowId, status, now);
  }

  /** Counts a failed try; after `maxAttempts` what is still pending is given up as failed. */
  markAttemptFailed(rowId: number, error: string, maxAttempts: number, now: number): void {
    this.#markAttemptFailed.run({ rowId, error, maxAttempts, now });
  }
}
