/**
 * Which time to live a new deployment gets under its guild's policy: the one asked for (at most `max_ttl`), else
 * `default_ttl`, else `max_ttl` (a guild with a maximum gives every deployment an end), else none. Checked before
 * the plan, so nobody waits for a plan that cannot be applied.
 */
import type { GuildPolicy } from '../policy/policy-service.js';
import { UserError } from '../shared/errors.js';
import { code, duration, text } from '../shared/text.js';
import { MINUTE_MS, type TtlTyped } from './ttl-duration.js';

export type TtlPolicy = Pick<GuildPolicy, 'defaultTtlMinutes' | 'maxTtlMinutes'>;

/** A time to live above the guild's maximum, or `none` where the guild sets one. */
export class TtlAboveMaximum extends UserError {}

/**
 * The deployment's time to live in ms, or null for none.
 * @throws TtlAboveMaximum saying the maximum and what to type instead.
 */
export function resolveTtl(policy: TtlPolicy, asked: TtlTyped | undefined): number | null {
  const max = policy.maxTtlMinutes;
  if (asked === 'none') {
    if (max === null) return null;
    throw new TtlAboveMaximum(
      'ttl.required',
      text`This server gives every deployment a time to live of at most ${duration(max * MINUTE_MS)}, so ${code('ttl:none')} is not allowed. Leave ${code('ttl')} out, or give one such as ${code(typedForm(max))}. Nothing was planned.`,
    );
  }
  if (asked !== undefined) {
    if (max !== null && asked > max) {
      throw new TtlAboveMaximum(
        'ttl.above_max',
        text`A time to live of ${duration(asked * MINUTE_MS)} is above this server's maximum of ${duration(max * MINUTE_MS)}. Give ${code(`ttl:${typedForm(max)}`)} or less; an admin can raise ${code('max_ttl')} in the guild policy. Nothing was planned.`,
      );
    }
    return asked * MINUTE_MS;
  }
  const fallback = policy.defaultTtlMinutes ?? max;
  if (fallback === null) return null;
  return Math.min(fallback, max ?? fallback) * MINUTE_MS;
}

/** Minutes as a member would type them (`3d`, `4h`, `90m`). */
export function typedForm(minutes: number): string {
  if (minutes % (24 * 60) === 0) return `${minutes / (24 * 60)}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}
