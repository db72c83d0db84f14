/** The time-to-live columns on SQLite (see ttl-repository.ts for what each method does): statements prepared once. */
import type Database from 'better-sqlite3';
import type { SqliteSession } from '../db/data-access.js';
import { DELIVERY_LOCKS, deliveringExclusively } from '../db/exclusive-delivery.js';
import type { NoticeStatus } from '../db/schema.js';
import { shardCondition, type ShardScope } from '../sharding/shard-scope.js';
import type { TtlDeployment, TtlRepository, TtlRepositoryOptions } from './ttl-repository.js';
import { MAX_TTL_ERROR_CHARS, TTL_COLUMNS, ttlRowSchema } from './ttl-rows.js';

export class SqliteTtlRepository implements TtlRepository {
  readonly #session: SqliteSession;
  readonly #shard: ShardScope | undefined;
  readonly #setTtl: Database.Statement;
  readonly #start: Database.Statement;
  readonly #inGuild: Database.Statement;
  readonly #byId: Database.Statement;
  readonly #extend: Database.Statement;
  readonly #due: Database.Statement;
  readonly #claim: Database.Statement;
  readonly #failed: Database.Statement;
  readonly #expired: Database.Statement;
  readonly #clear: Database.Statement;
  readonly #dueNow: Database.Statement;
  readonly #pendingNotices: Database.Statement;
  readonly #markNotice: Database.Statement;
  readonly #markNoticeDirectDone: Database.Statement;

  constructor(session: SqliteSession, options: TtlRepositoryOptions = {}) {
    const sqlite = session.sqlite;
    this.#session = session;
    this.#shard = options.shard;
    const ownGuilds = shardCondition(options.shard);
    this.#setTtl = sqlite.prepare(`UPDATE cloud_resources SET ttl_ms = @ttlMs WHERE id = @id AND guild_id = @guildId AND status = 'planned'`);
    // The clock starts at the apply: only an active row that asked for a time to live, and only once.
    this.#start = sqlite.prepare(
      `UPDATE cloud_resources SET expires_at = @now + ttl_ms, ttl_set_at = @now, ttl_attempts = 0, ttl_next_attempt_at = @now + ttl_ms,
              ttl_last_error = NULL
        WHERE id = @id AND guild_id = @guildId AND ttl_ms IS NOT NULL AND expires_at IS NULL AND status = 'active'`,
    );
    this.#inGuild = sqlite.prepare(`SELECT ${TTL_COLUMNS} FROM cloud_resources WHERE id = @id AND guild_id = @guildId`);
    this.#byId = sqlite.prepare(`SELECT ${TTL_COLUMNS} FROM cloud_resources WHERE id = @id`);
    this.#extend = sqlite.prepare(
      `UPDATE cloud_resources SET expires_at = @expiresAt, ttl_set_at = @now, ttl_attempts = 0, ttl_next_attempt_at = @expiresAt,
              ttl_last_error = NULL
        WHERE id = @id AND guild_id = @guildId AND expires_at = @was AND expired_at IS NULL AND status = 'active'`,
    );
    // Walks cloud_resources_ttl_next_try (the literal conditions let SQLite use the partial index) up to now: a
    // deployment waiting for its next try after a failure sits beyond now, and is not read.
    this.#due = sqlite.prepare(
      `SELECT ${TTL_COLUMNS} FROM cloud_resources
        WHERE ttl_next_attempt_at IS NOT NULL AND expired_at IS NULL AND ttl_next_attempt_at <= @now${ownGuilds}
        ORDER BY ttl_next_attempt_at LIMIT @limit`,
    );
    // Claimed before the destroy starts: a crash mid-destroy leaves the next try at the backoff, not at once.
    this.#claim = sqlite.prepare(
      `UPDATE cloud_resources SET ttl_attempts = ttl_attempts + 1, ttl_next_attempt_at = @nextAt
        WHERE id = @id AND expired_at IS NULL AND ttl_next_attempt_at IS NOT NULL AND ttl_next_attempt_at <= @now`,
    );
    this.#failed = sqlite.prepare(`UPDATE cloud_resources SET ttl_last_error = @error WHERE id = @id AND expired_at IS NULL`);
    this.#expired = sqlite.prepare(
      `UPDATE cloud_resources SET expired_at = @now, ttl_next_attempt_at = NULL, ttl_last_error = NULL, ttl_notice_status = 'pending'
        WHERE id = @id AND expired_at IS NULL`,
    );
    this.#clear = sqlite.prepare(`UPDATE cloud_resources SET expires_at = NULL, ttl_next_attempt_at = NULL WHERE id = @id AND expired_at IS NULL`);
    this.#dueNow = sqlite.prepare(
      `UPDATE cloud_resources SET expires_at = MIN(expires_at, @now), ttl_next_attempt_at = @now
        WHERE id = @id AND guild_id = @guildId AND expires_at IS NOT NULL AND expired_at IS NULL`,
    );
    this.#pendingNotices = sqlite.prepare(`SELECT ${TTL_COLUMNS} FROM cloud_resources WHERE ttl_notice_status = 'pending'${ownGuilds} ORDER BY id LIMIT @limit`);
    this.#markNotice = sqlite.prepare(`UPDATE cloud_resources SET ttl_notice_status = @status WHERE id = @id AND ttl_notice_status = 'pending'`);
    this.#markNoticeDirectDone = sqlite.prepare(
      `UPDATE cloud_resources SET ttl_notice_direct_done = 1 WHERE id = @id AND ttl_notice_status = 'pending'`,
    );
  }

  async setTtl(guildId: string, id: number, ttlMs: number | null): Promise<void> {
    this.#setTtl.run({ guildId, id, ttlMs });
  }

  async start(guildId: string, id: number, now: number): Promise<number | null> {
    this.#start.run({ guildId, id, now });
    return (await this.find(guildId, id))?.expiresAt ?? null;
  }

  async find(guildId: string, id: number): Promise<TtlDeployment | undefined> {
    const raw = this.#inGuild.get({ guildId, id });
    return raw ? ttlRowSchema.parse(raw) : undefined;
  }

  async findAnywhere(id: number): Promise<TtlDeployment | undefined> {
    const raw = this.#byId.get({ id });
    return raw ? ttlRowSchema.parse(raw) : undefined;
  }

  async extend(guildId: string, id: number, was: number, expiresAt: number, now: number): Promise<boolean> {
    return this.#extend.run({ guildId, id, was, expiresAt, now }).changes === 1;
  }

  async due(now: number, limit: number): Promise<TtlDeployment[]> {
    return this.#due.all({ now, limit }).map((raw) => ttlRowSchema.parse(raw));
  }

  async claim(id: number, now: number, nextAt: number): Promise<boolean> {
    return this.#claim.run({ id, now, nextAt }).changes === 1;
  }

  async recordFailure(id: number, error: string): Promise<void> {
    this.#failed.run({ id, error: error.slice(0, MAX_TTL_ERROR_CHARS) });
  }

  async markExpired(id: number, now: number): Promise<void> {
    this.#expired.run({ id, now });
  }

  async clear(id: number): Promise<void> {
    this.#clear.run({ id });
  }

  async dueNow(guildId: string, id: number, now: number): Promise<void> {
    this.#dueNow.run({ guildId, id, now });
  }

  deliveringNotices<T>(work: () => Promise<T>): Promise<T | undefined> {
    return deliveringExclusively(this.#session, DELIVERY_LOCKS.ttlNotices, this.#shard, work);
  }

  async pendingNotices(limit: number): Promise<TtlDeployment[]> {
    return this.#pendingNotices.all({ limit }).map((raw) => ttlRowSchema.parse(raw));
  }

  async markNotice(id: number, status: NoticeStatus): Promise<void> {
    this.#markNotice.run({ id, status });
  }

  async markNoticeDirectDone(id: number): Promise<void> {
    this.#markNoticeDirectDone.run({ id });
  }
}
