/**
 * discord.js's `jsonTransformer` (what it passes every embed, component and autocomplete choice through that is not
 * a builder) with the same result, faster: the default turns each key into snake_case with lodash's snakeCase
 * (deburring, word splitting, a regular expression or three) on every message, which was 2–5% of a reply's CPU
 * for our embeds, already written as Discord's JSON. Here each distinct key is converted once, by discord.js's own
 * transformer, and remembered.
 */
import { Options } from 'discord.js';

type Transformer = (value: unknown) => unknown;

const discordDefault = Options.createDefault().jsonTransformer as Transformer;

/** Keys come from code (field names of Discord's JSON), a small set; the bound only guards against a surprise. */
const MAX_KEYS = 1_000;
const snakeKeys = new Map<string, string>();

function snakeKey(key: string): string {
  const known = snakeKeys.get(key);
  if (known !== undefined) return known;
  const converted = Object.keys(discordDefault({ [key]: null }) as object)[0] ?? key;
  if (snakeKeys.size < MAX_KEYS) snakeKeys.set(key, converted);
  return converted;
}

export function snakeCaseJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || value instanceof Date) return value;
  // A builder, or anything else with toJSON (discord.js's own test: the key is there).
  if ('toJSON' in value && typeof value.toJSON === 'function') return snakeCaseJson((value.toJSON as () => unknown)());
  if (Array.isArray(value)) return value.map(snakeCaseJson);
  const entries = Object.entries(value);
  // discord.js turns an emoji given as a string into an object: leave that object to it.
  if (entries.some(([key, entry]) => key === 'emoji' && typeof entry === 'string')) return discordDefault(value);
  return Object.fromEntries(entries.map(([key, entry]) => [snakeKey(key), snakeCaseJson(entry)]));
}
