/**
 * The plans an operator can put a guild on (seed 001's tiers), and what each caps. A guild nobody assigned is on
 * `standard`: no caps at all, exactly the bot's behaviour before tiers existed, so a bot whose operator sets none
 * changes nothing. The others are ordered: each allows at least what the one before it does, so a refusal can name
 * the lowest tier that would allow the action.
 */
export const TIER_NAMES = ['free', 'team', 'enterprise', 'standard'] as const;
export type TierName = (typeof TIER_NAMES)[number];

export const DEFAULT_TIER: TierName = 'standard';

export interface TierLimits {
  /** Highest monthly budget the guild may set in its policy, USD; null for no ceiling beyond the policy's own range. */
  maxBudgetMonthly: number | null;
  /** Highest `max_instances` the guild may set; null for none. */
  maxInstances: number | null;
  /** Engine runs of this guild running or queued at once; null for only the bot-wide MAX_CONCURRENT_RUNS. */
  maxConcurrentRuns: number | null;
  /** Whether the guild may store credentials (encrypted at rest); without, only ephemeral sessions. */
  storedCredentials: boolean;
}

export const TIERS: Record<TierName, TierLimits> = {
  free: { maxBudgetMonthly: 100, maxInstances: 2, maxConcurrentRuns: 1, storedCredentials: false },
  team: { maxBudgetMonthly: 5_000, maxInstances: 25, maxConcurrentRuns: 2, storedCredentials: true },
  enterprise: { maxBudgetMonthly: null, maxInstances: null, maxConcurrentRuns: null, storedCredentials: true },
  standard: { maxBudgetMonthly: null, maxInstances: null, maxConcurrentRuns: null, storedCredentials: true },
};

/** The plans an operator sells, lowest first: where a refusal looks for the tier an action needs. */
const LADDER: readonly TierName[] = ['free', 'team', 'enterprise'];

export function isTierName(value: string): value is TierName {
  return (TIER_NAMES as readonly string[]).includes(value);
}

/** The lowest plan whose limits pass `allows`; enterprise allows everything. */
export function lowestTierAllowing(allows: (limits: TierLimits) => boolean): TierName {
  return LADDER.find((tier) => allows(TIERS[tier])) ?? 'enterprise';
}
