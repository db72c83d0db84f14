/**
 * The time-to-live columns on PostgreSQL (see ttl-repository.ts for what each method does). The statements are
 * SQLite's, compare-and-set alike: a destroy's try is claimed by one conditional UPDATE, so of two processes only
 * one starts it; the "expired" notices are delivered under deliveringNotices (one process at a time per shard).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { PostgresSession } from '../db/data-access.js';
import { DELIVERY_LOCKS, deliveringExclusively } from '../db/exclusive-delivery.js';
import type { NoticeStatus } from '../db/schema.js';
import { pgShardCondition, type ShardScope } from '../sharding/shard-scope.js';
import type { TtlDeployment, TtlRepository, TtlRepositoryOptions } from './ttl-repository.js';
import { MAX_TTL_ERROR_CHARS, TTL_COLUMNS, ttlRowSchema } from './ttl-rows.js';

const COLUMNS = sql.raw(TTL_COLUMNS);

export class PgTtlRepository implements TtlRepository {
  readonly #session: PostgresSession;
  readonly #shard: ShardScope | undefined;
  readonly #ownGuilds: SQL;

  constructor(session: PostgresSession, options: TtlRepositoryOptions = {}) {
    this.#session = session;
    this.#shard = options.shard;
    this.#ownGuilds = sql.raw(pgShardCondition(options.shard));
  }

  async setTtl(guildId: string, id: number, ttlMs: number | null): Promise<void> {
    await this.#run(sql`UPDATE cloud_resources SET ttl_ms = ${ttlMs}::bigint WHERE id = ${id} AND guild_id = ${guildId} AND status = 'planned'`);
  }

  async start(guildId: string, id: number, now: number): Promise<number | null> {
    await this.#run(sql`
      UPDATE cloud_resources SET expires_at = ${now}::bigint + ttl_ms, ttl_set_at = ${now}::bigint, ttl_attempts = 0,
             ttl_next_attempt_at = ${now}::bigint + ttl_ms, ttl_last_error = NULL
       WHERE id = ${id} AND guild_id = ${guildId} AND ttl_ms IS NOT NULL AND expires_at IS NULL AND status = 'active'`);
    return (await this.find(guildId, id))?.expiresAt ?? null;
  }

  async find(guildId: string, id: number): Promise<TtlDeployment | undefined> {
    const [row] = await this.#rows(sql`SELECT ${COLUMNS} FROM cloud_resources WHERE id = ${id} AND guild_id = ${guildId}`);
    return row;
  }

  async findAnywhere(id: number): Promise<TtlDeployment | undefined> {
    const [row] = await this.#rows(sql`SELECT ${COLUMNS} FROM cloud_resources WHERE id = ${id}`);
    return row;
  }

  async extend(guildId: string, id: number, was: number, expiresAt: number, now: number): Promise<boolean> {
    return (
      (await this.#run(sql`
        UPDATE cloud_resources SET expires_at = ${expiresAt}::bigint, ttl_set_at = ${now}::bigint, ttl_attempts = 0,
               ttl_next_attempt_at = ${expiresAt}::bigint, ttl_last_error = NULL
         WHERE id = ${id} AND guild_id = ${guildId} AND expires_at = ${was} AND expired_at IS NULL AND status = 'active'`)) === 1
    );
  }

  async due(now: number, limit: number): Promise<TtlDeployment[]> {
    return this.#rows(sql`
      SELECT ${COLUMNS} FROM cloud_resources
       WHERE ttl_next_attempt_at IS NOT NULL AND expired_at IS NULL AND ttl_next_attempt_at <= ${now}${this.#ownGuilds}
       ORDER BY ttl_next_attempt_at, id LIMIT ${limit}`);
  }

  async claim(id: number, now: number, nextAt: number): Promise<boolean> {
    return (
      (await this.#run(sql`
        UPDATE cloud_resources SET ttl_attempts = ttl_attempts + 1, ttl_next_attempt_at = ${nextAt}::bigint
         WHERE id = ${id} AND expired_at IS NULL AND ttl_next_attempt_at IS NOT NULL AND ttl_next_attempt_at <= ${now}`)) === 1
    );
  }

  async recordFailure(id: number, error: string): Promise<void> {
    await this.#run(sql`UPDATE cloud_resources SET ttl_last_error = ${error.slice(0, MAX_TTL_ERROR_CHARS)} WHERE id = ${id} AND expired_at IS NULL`);
  }

  async markExpired(id: number, now: number): Promise<void> {
    await this.#run(sql`
      UPDATE cloud_resources SET expired_at = ${now}::bigint, ttl_next_attempt_at = NULL, ttl_last_error = NULL, ttl_notice_status = 'pending'
       WHERE id = ${id} AND expired_at IS NULL`);
  }

  async clear(id: number): Promise<void> {
    await this.#run(sql`UPDATE cloud_resources SET expires_at = NULL, ttl_next_attempt_at = NULL WHERE id = ${id} AND expired_at IS NULL`);
  }

  async dueNow(guildId: string, id: number, now: number): Promise<void> {
    await this.#run(sql`
      UPDATE cloud_resources SET expires_at = LEAST(expires_at, ${now}::bigint), ttl_next_attempt_at = ${now}::bigint
       WHERE id = ${id} AND guild_id = ${guildId} AND expires_at IS NOT NULL AND expired_at IS NULL`);
  }

  deliveringNotices<T>(work: () => Promise<T>): Promise<T | undefined> {
    return deliveringExclusively(this.#session, DELIVERY_LOCKS.ttlNotices, this.#shard, work);
  }

  async pendingNotices(limit: number): Promise<TtlDeployment[]> {
    return this.#rows(sql`SELECT ${COLUMNS} FROM cloud_resources WHERE ttl_notice_status = 'pending'${this.#ownGuilds} ORDER BY id LIMIT ${limit}`);
  }

  async markNotice(id: number, status: NoticeStatus): Promise<void> {
    await this.#run(sql`UPDATE cloud_resources SET ttl_notice_status = ${status} WHERE id = ${id} AND ttl_notice_status = 'pending'`);
  }

  async markNoticeDirectDone(id: number): Promise<void> {
    await this.#run(sql`UPDATE cloud_resources SET ttl_notice_direct_done = true WHERE id = ${id} AND ttl_notice_status = 'pending'`);
  }

  /** How many rows the statement changed. */
  async #run(statement: SQL): Promise<number> {
    return (await this.#session.db.execute(statement)).rowCount ?? 0;
  }

  async #rows(statement: SQL): Promise<TtlDeployment[]> {
    return (await this.#session.db.execute(statement)).rows.map((raw) => ttlRowSchema.parse(raw));
  }
}
