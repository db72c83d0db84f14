/**
 * The `guild_policies` rows: what each guild set, read with a statement prepared once and kept in a per-process
 * cache, as every deployment, JIT grant and listing asks for it and it changes only when an admin updates it.
 *
 * The cache is only correct while this process is the only writer: `save` is the one way the bot writes the table,
 * and it forgets the guild. With several processes on one database, turn it off (`cacheGuilds: 0`), or, with shards,
 * cache only the guilds this shard serves (`cacheGuild`): their admins' changes arrive here, and nowhere else.
 */
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { guildPolicies } from '../db/schema.js';
import type { Db } from '../db/index.js';
import type { GuildPolicy } from './policy-service.js';

export type PolicyValues = Omit<typeof guildPolicies.$inferInsert, 'guild_id' | 'created_at'>;

export interface PolicyRepositoryOptions {
  /** How many guilds' policies to keep in memory (least recently used go first); 0 reads the database every time. */
  cacheGuilds?: number;
  /**
   * Which guilds may be cached (default all). A shard also handles presses in DMs (Discord sends DM interactions to
   * shard 0) about guilds another shard serves, whose policy that other shard may change at any moment.
   */
  cacheGuild?: (guildId: string) => boolean;
}

/** Enough for every guild of a large bot; each entry is a few hundred bytes. */
export const DEFAULT_CACHED_GUILDS = 10_000;

const storedList = z.array(z.string());

type PolicyRow = typeof guildPolicies.$inferSelect;

export class PolicyRepository {
  readonly #db: Db;
  readonly #byGuild;
  readonly #capacity: number;
  readonly #cacheGuild: (guildId: string) => boolean;
  /** Null: the guild has no row (it runs on the defaults), which is worth remembering too. */
  readonly #cache = new Map<string, Readonly<GuildPolicy> | null>();

  constructor(db: Db, options: PolicyRepositoryOptions = {}) {
    this.#db = db;
    this.#capacity = Math.max(0, Math.trunc(options.cacheGuilds ?? DEFAULT_CACHED_GUILDS));
    this.#cacheGuild = options.cacheGuild ?? (() => true);
    this.#byGuild = db.select().from(guildPolicies).where(eq(guildPolicies.guild_id, sql.placeholder('guildId'))).prepare();
  }

  /** What the guild set, or undefined while it runs on the defaults. Frozen: it may be shared with other callers. */
  find(guildId: string): Readonly<GuildPolicy> | undefined {
    // Inside a transaction the row may be uncommitted (and rolled back): read it, but do not keep it.
    if (this.#capacity === 0 || this.#db.$client.inTransaction || !this.#cacheGuild(guildId)) return this.#load(guildId) ?? undefined;
    const cached = this.#cache.get(guildId);
    if (cached !== undefined) {
      // Most recently used last, so the oldest is first to go.
      this.#cache.delete(guildId);
      this.#cache.set(guildId, cached);
      return cached ?? undefined;
    }
    const loaded = this.#load(guildId);
    this.#cache.set(guildId, loaded);
    if (this.#cache.size > this.#capacity) this.#cache.delete(this.#cache.keys().next().value as string);
    return loaded ?? undefined;
  }

  /** Creates or replaces the guild's row, and forgets what was cached for it. */
  save(guildId: string, values: PolicyValues, now: number): void {
    this.#db
      .insert(guildPolicies)
      .values({ guild_id: guildId, created_at: now, ...values })
      .onConflictDoUpdate({ target: guildPolicies.guild_id, set: values })
      .run();
    this.#cache.delete(guildId);
  }

  #load(guildId: string): Readonly<GuildPolicy> | null {
    const row = this.#byGuild.get({ guildId });
    return row ? toPolicy(row) : null;
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
