/**
 * `npm run tiers -- <list | show GUILD | set GUILD TIER [--by NAME]>`: the operator's plan assignments, stored in
 * the bot's database (DATABASE_PATH). Safe while the bot runs: each guild's tier is read when it acts.
 */
import { ConfigError, loadConfig } from '../config/index.js';
import { openDatabase } from '../db/index.js';
import { PolicyService } from '../policy/policy-service.js';
import { PriceCatalogue } from '../pricing/catalogue.js';
import { isSnowflake } from '../shared/snowflake.js';
import { isTierName, TIER_NAMES, TIERS, type TierLimits } from './catalogue.js';
import { TierService, type GuildTier } from './tier-service.js';

const USAGE = `Usage: npm run tiers -- list
       npm run tiers -- show <guild id>
       npm run tiers -- set <guild id> <${TIER_NAMES.join('|')}> [--by <who>]
Tiers: ${TIER_NAMES.map((name) => `${name} (${describe(TIERS[name])})`).join('; ')}.`;

function describe(limits: TierLimits): string {
  const cap = (value: number | null, unit: string) => (value === null ? `no ${unit} cap` : `${unit} ≤ ${value}`);
  return [cap(limits.maxBudgetMonthly, 'budget $'), cap(limits.maxInstances, 'instances'), cap(limits.maxConcurrentRuns, 'runs at once'), limits.storedCredentials ? 'stored credentials' : 'ephemeral credentials only'].join(', ');
}

function line(tier: GuildTier): string {
  const since = tier.assignedAt === null ? 'default' : `since ${new Date(tier.assignedAt).toISOString()}${tier.assignedBy ? ` by ${tier.assignedBy}` : ''}`;
  return `${tier.guildId}  ${tier.tier}  (${since})`;
}

class UsageError extends Error {}

function run(args: string[], out: (text: string) => void): void {
  const [verb, guildId, tierName, ...rest] = args;
  if (verb === undefined || verb === '--help' || verb === 'help') {
    out(USAGE);
    return;
  }
  if (verb !== 'list' && (guildId === undefined || !isSnowflake(guildId))) throw new UsageError('give a guild id (17 to 20 digits).');
  const config = loadConfig();
  const database = openDatabase(config.DATABASE_PATH);
  try {
    const tiers = new TierService(database.db);
    if (verb === 'list') {
      const assigned = tiers.list();
      out(assigned.length ? assigned.map(line).join('\n') : 'No guild has a tier assigned: every guild is on standard (no caps).');
      return;
    }
    if (verb === 'show') {
      const tier = tiers.get(guildId!);
      out(`${line(tier)}\n  ${describe(tier.limits)}`);
      return;
    }
    if (verb !== 'set') throw new UsageError(`unknown command "${verb}".`);
    if (tierName === undefined || !isTierName(tierName)) throw new UsageError(`the tier must be one of ${TIER_NAMES.join(', ')}.`);
    const by = rest[0] === '--by' ? rest[1] : undefined;
    const tier = tiers.set(guildId!, tierName, by ?? null);
    out(`${line(tier)}\n  ${describe(tier.limits)}`);
    // The policy as the guild set it (no ceilings): in force now is the lower of it and the tier's ceiling.
    const policy = new PolicyService(database.db, PriceCatalogue.load(config.PRICING_OVERRIDES_FILE)).get(guildId!);
    const over = [
      tier.limits.maxBudgetMonthly !== null && policy.maxBudgetMonthly > tier.limits.maxBudgetMonthly ? `budget $${policy.maxBudgetMonthly}` : undefined,
      tier.limits.maxInstances !== null && policy.maxInstances > tier.limits.maxInstances ? `max instances ${policy.maxInstances}` : undefined,
    ].filter((item): item is string => item !== undefined);
    if (over.length) out(`  Note: the guild's policy sets more than this tier allows (${over.join(', ')}); the tier's ceiling is in force from now on.`);
  } finally {
    database.close();
  }
}

try {
  run(process.argv.slice(2), (text) => process.stdout.write(`${text}\n`));
} catch (error) {
  if (error instanceof UsageError) process.stderr.write(`${error.message}\n\n${USAGE}\n`);
  else process.stderr.write(`Could not change tiers: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
