/**
 * A deployment's time to live as a member types it: `90m`, `4h`, `3d`, `1d12h` (minutes, hours, days, in that
 * order, each at most once), or `none`. Read with zod at the boundary, before anything else is asked.
 */
import { z } from 'zod';

export const MINUTE_MS = 60_000;
/** Longest time to live anyone may type: a year. Longer is a typo, or no TTL at all (`none`). */
export const LONGEST_TTL_MINUTES = 366 * 24 * 60;
const UNITS: Record<string, number> = { d: 24 * 60, h: 60, m: 1 };
const PATTERN = /^(?:(\d{1,6})\s*d)?\s*(?:(\d{1,6})\s*h)?\s*(?:(\d{1,6})\s*m(?:in)?)?$/i;

const WORDS = 'a length such as 90m, 4h, 3d or 1d12h (minutes, hours, days), or none';

/** `none` (no time to live), or a number of minutes. */
export type TtlTyped = 'none' | number;

/** Minutes in `value`, or undefined when it is not a length as above. */
export function parseTtlMinutes(value: string): number | undefined {
  const match = PATTERN.exec(value.trim());
  if (!match || !(match[1] ?? match[2] ?? match[3])) return undefined;
  const [, days, hours, minutes] = match;
  return Number(days ?? 0) * UNITS.d! + Number(hours ?? 0) * UNITS.h! + Number(minutes ?? 0);
}

/** The option's schema: a length of at least a minute and at most a year, or `none`. */
export const ttlOptionSchema = z
  .string()
  .trim()
  .max(32, `the ttl must be ${WORDS}`)
  .transform((value, ctx): TtlTyped => {
    if (/^(none|off|never)$/i.test(value)) return 'none';
    const minutes = parseTtlMinutes(value);
    if (minutes === undefined || minutes < 1 || minutes > LONGEST_TTL_MINUTES) {
      ctx.addIssue({ code: 'custom', message: `the ttl must be ${WORDS}, from 1 minute to 366 days (not "${value.slice(0, 32)}")` });
      return z.NEVER;
    }
    return minutes;
  });
