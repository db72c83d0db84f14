/**
 * When a drift check runs: a node-cron expression (five fields, or six with seconds, which are ignored: the janitor
 * ticks once a minute), evaluated in UTC, or one of the words `hourly`, `daily` (the default), `weekly`. Validated
 * with zod and node-cron's own validator, so what is stored always parses.
 */
import cron from 'node-cron';
import { z } from 'zod';

export const DEFAULT_DRIFT_SCHEDULE = 'daily';

/** The words an admin may type instead of an expression. */
export const SCHEDULE_WORDS: Readonly<Record<string, string>> = {
  hourly: '0 * * * *',
  daily: '0 6 * * *',
  weekly: '0 6 * * 1',
};

/** Far enough for any expression that can match at all (29 February comes within eight years). */
const SEARCH_LIMIT_MS = 8 * 366 * 24 * 60 * 60_000;
const MINUTE_MS = 60_000;

/** What an admin typed, as the expression stored: trimmed, a word replaced by its expression. */
export const driftScheduleSchema = z
  .string()
  .trim()
  .max(100, 'a schedule of at most 100 characters')
  .transform((typed) => SCHEDULE_WORDS[typed.toLowerCase()] ?? typed.replace(/\s+/g, ' '))
  .superRefine((expression, ctx) => {
    const checked = cron.validateDetailed(expression);
    if (!checked.valid || !cron.validate(expression)) {
      const why = checked.errors.map((e) => e.message).join('; ');
      ctx.addIssue({ code: 'custom', message: `"${expression}" is not a cron expression${why ? ` (${why})` : ''}: use five fields such as "0 6 * * *" (06:00 UTC daily), or hourly, daily, weekly` });
      return;
    }
    if (nextRunAfter(expression, 0) === undefined) ctx.addIssue({ code: 'custom', message: `"${expression}" never matches a date` });
  });

/** The first whole minute strictly after `after` (epoch ms) that the expression matches, in UTC; undefined if none. */
export function nextRunAfter(expression: string, after: number): number | undefined {
  let fields: ReturnType<typeof cron.parse>;
  try {
    fields = cron.parse(expression);
  } catch {
    return undefined;
  }
  const minutes = new Set(fields.minute);
  const hours = new Set(fields.hour);
  const months = new Set(fields.month);
  const daysOfMonth = new Set(fields.dayOfMonth.filter((d): d is number => typeof d === 'number'));
  // node-cron allows 7 for Sunday as well as 0.
  const daysOfWeek = new Set(fields.dayOfWeek.filter((d): d is number => typeof d === 'number').map((d) => d % 7));
  let at = Math.floor(after / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const limit = after + SEARCH_LIMIT_MS;
  while (at <= limit) {
    const date = new Date(at);
    if (!months.has(date.getUTCMonth() + 1) || !daysOfMonth.has(date.getUTCDate()) || !daysOfWeek.has(date.getUTCDay())) {
      at = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
      continue;
    }
    if (!hours.has(date.getUTCHours())) {
      at = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours() + 1);
      continue;
    }
    if (minutes.has(date.getUTCMinutes())) return at;
    at += MINUTE_MS;
  }
  return undefined;
}

/** How a schedule reads back: the word, when it is one of ours. */
export function describeSchedule(expression: string): string {
  const word = Object.entries(SCHEDULE_WORDS).find(([, value]) => value === expression)?.[0];
  return word ? `${word} (${expression}, UTC)` : `${expression} (UTC)`;
}
