/**
 * The time-to-live columns of `cloud_resources` (the deployment rows): the TTL asked at deploy, the clock started at
 * apply, extensions, and the janitor's destroys at expiry with their backoff. Every write is compare-and-set on the
 * row's guild and state, so a press and the janitor racing on one deployment cannot both act.
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { DatabaseHandle } from '../db/index.js';
import type { NoticeStatus, ResourceStatus } from '../db/schema.js';
import { shardCondition, type ShardScope } from '../sharding/shard-scope.js';

/** A deployment with a time to live, as the TTL jobs and buttons see it. */
export interface TtlDeployment {
  id: number;
  guildId: string;
  projectId: number;
  /** The deployer: who is reminded and told. */
  createdBy: string;
  template: string;
  status: ResourceStatus;
  ttlMs: number | null;
  expiresAt: number | null;
  ttlSetAt: number | null;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  expiredAt: number | null;
  noticeStatus: NoticeStatus | null;
  /** The deployer has the DM of the "expired" notice (a refused DM is not recorded); only the channel post may be left. */
  noticeDirectDone: boolean;
}

const MAX_ERROR_CHARS = 2000;
const COLUMNS = `id, guild_id, project_id, created_by, template, status, ttl_ms, expires_at, ttl_set_at, ttl_attempts,
  ttl_next_attempt_at, ttl_last_error, expired_at, ttl_notice_status, ttl_notice_direct_done`;

const rowSchema = z
  .object({
    id: z.number().int(),
    guild_id: z.string(),
    project_id: z.number().int(),
    created_by: z.string(),
    template: z.string(),
    status: z.string(),
    ttl_ms: z.number().nullable(),
    expires_at: z.number().nullable(),
    ttl_set_at: z.number().nullable(),
    ttl_attempts: z.number().int(),
    ttl_next_attempt_at: z.number().nullable(),
    ttl_last_error: z.string().nullable(),
    expired_at: z.number().nullable(),
    ttl_notice_status: z.string().nullable(),
    ttl_notice_direct_done: z.number().int(),
  })
  .transform(
    (row): TtlDeployment => ({
      id: row.id,
      guildId: row.guild_id,
      projectId: row.project_id,
      createdBy: row.created_by,
      template: row.template,
      status: row.status as ResourceStatus,
      ttlMs: row.ttl_ms,
      expiresAt: row.expires_at,
      ttlSetAt: row.ttl_set_at,
      attempts: row.ttl_attempts,
      nextAttemptAt: row.ttl_next_attempt_at,
      lastError: row.ttl_last_error,
      expiredAt: row.expired_at,
      noticeStatus: row.ttl_notice_status as NoticeStatus | null,
      noticeDirectDone: row.ttl_notice_direct_done !== 0,
    }),
  );

export class TtlRepository {
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

  /**
   * `shard`: the janitor's statements (what is due, the notices left queued) see only the guilds this shard serves,
   * so that with several shards on one database each deployment is destroyed at its end, and told, by one of them.
   */
  constructor(handle: Pick<DatabaseHandle, 'sqlite'>, options: { shard?: ShardScope } = {}) {
    const sqlite = handle.sqlite;
    const ownGuilds = shardCondition(options.shard);
    this.#setTtl = sqlite.prepare(`UPDATE cloud_resources SET ttl_ms = @ttlMs WHERE id = @id AND guild_id = @guildId AND status = 'planned'`);
    // The clock starts at the apply: only an active row that asked for a time to live, and only once.
    this.#start = sqlite.prepare(
      `UPDATE cloud_resources SET expires_at = @now + ttl_ms, ttl_set_at = @now, ttl_attempts = 0, ttl_next_attempt_at = @now + ttl_ms,
              ttl_last_error = NULL
        WHERE id = @id AND guild_id = @guildId AND ttl_ms IS NOT NULL AND expires_at IS NULL AND status = 'active'`,
    );
    this.#inGuild = sqlite.prepare(`SELECT ${COLUMNS} FROM cloud_resources WHERE id = @id AND guild_id = @guildId`);
    this.#byId = sqlite.prepare(`SELECT ${COLUMNS} FROM cloud_resources WHERE id = @id`);
    this.#extend = sqlite.prepare(
      `UPDATE cloud_resources SET expires_at = @expiresAt, ttl_set_at = @now, ttl_attempts = 0, ttl_next_attempt_at = @expiresAt,
              ttl_last_error = NULL
        WHERE id = @id AND guild_id = @guildId AND expires_at = @was AND expired_at IS NULL AND status = 'active'`,
    );
    // Walks cloud_resources_ttl_next_try (the literal conditions let SQLite use the partial index) up to now: a
    // deployment waiting for its next try after a failure sits beyond now, and is not read.
    this.#due = sqlite.prepare(
      `SELECT ${COLUMNS} FROM cloud_resources
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
    this.#pendingNotices = sqlite.prepare(`SELECT ${COLUMNS} FROM cloud_resources WHERE ttl_notice_status = 'pending'${ownGuilds} ORDER BY id LIMIT @limit`);
    this.#markNotice = sqlite.prepare(`UPDATE cloud_resources SET ttl_notice_status = @status WHERE id = @id AND ttl_notice_status = 'pending'`);
    this.#markNoticeDirectDone = sqlite.prepare(
      `UPDATE cloud_resources SET ttl_notice_direct_done = 1 WHERE id = @id AND ttl_notice_status = 'pending'`,
    );
  }

  /** The time to live a planned deployment asked for (null: none). */
  setTtl(guildId: string, id: number, ttlMs: number | null): void {
    this.#setTtl.run({ guildId, id, ttlMs });
  }

  /** Starts the clock of an applied deployment that asked for a time to live; its end, or null when it has none. */
  start(guildId: string, id: number, now: number): number | null {
    this.#start.run({ guildId, id, now });
    return this.find(guildId, id)?.expiresAt ?? null;
  }

  /** The deployment, in this guild only. */
  find(guildId: string, id: number): TtlDeployment | undefined {
    const raw = this.#inGuild.get({ guildId, id });
    return raw ? rowSchema.parse(raw) : undefined;
  }

  /** The deployment whatever its guild: for a press in a DM, where only the row says which guild it is about. */
  findAnywhere(id: number): TtlDeployment | undefined {
    const raw = this.#byId.get({ id });
    return raw ? rowSchema.parse(raw) : undefined;
  }

  /** Moves the end from `was` to `expiresAt`; false when the row changed meanwhile (another press, the janitor). */
  extend(guildId: string, id: number, was: number, expiresAt: number, now: number): boolean {
    return this.#extend.run({ guildId, id, was, expiresAt, now }).changes === 1;
  }

  /** Deployments whose time is up and whose next try is due, soonest end first. */
  due(now: number, limit: number): TtlDeployment[] {
    return this.#due.all({ now, limit }).map((raw) => rowSchema.parse(raw));
  }

  /** Takes the next try of the destroy, pushing the one after to `nextAt`; false when someone else took it. */
  claim(id: number, now: number, nextAt: number): boolean {
    return this.#claim.run({ id, now, nextAt }).changes === 1;
  }

  recordFailure(id: number, error: string): void {
    this.#failed.run({ id, error: error.slice(0, MAX_ERROR_CHARS) });
  }

  /** Destroyed because its time was up; the notice saying so is queued in the same statement. */
  markExpired(id: number, now: number): void {
    this.#expired.run({ id, now });
  }

  /** No end any more: destroyed by someone else first, or nothing left to destroy. */
  clear(id: number): void {
    this.#clear.run({ id });
  }

  /** Makes the deployment's end now (Destroy now): if the destroy fails, the janitor tries again as at any end. */
  dueNow(guildId: string, id: number, now: number): void {
    this.#dueNow.run({ guildId, id, now });
  }

  pendingNotices(limit: number): TtlDeployment[] {
    return this.#pendingNotices.all({ limit }).map((raw) => rowSchema.parse(raw));
  }

  markNotice(id: number, status: NoticeStatus): void {
    this.#markNotice.run({ id, status });
  }

  /** The DM part of a pending notice is done; a redelivery after a crash posts to the channel only. */
  markNoticeDirectDone(id: number): void {
    this.#markNoticeDirectDone.run({ id });
  }
}
