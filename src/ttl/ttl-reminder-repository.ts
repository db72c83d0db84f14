/**
 * The one owner of `deployment_ttl_reminders`, the outbox of "this deployment is destroyed soon" reminders. For each
 * lead (24 h, 1 h...), one statement queues a reminder for every deployment entering its last `lead` (read, never
 * written, from cloud_resources); its DM and its channel notice are each marked as soon as they are sent, so a crash
 * repeats neither and loses neither. A bot that was down past several leads sends only the nearest one. A reminder
 * is named by its key (the deployment, the end and the lead it is about): PostgreSQL's table has no rowid.
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

/** Which reminder: the deployment, the end it is about (an extension since makes it stale), and its lead. */
export interface TtlReminderKey {
  resourceId: number;
  expiresAt: number;
  leadMs: number;
}

export interface QueuedTtlReminder extends TtlReminderKey {
  guildId: string;
  userId: string;
  dmStatus: ReminderStatus;
  channelStatus: ReminderStatus;
  attempts: number;
}

export interface TtlReminderRepository {
  /**
   * Queues the reminders due at `now` for the given leads (ms), up to `limit` in all; how many it queued. The nearest
   * lead goes first, so a deployment past two leads at once is reminded once, by the nearer.
   */
  enqueueDue(now: number, leadsMs: readonly number[], limit: number): Promise<number>;
  /** Runs `work` (a sweep sending reminders) unless another process sends this shard's right now; undefined then. */
  delivering<T>(work: () => Promise<T>): Promise<T | undefined>;
  /** Up to `limit` reminders still to send, after `after` (the last of the previous batch; none: from the start), in key order. */
  unfinished(after: TtlReminderKey | undefined, limit: number): Promise<QueuedTtlReminder[]>;
  markDm(key: TtlReminderKey, status: ReminderStatus, now: number): Promise<void>;
  markChannel(key: TtlReminderKey, status: ReminderStatus, now: number): Promise<void>;
  markBoth(key: TtlReminderKey, status: ReminderStatus, now: number): Promise<void>;
  /** Counts a failed try; after `maxAttempts` what is still pending is given up as failed. */
  markAttemptFailed(key: TtlReminderKey, error: string, maxAttempts: number, now: number): Promise<void>;
}

export interface TtlReminderRepositoryOptions {
  /** Queue and send only the reminders of the guilds this shard serves (one sender per reminder). */
  shard?: ShardScope;
}

export function ttlReminderRepositoryFor(session: Session, options: TtlReminderRepositoryOptions = {}): TtlReminderRepository {
  return session.dialect === 'sqlite' ? new SqliteTtlReminderRepository(session, options) : new PgTtlReminderRepository(session, options);
}

const rowSchema = z
  .object({
    resource_id: z.coerce.number().int(),
    expires_at: z.coerce.number(),
    lead_ms: z.coerce.number(),
    guild_id: z.string(),
    user_id: z.string(),
    dm_status: z.string(),
    channel_status: z.string(),
    attempts: z.coerce.number().int(),
  })
  .transform(
    (row): QueuedTtlReminder => ({
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

const COLUMNS = 'resource_id, expires_at, lead_ms, guild_id, user_id, dm_status, channel_status, attempts';
/** Before every key: resource ids start at 1. */
const START: TtlReminderKey = { resourceId: 0, expiresAt: 0, leadMs: 0 };
const keyOf = (key: TtlReminderKey): TtlReminderKey => ({ resourceId: key.resourceId, expiresAt: key.expiresAt, leadMs: key.leadMs });
const THE_ROW = 'resource_id = @resourceId AND expires_at = @expiresAt AND lead_ms = @leadMs';

class SqliteTtlReminderRepository implements TtlReminderRepository {
  readonly #session: SqliteSession;
  readonly #shard: ShardScope | undefined;
  readonly #enqueue: Database.Statement;
  readonly #unfinished: Database.Statement;
  readonly #markDm: Database.Statement;
  readonly #markChannel: Database.Statement;
  readonly #markAttemptFailed: Database.Statement;

  constructor(session: SqliteSession, options: TtlReminderRepositoryOptions) {
    const sqlite = session.sqlite;
    this.#session = session;
    this.#shard = options.shard;
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
    // Walks the partial index ttl_reminders_unfinished from the cursor on.
    this.#unfinished = sqlite.prepare(
      `SELECT ${COLUMNS} FROM deployment_ttl_reminders
        WHERE finished_at IS NULL${shardCondition(options.shard)} AND (resource_id, expires_at, lead_ms) > (@resourceId, @expiresAt, @leadMs)
        ORDER BY resource_id, expires_at, lead_ms LIMIT @limit`,
    );
    this.#markDm = sqlite.prepare(
      `UPDATE deployment_ttl_reminders SET dm_status = @status,
              finished_at = CASE WHEN channel_status = 'pending' THEN NULL ELSE @now END
        WHERE ${THE_ROW} AND dm_status = 'pending'`,
    );
    this.#markChannel = sqlite.prepare(
      `UPDATE deployment_ttl_reminders SET channel_status = @status,
              finished_at = CASE WHEN dm_status = 'pending' THEN NULL ELSE @now END
        WHERE ${THE_ROW} AND channel_status = 'pending'`,
    );
    this.#markAttemptFailed = sqlite.prepare(
      `UPDATE deployment_ttl_reminders SET attempts = attempts + 1, error = @error,
              dm_status = CASE WHEN attempts + 1 >= @maxAttempts AND dm_status = 'pending' THEN 'failed' ELSE dm_status END,
              channel_status = CASE WHEN attempts + 1 >= @maxAttempts AND channel_status = 'pending' THEN 'failed' ELSE channel_status END,
              finished_at = CASE WHEN attempts + 1 >= @maxAttempts THEN @now ELSE NULL END
        WHERE ${THE_ROW} AND finished_at IS NULL`,
    );
  }

  async enqueueDue(now: number, leadsMs: readonly number[], limit: number): Promise<number> {
    let queued = 0;
    for (const lead of [...leadsMs].sort((a, b) => a - b)) {
      if (queued >= limit) break;
      queued += this.#enqueue.run({ now, lead, limit: limit - queued }).changes;
    }
    return queued;
  }

  delivering<T>(work: () => Promise<T>): Promise<T | undefined> {
    return deliveringExclusively(this.#session, DELIVERY_LOCKS.ttlReminders, this.#shard, work);
  }

  async unfinished(after: TtlReminderKey | undefined, limit: number): Promise<QueuedTtlReminder[]> {
    return this.#unfinished.all({ ...keyOf(after ?? START), limit }).map((raw) => rowSchema.parse(raw));
  }

  async markDm(key: TtlReminderKey, status: ReminderStatus, now: number): Promise<void> {
    this.#markDm.run({ ...keyOf(key), status, now });
  }

  async markChannel(key: TtlReminderKey, status: ReminderStatus, now: number): Promise<void> {
    this.#markChannel.run({ ...keyOf(key), status, now });
  }

  async markBoth(key: TtlReminderKey, status: ReminderStatus, now: number): Promise<void> {
    await this.markDm(key, status, now);
    await this.markChannel(key, status, now);
  }

  async markAttemptFailed(key: TtlReminderKey, error: string, maxAttempts: number, now: number): Promise<void> {
    this.#markAttemptFailed.run({ ...keyOf(key), error, maxAttempts, now });
  }
}

class PgTtlReminderRepository implements TtlReminderRepository {
  readonly #session: PostgresSession;
  readonly #shard: ShardScope | undefined;

  constructor(session: PostgresSession, options: TtlReminderRepositoryOptions) {
    this.#session = session;
    this.#shard = options.shard;
  }

  async enqueueDue(now: number, leadsMs: readonly number[], limit: number): Promise<number> {
    let queued = 0;
    for (const lead of [...leadsMs].sort((a, b) => a - b)) {
      if (queued >= limit) break;
      const result = await this.#session.db.execute(sql`
        INSERT INTO deployment_ttl_reminders (resource_id, expires_at, lead_ms, guild_id, user_id, queued_at)
        SELECT r.id, r.expires_at, ${lead}::bigint, r.guild_id, r.created_by, ${now}::bigint FROM cloud_resources r
         WHERE r.expires_at IS NOT NULL AND r.expired_at IS NULL AND r.expires_at > ${now} AND r.expires_at <= ${now + lead}
           AND r.status = 'active' AND r.expires_at - r.ttl_set_at > ${lead}${sql.raw(pgShardCondition(this.#shard, 'r.guild_id'))}
           AND NOT EXISTS (SELECT 1 FROM deployment_ttl_reminders t
                            WHERE t.resource_id = r.id AND t.expires_at = r.expires_at AND t.lead_ms <= ${lead})
         ORDER BY r.expires_at LIMIT ${limit - queued}
        ON CONFLICT DO NOTHING`);
      queued += result.rowCount ?? 0;
    }
    return queued;
  }

  delivering<T>(work: () => Promise<T>): Promise<T | undefined> {
    return deliveringExclusively(this.#session, DELIVERY_LOCKS.ttlReminders, this.#shard, work);
  }

  async unfinished(after: TtlReminderKey | undefined, limit: number): Promise<QueuedTtlReminder[]> {
    const { resourceId, expiresAt, leadMs } = after ?? START;
    const result = await this.#session.db.execute(sql`
      SELECT ${sql.raw(COLUMNS)} FROM deployment_ttl_reminders
       WHERE finished_at IS NULL${sql.raw(pgShardCondition(this.#shard))}
         AND (resource_id, expires_at, lead_ms) > (${resourceId}::bigint, ${expiresAt}::bigint, ${leadMs}::bigint)
       ORDER BY resource_id, expires_at, lead_ms LIMIT ${limit}`);
    return result.rows.map((raw) => rowSchema.parse(raw));
  }

  async markDm(key: TtlReminderKey, status: ReminderStatus, now: number): Promise<void> {
    await this.#session.db.execute(sql`
      UPDATE deployment_ttl_reminders SET dm_status = ${status},
             finished_at = CASE WHEN channel_status = 'pending' THEN NULL ELSE ${now}::bigint END
       WHERE ${this.#row(key)} AND dm_status = 'pending'`);
  }

  async markChannel(key: TtlReminderKey, status: ReminderStatus, now: number): Promise<void> {
    await this.#session.db.execute(sql`
      UPDATE deployment_ttl_reminders SET channel_status = ${status},
             finished_at = CASE WHEN dm_status = 'pending' THEN NULL ELSE ${now}::bigint END
       WHERE ${this.#row(key)} AND channel_status = 'pending'`);
  }

  async markBoth(key: TtlReminderKey, status: ReminderStatus, now: number): Promise<void> {
    await this.markDm(key, status, now);
    await this.markChannel(key, status, now);
  }

  async markAttemptFailed(key: TtlReminderKey, error: string, maxAttempts: number, now: number): Promise<void> {
    await this.#session.db.execute(sql`
      UPDATE deployment_ttl_reminders SET attempts = attempts + 1, error = ${error},
             dm_status = CASE WHEN attempts + 1 >= ${maxAttempts} AND dm_status = 'pending' THEN 'failed' ELSE dm_status END,
             channel_status = CASE WHEN attempts + 1 >= ${maxAttempts} AND channel_status = 'pending' THEN 'failed' ELSE channel_status END,
             finished_at = CASE WHEN attempts + 1 >= ${maxAttempts} THEN ${now}::bigint ELSE NULL END
       WHERE ${this.#row(key)} AND finished_at IS NULL`);
  }

  #row(key: TtlReminderKey) {
    return sql`resource_id = ${key.resourceId} AND expires_at = ${key.expiresAt} AND lead_ms = ${key.leadMs}`;
  }
}
