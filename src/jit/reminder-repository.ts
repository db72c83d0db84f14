/**
 * The one owner of `jit_expiry_reminders`, the outbox of "your grant ends soon" reminders. A reminder is queued in
 * one statement for every grant entering its last minutes (read, never written, from jit_permissions: the grant
 * itself is still GrantRepository's), then its DM and its channel notice are each marked as soon as they are sent, so
 * a crash repeats neither and loses neither. An extension moves the grant's end, which makes it due for a new one.
 * A reminder is named by its key (the grant and the end it is about): PostgreSQL's table has no rowid.
 *
 * Any number of processes may queue (the key makes a second insert a no-op); the sweep that sends them runs in one
 * process at a time per shard (`delivering`, src/db/exclusive-delivery.ts), so each is sent once.
 */
import type Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { PostgresSession, Session, SqliteSession } from '../db/data-access.js';
import { DELIVERY_LOCKS, deliveringExclusively } from '../db/exclusive-delivery.js';
import type { ReminderStatus } from '../db/schema.js';
import { pgShardCondition, shardCondition, type ShardScope } from '../sharding/shard-scope.js';

/** Which reminder: the grant, and the end of it the reminder is about. */
export interface ReminderKey {
  grantId: number;
  /** The grant's end this reminder is about; a grant extended since is due for another, later, reminder. */
  expiresAt: number;
}

export interface QueuedReminder extends ReminderKey {
  guildId: string;
  userId: string;
  dmStatus: ReminderStatus;
  channelStatus: ReminderStatus;
  attempts: number;
}

export interface ReminderRepository {
  /** Queues a reminder for up to `limit` grants ending within `leadMs` of `now`; how many it queued. */
  enqueueDue(now: number, leadMs: number, limit: number): Promise<number>;
  /** Runs `work` (a sweep sending reminders) unless another process sends this shard's right now; undefined then. */
  delivering<T>(work: () => Promise<T>): Promise<T | undefined>;
  /** Up to `limit` reminders still to send, after `after` (the last of the previous batch; none: from the start), in key order. */
  unfinished(after: ReminderKey | undefined, limit: number): Promise<QueuedReminder[]>;
  markDm(key: ReminderKey, status: ReminderStatus, now: number): Promise<void>;
  markChannel(key: ReminderKey, status: ReminderStatus, now: number): Promise<void>;
  /** Both channels at once, e.g. 'skipped' for a grant extended or revoked since the reminder was queued. */
  markBoth(key: ReminderKey, status: ReminderStatus, now: number): Promise<void>;
  /** Counts a failed try; after `maxAttempts` what is still pending is given up as failed. */
  markAttemptFailed(key: ReminderKey, error: string, maxAttempts: number, now: number): Promise<void>;
}

export interface ReminderRepositoryOptions {
  /** Queue and send only the reminders of the guilds this shard serves (one sender per reminder). */
  shard?: ShardScope;
}

export function reminderRepositoryFor(session: Session, options: ReminderRepositoryOptions = {}): ReminderRepository {
  return session.dialect === 'sqlite' ? new SqliteReminderRepository(session, options) : new PgReminderRepository(session, options);
}

const rowSchema = z
  .object({
    grant_id: z.coerce.number().int(),
    expires_at: z.coerce.number(),
    guild_id: z.string(),
    user_id: z.string(),
    dm_status: z.string(),
    channel_status: z.string(),
    attempts: z.coerce.number().int(),
  })
  .transform(
    (row): QueuedReminder => ({
      grantId: row.grant_id,
      expiresAt: row.expires_at,
      guildId: row.guild_id,
      userId: row.user_id,
      dmStatus: row.dm_status as ReminderStatus,
      channelStatus: row.channel_status as ReminderStatus,
      attempts: row.attempts,
    }),
  );

const COLUMNS = 'grant_id, expires_at, guild_id, user_id, dm_status, channel_status, attempts';
/** Before every key: grant ids start at 1. */
const START: ReminderKey = { grantId: 0, expiresAt: 0 };

class SqliteReminderRepository implements ReminderRepository {
  readonly #enqueue: Database.Statement;
  readonly #unfinished: Database.Statement;
  readonly #markDm: Database.Statement;
  readonly #markChannel: Database.Statement;
  readonly #markAttemptFailed: Database.Statement;
  readonly #session: SqliteSession;
  readonly #shard: ShardScope | undefined;

  constructor(session: SqliteSession, options: ReminderRepositoryOptions) {
    const sqlite = session.sqlite;
    this.#session = session;
    this.#shard = options.shard;
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
    // Walks the partial index jit_reminders_unfinished from the cursor on.
    this.#unfinished = sqlite.prepare(
      `SELECT ${COLUMNS} FROM jit_expiry_reminders
        WHERE finished_at IS NULL${shardCondition(options.shard)} AND (grant_id, expires_at) > (@grantId, @expiresAt)
        ORDER BY grant_id, expires_at LIMIT @limit`,
    );
    // Each mark closes the row when the other channel is settled too; only a 'pending' channel is ever marked.
    this.#markDm = sqlite.prepare(
      `UPDATE jit_expiry_reminders SET dm_status = @status,
              finished_at = CASE WHEN channel_status = 'pending' THEN NULL ELSE @now END
        WHERE grant_id = @grantId AND expires_at = @expiresAt AND dm_status = 'pending'`,
    );
    this.#markChannel = sqlite.prepare(
      `UPDATE jit_expiry_reminders SET channel_status = @status,
              finished_at = CASE WHEN dm_status = 'pending' THEN NULL ELSE @now END
        WHERE grant_id = @grantId AND expires_at = @expiresAt AND channel_status = 'pending'`,
    );
    this.#markAttemptFailed = sqlite.prepare(
      `UPDATE jit_expiry_reminders SET attempts = attempts + 1, error = @error,
              dm_status = CASE WHEN attempts + 1 >= @maxAttempts AND dm_status = 'pending' THEN 'failed' ELSE dm_status END,
              channel_status = CASE WHEN attempts + 1 >= @maxAttempts AND channel_status = 'pending' THEN 'failed' ELSE channel_status END,
              finished_at = CASE WHEN attempts + 1 >= @maxAttempts THEN @now ELSE NULL END
        WHERE grant_id = @grantId AND expires_at = @expiresAt AND finished_at IS NULL`,
    );
  }

  async enqueueDue(now: number, leadMs: number, limit: number): Promise<number> {
    return this.#enqueue.run({ now, lead: leadMs, limit }).changes;
  }

  delivering<T>(work: () => Promise<T>): Promise<T | undefined> {
    return deliveringExclusively(this.#session, DELIVERY_LOCKS.jitReminders, this.#shard, work);
  }

  async unfinished(after: ReminderKey | undefined, limit: number): Promise<QueuedReminder[]> {
    const { grantId, expiresAt } = after ?? START;
    return this.#unfinished.all({ grantId, expiresAt, limit }).map((raw) => rowSchema.parse(raw));
  }

  async markDm(key: ReminderKey, status: ReminderStatus, now: number): Promise<void> {
    this.#markDm.run({ grantId: key.grantId, expiresAt: key.expiresAt, status, now });
  }

  async markChannel(key: ReminderKey, status: ReminderStatus, now: number): Promise<void> {
    this.#markChannel.run({ grantId: key.grantId, expiresAt: key.expiresAt, status, now });
  }

  async markBoth(key: ReminderKey, status: ReminderStatus, now: number): Promise<void> {
    await this.markDm(key, status, now);
    await this.markChannel(key, status, now);
  }

  async markAttemptFailed(key: ReminderKey, error: string, maxAttempts: number, now: number): Promise<void> {
    this.#markAttemptFailed.run({ grantId: key.grantId, expiresAt: key.expiresAt, error, maxAttempts, now });
  }
}

class PgReminderRepository implements ReminderRepository {
  readonly #session: PostgresSession;
  readonly #shard: ShardScope | undefined;
  readonly #ownGuilds: string;

  constructor(session: PostgresSession, options: ReminderRepositoryOptions) {
    this.#session = session;
    this.#shard = options.shard;
    this.#ownGuilds = pgShardCondition(options.shard);
  }

  async enqueueDue(now: number, leadMs: number, limit: number): Promise<number> {
    const result = await this.#session.db.execute(sql`
      INSERT INTO jit_expiry_reminders (grant_id, expires_at, guild_id, user_id, queued_at)
      SELECT p.id, p.expires_at, p.guild_id, p.user_id, ${now}::bigint FROM jit_permissions p
       WHERE p.revoked = false AND p.expires_at > ${now} AND p.expires_at <= ${now + leadMs}
         AND p.expires_at - p.granted_at > ${leadMs}${sql.raw(pgShardCondition(this.#shard, 'p.guild_id'))}
         AND NOT EXISTS (SELECT 1 FROM jit_expiry_reminders r WHERE r.grant_id = p.id AND r.expires_at = p.expires_at)
       ORDER BY p.expires_at LIMIT ${limit}
      ON CONFLICT DO NOTHING`);
    return result.rowCount ?? 0;
  }

  delivering<T>(work: () => Promise<T>): Promise<T | undefined> {
    return deliveringExclusively(this.#session, DELIVERY_LOCKS.jitReminders, this.#shard, work);
  }

  async unfinished(after: ReminderKey | undefined, limit: number): Promise<QueuedReminder[]> {
    const { grantId, expiresAt } = after ?? START;
    const result = await this.#session.db.execute(sql`
      SELECT ${sql.raw(COLUMNS)} FROM jit_expiry_reminders
       WHERE finished_at IS NULL${sql.raw(this.#ownGuilds)} AND (grant_id, expires_at) > (${grantId}::bigint, ${expiresAt}::bigint)
       ORDER BY grant_id, expires_at LIMIT ${limit}`);
    return result.rows.map((raw) => rowSchema.parse(raw));
  }

  async markDm(key: ReminderKey, status: ReminderStatus, now: number): Promise<void> {
    await this.#session.db.execute(sql`
      UPDATE jit_expiry_reminders SET dm_status = ${status},
             finished_at = CASE WHEN channel_status = 'pending' THEN NULL ELSE ${now}::bigint END
       WHERE grant_id = ${key.grantId} AND expires_at = ${key.expiresAt} AND dm_status = 'pending'`);
  }

  async markChannel(key: ReminderKey, status: ReminderStatus, now: number): Promise<void> {
    await this.#session.db.execute(sql`
      UPDATE jit_expiry_reminders SET channel_status = ${status},
             finished_at = CASE WHEN dm_status = 'pending' THEN NULL ELSE ${now}::bigint END
       WHERE grant_id = ${key.grantId} AND expires_at = ${key.expiresAt} AND channel_status = 'pending'`);
  }

  async markBoth(key: ReminderKey, status: ReminderStatus, now: number): Promise<void> {
    await this.markDm(key, status, now);
    await this.markChannel(key, status, now);
  }

  async markAttemptFailed(key: ReminderKey, error: string, maxAttempts: number, now: number): Promise<void> {
    await this.#session.db.execute(sql`
      UPDATE jit_expiry_reminders SET attempts = attempts + 1, error = ${error},
             dm_status = CASE WHEN attempts + 1 >= ${maxAttempts} AND dm_status = 'pending' THEN 'failed' ELSE dm_status END,
             channel_status = CASE WHEN attempts + 1 >= ${maxAttempts} AND channel_status = 'pending' THEN 'failed' ELSE channel_status END,
             finished_at = CASE WHEN attempts + 1 >= ${maxAttempts} THEN ${now}::bigint ELSE NULL END
       WHERE grant_id = ${key.grantId} AND expires_at = ${key.expiresAt} AND finished_at IS NULL`);
  }
}
