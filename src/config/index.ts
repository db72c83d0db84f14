import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { validate as isValidCron } from 'node-cron';
import { advisorUrlSchema } from '../advisor/advisor-url.js';
import { parsePreviousMasterKeys } from '../credentials/master-keys.js';
import { isOnPseudoFilesystem } from '../shared/directories.js';
import { snowflakeSchema } from '../shared/snowflake.js';
import { guildAllowListSchema } from '../tenancy/admission.js';
import { gitHostListSchema } from '../templates/git-transport.js';
import { MINUTE_MS, parseTtlMinutes } from '../ttl/ttl-duration.js';


const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

function integerIn(min: number, max: number, fallback: number) {
  return z.coerce
    .number({ error: `a whole number from ${min} to ${max}` })
    .int(`a whole number from ${min} to ${max}`)
    .min(min, `a whole number from ${min} to ${max}`)
    .max(max, `a whole number from ${min} to ${max}`)
    .default(fallback);
}

/** A file or folder on a real disk: /proc, /sys and /dev hold kernel files, and mkdir under /proc never returns. */
const localPath = z
  .string({ error: 'a path' })
  .trim()
  .min(1, 'a path')
  .refine((path) => path === ':memory:' || !isOnPseudoFilesystem(path), 'a path on a real disk, not under /proc, /sys or /dev');

/**
 * A folder the engine is run from or told about. Engines run with their workspace as the working directory, so a
 * relative path would point somewhere else there: it is made absolute against the folder the bot started in.
 */
const startUpRelativeFolder = optionalString.transform((path) => (path === undefined ? undefined : resolve(path)));

/** Folders separated by `:`, as in PATH; each made absolute like the folders above. */
const startUpRelativeFolders = optionalString.transform((value) =>
  value === undefined
    ? []
    : value
        .split(':')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== '')
        .map((entry) => resolve(entry)),
);

/**
 * `id:base64key,…`, checked at start-up even without CREDENTIALS_MASTER_KEY (a key list the bot would silently
 * ignore is a mistake the operator should hear of now, not at the first rotation).
 */
const previousMasterKeys = optionalString.superRefine((value, ctx) => {
  try {
    parsePreviousMasterKeys(value, '');
  } catch (error) {
    // The problem names the entry's position and id, never the key.
    const problem = error instanceof Error ? error.message.replace(/^Master key configuration is invalid: /, '').replace(/\.$/, '') : 'a valid key list';
    ctx.addIssue({ code: 'custom', message: `id:base64key entries separated by commas (${problem})` });
  }
});

/** `true` or `false`; unset is false. */
const flag = optionalString.pipe(z.enum(['true', 'false'], { error: 'true or false' }).optional()).transform((value) => value === 'true');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const base64Key = z
  .string()
  .refine((value) => Buffer.from(value, 'base64').length === 32, '32 random bytes, base64-encoded (openssl rand -base64 32)');

/**
 * Every setting the bot reads, in one schema. The names are a public contract: operators and scripts rely on them.
 * Values that are empty strings count as unset, so an `.env` line like `DISCORD_TOKEN=` does not fail validation.
 */
export const configSchema = z.object({
  DISCORD_TOKEN: optionalString,
  DISCORD_APPLICATION_ID: optionalString.pipe(snowflakeSchema.optional()),
  DISCORD_GUILD_ID: optionalString.pipe(snowflakeSchema.optional()),
  DISCORD_API_URL: optionalString.pipe(z.url('an http(s) URL such as http://127.0.0.1:8080/api').optional()),
  DATABASE_PATH: localPath.default('./data/chatops.db'),
  /**
   * A PostgreSQL database (postgres://user:password@host:5432/name). Only npm run db:migrate-to-postgres uses it so
   * far: the bot refuses to start with it set (src/db/dialect.ts) until its data access runs on PostgreSQL.
   */
  DATABASE_URL: optionalString.pipe(
    z.url({ protocol: /^postgres(ql)?$/, error: 'a postgres:// URL such as postgres://chatops:password@db.example:5432/chatops' }).optional(),
  ),
  DEPLOYMENTS_DIR: localPath.default('./deployments'),
  VAULT_TTL_MINUTES: integerIn(1, 24 * 60, 30),
  VAULT_MAX_SESSIONS_PER_GUILD: integerIn(1, 10_000, 50),
  JANITOR_SCHEDULE: z
    .string()
    .trim()
    .default('* * * * *')
    .refine((value) => isValidCron(value), 'a node-cron expression such as "* * * * *" (a seconds field is allowed)'),
  /** How long a JIT access request waits for a review before it expires (the requester is told). */
  JIT_REQUEST_TTL_MINUTES: integerIn(1, 7 * 24 * 60, 24 * 60),
  /** How long a deployment waits for an admin's approval before it expires; never past its plan's 24 h lifetime. */
  DEPLOY_APPROVAL_TTL_MINUTES: integerIn(1, 24 * 60, 24 * 60),
  /** How long before a grant ends its holder is reminded (with an Extend button); 0 sends no reminders. */
  JIT_EXPIRY_REMINDER_MINUTES: integerIn(0, 24 * 60, 10),
  /**
   * When a deployment's deployer is reminded before its time to live runs out: lengths before the end, separated by
   * commas (`24h,1h`); `none` sends no reminders.
   */
  TTL_REMINDER_LEADS: optionalString.transform((value, ctx) => {
    if (value === undefined) return [24 * 60 * MINUTE_MS, 60 * MINUTE_MS];
    if (/^none$/i.test(value)) return [];
    const leads = value.split(',').map((part) => parseTtlMinutes(part.trim()));
    if (leads.some((lead) => lead === undefined || lead < 1 || lead > 30 * 24 * 60) || leads.length > 5) {
      ctx.addIssue({ code: 'custom', message: 'up to 5 lengths before the end separated by commas, each from 1m to 30d, such as 24h,1h (or none)' });
      return z.NEVER;
    }
    return [...new Set(leads.map((lead) => lead! * MINUTE_MS))];
  }),
  /** First wait before a failed destroy at the end of a time to live is tried again; each failure doubles it (up to 6 h). */
  TTL_DESTROY_RETRY_MINUTES: integerIn(1, 24 * 60, 5),
  MAX_CONCURRENT_RUNS: integerIn(1, 64, 2),
  RUN_TIMEOUT_MINUTES: integerIn(1, 24 * 60, 30),
  IAC_BIN_DIR: startUpRelativeFolder,
  TF_PLUGIN_CACHE_DIR: startUpRelativeFolder,
  // The engine sandbox (src/engine/sandbox*.ts): on unless the operator turns it off by name.
  ENGINE_SANDBOX: optionalString.pipe(z.enum(['bwrap', 'off'], { error: 'bwrap or off' }).optional()).transform((value) => value ?? 'bwrap'),
  BWRAP_PATH: startUpRelativeFolder,
  ENGINE_SANDBOX_READ_ONLY_PATHS: startUpRelativeFolders,
  PRICING_OVERRIDES_FILE: optionalString,
  // The advisor (src/advisor/): off unless the operator turns it on; the model review only with a URL and a model.
  ADVISOR_ENABLED: optionalString.pipe(z.enum(['true', 'false'], { error: 'true or false' }).optional()).transform((value) => value === 'true'),
  ADVISOR_URL: optionalString.pipe(advisorUrlSchema.optional()),
  ADVISOR_MODEL: optionalString.pipe(z.string().max(200, 'a model name of at most 200 characters').optional()),
  ADVISOR_API_KEY: optionalString,
  ADVISOR_TIMEOUT_SECONDS: integerIn(1, 120, 10),
  CREDENTIALS_MASTER_KEY: optionalString.pipe(base64Key.optional()),
  // Empty means unset, as everywhere else: `CREDENTIALS_MASTER_KEY_ID=` (as in .env.example) is the default k1.
  CREDENTIALS_MASTER_KEY_ID: z
    .string()
    .trim()
    .transform((value) => (value === '' ? 'k1' : value))
    .pipe(z.string().max(32, 'at most 32 characters'))
    .default('k1'),
  CREDENTIALS_PREVIOUS_MASTER_KEYS: previousMasterKeys,
  SERVICE_CREDENTIALS_GUILDS: optionalString,
  /** The guilds the bot serves at all; empty or unset serves every guild (src/tenancy/admission.ts). */
  ALLOWED_GUILDS: guildAllowListSchema,
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  AWS_SESSION_TOKEN: optionalString,
  AWS_REGION: optionalString,
  S3_ENDPOINT: optionalString,
  // Templates (src/templates/): the operator's folder of modules, the bot's store of fetched ones, and git.
  TEMPLATES_DIR: startUpRelativeFolder,
  /** Default: `templates/` beside the database file. Must be outside DEPLOYMENTS_DIR (checked at start-up). */
  TEMPLATE_STORE_DIR: startUpRelativeFolder,
  TEMPLATES_FROM_GUILDS: flag,
  /** Host names (optionally :port) git templates may be fetched from, over https only; none by default. */
  TEMPLATE_GIT_HOSTS: gitHostListSchema,
  TEMPLATE_GIT_TIMEOUT_SECONDS: integerIn(5, 600, 60),
  TEMPLATE_ALLOW_HOST_ACCESS: flag,
  RATE_LIMIT_MEMBER_PER_MINUTE: integerIn(1, 10_000, 20),
  RATE_LIMIT_GUILD_PER_MINUTE: integerIn(1, 100_000, 120),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `one of ${LOG_LEVELS.join(', ')}` }).default('info'),
}).superRefine((config, ctx) => {
  // A model endpoint that would be silently ignored, or half configured, is refused at start-up.
  if (config.ADVISOR_URL === undefined) return;
  if (!config.ADVISOR_ENABLED) ctx.addIssue({ code: 'custom', path: ['ADVISOR_ENABLED'], message: 'true when ADVISOR_URL is set (or remove ADVISOR_URL)' });
  if (config.ADVISOR_MODEL === undefined) ctx.addIssue({ code: 'custom', path: ['ADVISOR_MODEL'], message: 'a model name when ADVISOR_URL is set, such as gpt-4o-mini' });
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates an environment; throws ConfigError listing every bad variable, once each, and what it expects
 * ("NAME: expected a whole number from 1 to 64"). The schema's messages are written as what is expected; a message
 * in the validator's own phrasing ("Invalid input: expected string, received …") is cut to what follows "expected".
 */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = new Map<string, string>();
  for (const issue of result.error.issues) {
    const name = issue.path.join('.') || '(environment)';
    // Never echo the received value: it may be a token or a key.
    if (!problems.has(name)) problems.set(name, `${name}: expected ${expectation(issue.message)}`);
  }
  throw new ConfigError([...problems.values()]);
}

function expectation(message: string): string {
  const validatorPhrasing = /^[A-Z][\w ]*: expected (.*?)(?:, received .*)?$/.exec(message);
  return validatorPhrasing?.[1] ?? message;
}

/** The environment with `.env` (if present) beneath it: the real environment wins over the file. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env, envFile = '.env'): NodeJS.ProcessEnv {
  const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {};
  return { ...fromFile, ...env };
}

/** Loads `.env` (if present; the real environment wins over it) and validates. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, envFile = '.env'): Config {
  return parseConfig(readEnvironment(env, envFile));
}
