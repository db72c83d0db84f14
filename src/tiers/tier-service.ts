/**
 * Which tier a guild is on (stored in guild_tiers; none = the default tier) and the checks that refuse what its
 * tier does not allow, each naming the tier that would. Checked when the guild acts, so a change of tier applies at
 * once, to the next action.
 */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { GuildCache } from '../db/guild-cache.js';
import { guildTiers } from '../db/schema.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { UserError } from '../shared/errors.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { money, text, type Text } from '../shared/text.js';
import { DEFAULT_TIER, isTierName, lowestTierAllowing, TIERS, type TierLimits, type TierName } from './catalogue.js';

export interface GuildTier {
  guildId: string;
  tier: TierName;
  limits: TierLimits;
  /** Null on the default tier (nobody assigned one). */
  assignedAt: number | null;
  assignedBy: string | null;
}

/** An action the guild's tier does not allow; names the tier it is on and the one it needs. */
export class TierLimitReached extends UserError {
  constructor(
    readonly tier: TierName,
    readonly needed: TierName,
    what: Text,
  ) {
    super('tier.limit', text`${what} This server is on the ${tier} plan; it needs the ${needed} plan. Ask the bot's operator to change the plan.`);
  }
}

export class TierService {
  // Read for every policy lookup (the tier's ceilings), so prepared once and cached per guild. The operator's CLI
  // changes it from another process and the change must apply to the guild's next command: the cache sees other
  // processes' commits through SQLite's data_version (src/db/guild-cache.ts), and `set` forgets the guild.
  readonly #byGuild;
  readonly #cache: GuildCache<GuildTier>;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {
    this.#byGuild = db.select().from(guildTiers).where(eq(guildTiers.guild_id, sql.placeholder('guildId'))).prepare();
    this.#cache = new GuildCache(db.$client, 'guild_tiers');
  }

  /** The guild's tier. Frozen: it may be shared with other callers. */
  get(guildId: string): GuildTier {
    assertSnowflake(guildId, 'guildId');
    return this.#cache.get(guildId, () => this.#load(guildId));
  }

  #load(guildId: string): GuildTier {
    const row = this.#byGuild.get({ guildId });
    // A name no longer in the catalogue (a downgrade of the bot) falls back to the most restrictive plan, not to none.
    const tier: TierName = row === undefined ? DEFAULT_TIER : isTierName(row.tier) ? row.tier : 'free';
    return Object.freeze({ guildId, tier, limits: TIERS[tier], assignedAt: row?.assigned_at ?? null, assignedBy: row?.assigned_by ?? null });
  }

  /** The operator's assignment; `standard` removes the row (the default). */
  set(guildId: string, tier: TierName, assignedBy: string | null): GuildTier {
    assertSnowflake(guildId, 'guildId');
    if (tier === DEFAULT_TIER) {
      this.db.delete(guildTiers).where(eq(guildTiers.guild_id, guildId)).run();
    } else {
      const values = { tier, assigned_by: assignedBy, assigned_at: this.clock.now() };
      this.db.insert(guildTiers).values({ guild_id: guildId, ...values }).onConflictDoUpdate({ target: guildTiers.guild_id, set: values }).run();
    }
    this.#cache.forget(guildId);
    return this.get(guildId);
  }

  list(): GuildTier[] {
    return this.db
      .select({ guildId: guildTiers.guild_id })
      .from(guildTiers)
      .orderBy(guildTiers.guild_id)
      .all()
      .map((row) => this.get(row.guildId));
  }

  /** @throws TierLimitReached when a policy value is above the tier's ceiling. */
  requirePolicyWithin(guildId: string, change: { maxBudgetMonthly?: number; maxInstances?: number }): void {
    const { tier, limits } = this.get(guildId);
    const budget = change.maxBudgetMonthly;
    if (budget !== undefined && limits.maxBudgetMonthly !== null && budget > limits.maxBudgetMonthly) {
      const needed = lowestTierAllowing((l) => l.maxBudgetMonthly === null || l.maxBudgetMonthly >= budget);
      throw new TierLimitReached(tier, needed, text`A monthly budget of ${money(budget)} is over this plan's ceiling of ${money(limits.maxBudgetMonthly)}; nothing was changed.`);
    }
    const instances = change.maxInstances;
    if (instances !== undefined && limits.maxInstances !== null && instances > limits.maxInstances) {
      const needed = lowestTierAllowing((l) => l.maxInstances === null || l.maxInstances >= instances);
      throw new TierLimitReached(tier, needed, text`${instances} instances is over this plan's ceiling of ${limits.maxInstances}; nothing was changed.`);
    }
  }

  /** @throws TierLimitReached when the guild's tier keeps no stored credentials. */
  requireStoredCredentials(guildId: string): void {
    const { tier, limits } = this.get(guildId);
    if (limits.storedCredentials) return;
    throw new TierLimitReached(
      tier,
      lowestTierAllowing((l) => l.storedCredentials),
      text`Storing credentials is not part of this plan; use an ephemeral session (the secret stays in memory only) instead.`,
    );
  }

  /**
   * @param active the guild's runs running or queued right now.
   * @throws TierLimitReached when another run would exceed the tier's concurrent runs.
   */
  requireRunSlot(guildId: string, active: number): void {
    const { tier, limits } = this.get(guildId);
    if (limits.maxConcurrentRuns === null || active < limits.maxConcurrentRuns) return;
    const needed = lowestTierAllowing((l) => l.maxConcurrentRuns === null || l.maxConcurrentRuns > active);
    throw new TierLimitReached(
      tier,
      needed,
      text`This server already has ${active} engine run(s) going, the most this plan allows at once: wait for one to finish and try again.`,
    );
  }
}
