import { z } from 'zod';

/** Discord ids (guilds, users, channels) are snowflakes: 17 to 20 decimal digits. */
export const SNOWFLAKE_PATTERN = /^\d{17,20}$/;

export const snowflakeSchema = z.string().regex(SNOWFLAKE_PATTERN, 'a Discord id (17 to 20 digits)');

export function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && SNOWFLAKE_PATTERN.test(value);
}

/**
 * Guards ids that come from the Discord layer, never from typed user input: a bad one is a bug, so this throws a
 * plain Error (the front end turns it into a generic reply) rather than a UserError.
 */
export function assertSnowflake(value: unknown, what: string): asserts value is string {
  if (!isSnowflake(value)) throw new TypeError(`${what} must be a Discord id (17 to 20 digits)`);
}
