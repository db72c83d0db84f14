/**
 * Which tier a guild is on (stored in guild_tiers; none = the default tier) and the checks that refuse what its
 * tier does not allow, each naming the tier that would. Checked when the guild acts, so a change of tier applies at
 * once, to the next action.
 */
import { UnitOfWork, type DataAccess } from '../db/data-access.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { UserError } from '../shared/errors.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { money, text, type Text } from '../shared/text.js';
import { DEFAULT_TIER, lowestTierAllowing, type TierLimits, type TierName } from './catalogue.js';
import { tierRepositoryFor, type TierRepository } from './tier-repository.js';

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
  // Read for every policy lookup (the tier's ceilings): on SQLite prepared once and cached per guild
  // (tier-repository.ts). Read in the unit of work the caller is in, if any (DataAccess.current).
  readonly #tiers: UnitOfWork<TierRepository>;

  constructor(
    data: DataAccess,
    private readonly clock: Clock = systemClock,
  ) {
    this.#tiers = new UnitOfWork(data, tierRepositoryFor);
  }

  /** The guild's tier. Frozen: it may be shared with other callers. */
  async get(guildId: string): Promise<GuildTier> {
    assertSnowflake(guildId, 'guildId');
    return this.#tiers.current.find(guildId);
  }

  /** The operator's assignment; `standard` removes the row (the default). */
  async set(guildId: string, tier: TierName, assignedBy: string | null): Promise<GuildTier> {
    assertSnowflake(guildId, 'guildId');
    const tiers = this.#tiers.current;
    await tiers.assign(guildId, tier === DEFAULT_TIER ? undefined : { tier, assignedBy, assignedAt: this.clock.now() });
    return tiers.find(guildId);
  }

  async list(): Promise<GuildTier[]> {
    const tiers = this.#tiers.current;
    return Promise.all((await tiers.assignedGuilds()).map((guildId) => tiers.find(guildId)));
  }

  /** @throws TierLimitReached when a policy value is above the tier's ceiling. */
  async requirePolicyWithin(guildId: string, change: { maxBudgetMonthly?: number; maxInstances?: number }): Promise<void> {
    const { tier, limits } = await this.get(guildId);
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
  async requireStoredCredentials(guildId: string): Promise<void> {
    const { tier, limits } = await this.get(guildId);
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
  async requireRunSlot(guildId: string, active: number): Promise<void> {
    const { tier, limits } = await this.get(guildId);
    if (limits.maxConcurrentRuns === null || active < limits.maxConcurrentRuns) return;
    const needed = lowestTierAllowing((l) => l.maxConcurrentRuns === null || l.maxConcurrentRuns > active);
    throw new TierLimitReached(
      tier,
      needed,
      text`This server already has ${active} engine run(s) going, the most this plan allows at once: wait for one to finish and try again.`,
    );
  }
}
