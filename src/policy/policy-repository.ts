/**
 * The `guild_policies` rows: what each guild set. `save` is the one way the bot writes the table. Two implementations
 * over a Session (src/db/data-access.ts), picked by `policyRepositoryFor`:
 * - SQLite: a statement prepared once and a per-process cache (src/db/guild-cache.ts), as every deployment, JIT grant
 *   and listing asks for it and it changes only when an admin updates it. `save` forgets the guild; a write by
 *   another process is noticed through SQLite's data_version.
 * - PostgreSQL: read every time (the cache's capacity is 0 there: no data_version tells of other processes' writes).
 */
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { PostgresSession, Session, SqliteSession } from '../db/data-access.js';
import { DEFAULT_CACHED_GUILDS, GuildCache } from '../db/guild-cache.js';
import type { Db } from '../db/index.js';
import { guildPolicies as pgGuildPolicies } from '../db/pg-schema.js';
import { guildPolicies } from '../db/schema.js';
import type { GuildPolicy } from './policy-service.js';

export type PolicyValues = Omit<typeof guildPolicies.$inferInsert, 'guild_id' | 'created_at'>;

export interface PolicyRepositoryOptions {
  /** How many guilds' policies to keep in memory (least recently used go first); 0 reads the database every time. */
  cacheGuilds?: number;
}

export interface PolicyRepository {
  /** What the guild set, or undefined while it runs on the defaults. Frozen: it may be shared with other callers. */
  find(guildId: string): Promise<Readonly<GuildPolicy> | undefined>;
  /** Creates or replaces the guild's row. */
  save(guildId: string, values: PolicyValues, now: number): Promise<void>;
}

/** The policy repository of the session's dialect. */
export function policyRepositoryFor(session: Session, options: PolicyRepositoryOptions = {}): PolicyRepository {
  return session.dialect === 'sqlite' ? new SqlitePolicyRepository(session, options) : new PgPolicyRepository(session);
}

const storedList = z.array(z.string());

/** Both tables have these columns, with these types (booleans are booleans in drizzle on both). */
type PolicyRow = typeof guildPolicies.$inferSelect;

export class SqlitePolicyRepository implements PolicyRepository {
  readonly #db: Db;
  readonly #byGuild;
  /** Null: the guild has no row (it runs on the defaults), which is worth remembering too. */
  readonly #cache: GuildCache<Readonly<GuildPolicy> | null>;

  constructor(session: Pick<SqliteSession, 'db' | 'sqlite'>, options: PolicyRepositoryOptions = {}) {
    this.#db = session.db;
    this.#cache = new GuildCache(session.sqlite, 'guild_policies', options.cacheGuilds ?? DEFAULT_CACHED_GUILDS);
    this.#byGuild = session.db.select().from(guildPolicies).where(eq(guildPolicies.guild_id, sql.placeholder('guildId'))).prepare();
  }

  async find(guildId: string): Promise<Readonly<GuildPolicy> | undefined> {
    return this.#cache.get(guildId, () => this.#load(guildId)) ?? undefined;
  }

  /** Also forgets what was cached for the guild. */
  async save(guildId: string, values: PolicyValues, now: number): Promise<void> {
    this.#db
      .insert(guildPolicies)
      .values({ guild_id: guildId, created_at: now, ...values })
      .onConflictDoUpdate({ target: guildPolicies.guild_id, set: values })
      .run();
    this.#cache.forget(guildId);
  }

  #load(guildId: string): Readonly<GuildPolicy> | null {
    const row = this.#byGuild.get({ guildId });
    return row ? toPolicy(row) : null;
  }
}

export class PgPolicyRepository implements PolicyRepository {
  readonly #session: PostgresSession;

  constructor(session: PostgresSession) {
    this.#session = session;
  }

  async find(guildId: string): Promise<Readonly<GuildPolicy> | undefined> {
    const [row] = await this.#session.db.select().from(pgGuildPolicies).where(eq(pgGuildPolicies.guild_id, guildId));
    return row ? toPolicy(row) : undefined;
  }

  async save(guildId: string, values: PolicyValues, now: number): Promise<void> {
    await this.#session.db
      .insert(pgGuildPolicies)
      .values({ guild_id: guildId, created_at: now, ...values })
      .onConflictDoUpdate({ target: pgGuildPolicies.guild_id, set: values });
  }
}

function toPolicy(row: PolicyRow): Readonly<GuildPolicy> {
  return Object.freeze({
    guildId: row.guild_id,
    maxBudgetMonthly: row.max_budget_monthly,
    maxInstances: row.max_instances,
    maxDiskSizeGb: row.max_disk_size_gb,
    allowedInstanceTypes: Object.freeze(storedList.parse(JSON.parse(row.allowed_instance_types))) as string[],
    allowedResourceTypes: Object.freeze(storedList.parse(JSON.parse(row.allowed_resource_types))) as string[],
    requireApproval: row.require_approval,
    unpricedResources: row.unpriced_resources,
    enginePreference: row.iac_engine_preference,
    maxJitMinutes: row.max_jit_minutes,
    jitSelfExtendMinutes: row.jit_self_extend_minutes,
    defaultTtlMinutes: row.default_ttl_minutes,
    maxTtlMinutes: row.max_ttl_minutes,
    notificationChannelId: row.notification_channel_id,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  });
}
