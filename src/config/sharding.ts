/**
 * How the bot is spread over processes: one process (the default), or discord.js's ShardingManager running shards
 * as child processes (SHARDS, SHARD_COUNT, SHARD_LIST), or one of those shards (started by the manager, which tells
 * it its shard in discord.js's own variables: SHARDING_MANAGER=true, SHARDS=<its id>, SHARD_COUNT=<the total>).
 * Read apart from the rest of the configuration because of that: in a shard, SHARDS means something else.
 */
import { z } from 'zod';
import type { ShardScope } from '../sharding/shard-scope.js';
import { ConfigError } from './index.js';

/** Discord itself recommends one shard per 1,000 guilds; far more than any one machine runs. */
export const MAX_SHARDS = 4096;

export type ShardingSettings =
  | { role: 'single' }
  | { role: 'manager'; totalShards: number | 'auto'; shardList: number[] | 'auto' }
  | { role: 'shard'; shard: ShardScope };

const blankIsUnset = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const COUNT = `a whole number from 1 to ${MAX_SHARDS}`;
const count = z.coerce.number<string | undefined>({ error: COUNT }).int(COUNT).min(1, COUNT).max(MAX_SHARDS, COUNT);

const shardId = z.coerce.number<string | undefined>({ error: 'a shard id (a whole number from 0)' }).int('a shard id (a whole number from 0)').min(0, 'a shard id (a whole number from 0)');

const managerSchema = z
  .object({
    SHARDS: blankIsUnset.pipe(
      z
        .string()
        .refine((value) => value === 'auto' || (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= MAX_SHARDS), `auto, or ${COUNT}`)
        .transform((value) => (value === 'auto' ? ('auto' as const) : Number(value)))
        .optional(),
    ),
    SHARD_COUNT: blankIsUnset.pipe(count.optional()),
    SHARD_LIST: blankIsUnset.pipe(
      z
        .string()
        .regex(/^\d+(\s*,\s*\d+)*$/, 'shard ids separated by commas, such as 0,1')
        .transform((list) => [...new Set(list.split(',').map((id) => Number(id.trim())))])
        .optional(),
    ),
  })
  .superRefine((env, ctx) => {
    // Checked together only once each variable parsed on its own (zod runs this even when one did not).
    if (env.SHARD_LIST !== undefined && !Array.isArray(env.SHARD_LIST)) return;
    if (env.SHARD_LIST === undefined) {
      if (typeof env.SHARDS === 'number' && env.SHARD_COUNT !== undefined && env.SHARDS !== env.SHARD_COUNT) {
        ctx.addIssue({ code: 'custom', path: ['SHARD_COUNT'], message: `the same number as SHARDS (${env.SHARDS}), or unset` });
      }
      return;
    }
    const total = env.SHARD_COUNT ?? (typeof env.SHARDS === 'number' ? env.SHARDS : undefined);
    if (total === undefined) {
      // Each machine must divide guilds by the same count, which "auto" does not promise: it may change between starts.
      ctx.addIssue({ code: 'custom', path: ['SHARD_COUNT'], message: 'the total number of shards on all machines, when SHARD_LIST is set' });
      return;
    }
    const outside = env.SHARD_LIST.filter((id) => id >= total);
    if (outside.length > 0) ctx.addIssue({ code: 'custom', path: ['SHARD_LIST'], message: `shard ids below SHARD_COUNT (${total}); ${outside.join(', ')} is not` });
  });

const shardSchema = z
  .object({ SHARDS: shardId, SHARD_COUNT: count })
  .refine((env) => env.SHARDS < env.SHARD_COUNT, { path: ['SHARDS'], message: 'a shard id below SHARD_COUNT' });

/**
 * The process's part in sharding, from the environment (with .env merged in, the environment winning). Throws
 * ConfigError naming every bad variable, like the rest of the configuration.
 */
export function parseShardingSettings(env: NodeJS.ProcessEnv): ShardingSettings {
  if (env.SHARDING_MANAGER === 'true') {
    const parsed = shardSchema.safeParse(env);
    if (!parsed.success) throw problems(parsed.error, 'this process was started as a shard by a sharding manager, but ');
    return { role: 'shard', shard: { id: parsed.data.SHARDS, count: parsed.data.SHARD_COUNT } };
  }
  const parsed = managerSchema.safeParse(env);
  if (!parsed.success) throw problems(parsed.error);
  const { SHARDS, SHARD_COUNT, SHARD_LIST } = parsed.data;
  if (SHARDS === undefined && SHARD_COUNT === undefined && SHARD_LIST === undefined) return { role: 'single' };
  const totalShards = SHARD_COUNT ?? SHARDS ?? 'auto';
  return { role: 'manager', totalShards, shardList: SHARD_LIST ?? 'auto' };
}

function problems(error: z.ZodError, prefix = ''): ConfigError {
  const seen = new Map<string, string>();
  for (const issue of error.issues) {
    const name = issue.path.join('.') || '(environment)';
    // Never echo the received value.
    const expected = /expected (.*?)(?:, received .*)?$/.exec(issue.message)?.[1] ?? issue.message;
    if (!seen.has(name)) seen.set(name, `${prefix}${name}: expected ${expected}`);
  }
  return new ConfigError([...seen.values()]);
}
