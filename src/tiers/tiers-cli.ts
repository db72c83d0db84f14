/**
 * `npm run tiers -- <list | show GUILD | set GUILD TIER [--by NAME]>`: the operator's plan assignments, stored in
 * the bot's database (DATABASE_PATH, or DATABASE_URL's PostgreSQL). Safe while the bot runs: each guild's tier is
 * read when it acts. It takes no process lock (the bot holds it): it only reads and writes guild_tiers.
 */
import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { postgresDataAccess, sqliteDataAccess, type DataAccess } from '../db/data-access.js';
import { chooseDatabase } from '../db/dialect.js';
import { openDatabase } from '../db/index.js';
import { openPostgres } from '../db/postgres.js';
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

/** The bot's database as the configuration says, with its migrations applied, and how to close it. */
async function openData(config: Config): Promise<{ data: DataAccess; close: () => Promise<void> }> {
  const choice = chooseDatabase(config);
  if (choice.dialect === 'sqlite') {
    const handle = openDatabase(choice.path);
    return { data: sqliteDataAccess(handle), close: async () => handle.close() };
  }
  const handle = await openPostgres(choice.url, { maxConnections: 2 });
  return { data: postgresDataAccess(handle), close: () => handle.close() };
}

async function run(args: string[], out: (text: string) => void): Promise<void> {
  const [verb, guildId, tierName, ...rest] = args;
  if (verb === undefined || verb === '--help' || verb === 'help') {
    out(USAGE);
    return;
  }
  if (verb !== 'list' && (guildId === undefined || !isSnowflake(guildId))) throw new UsageError('give a guild id (17 to 20 digits).');
  const config = loadConfig();
  const database = await openData(config);
  try {
    const tiers = new TierService(database.data);
    if (verb === 'list') {
      const assigned = await tiers.list();
      out(assigned.length ? assigned.map(line).join('\n') : 'No guild has a tier assigned: every guild is on standard (no caps).');
      return;
    }
    if (verb === 'show') {
      const tier = await tiers.get(guildId!);
      out(`${line(tier)}\n  ${describe(tier.limits)}`);
      return;
    }
    if (verb !== 'set') throw new UsageError(`unknown command "${verb}".`);
    if (tierName === undefined || !isTierName(tierName)) throw new UsageError(`the tier must be one of ${TIER_NAMES.join(', ')}.`);
    const by = rest[0] === '--by' ? rest[1] : undefined;
    const tier = await tiers.set(guildId!, tierName, by ?? null);
    out(`${line(tier)}\n  ${describe(tier.limits)}`);
    // The policy as the guild set it (no ceilings): in force now is the lower of it and the tier's ceiling.
    const policy = await new PolicyService(database.data, PriceCatalogue.load(config.PRICING_OVERRIDES_FILE)).get(guildId!);
    const over = [
      tier.limits.maxBudgetMonthly !== null && policy.maxBudgetMonthly > tier.limits.maxBudgetMonthly ? `budget $${policy.maxBudgetMonthly}` : undefined,
      tier.limits.maxInstances !== null && policy.maxInstances > tier.limits.maxInstances ? `max instances ${policy.maxInstances}` : undefined,
    ].filter((item): item is string => item !== undefined);
    if (over.length) out(`  Note: the guild's policy sets more than this tier allows (${over.join(', ')}); the tier's ceiling is in force from now on.`);
  } finally {
    await database.close();
  }
}

try {
  await run(process.argv.slice(2), (text) => process.stdout.write(`${text}\n`));
} catch (error) {
  if (error instanceof UsageError) process.stderr.write(`${error.message}\n\n${USAGE}\n`);
  else process.stderr.write(`Could not change tiers: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
