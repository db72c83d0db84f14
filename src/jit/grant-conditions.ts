/**
 * Which grants each query means, written once for both dialects: the tables of schema.ts and pg-schema.ts have the
 * same columns, and drizzle's operators build each dialect's SQL (`revoked = false` on PostgreSQL, `= 0` on SQLite).
 */
import { and, eq, gt, inArray, lte, or, type SQL } from 'drizzle-orm';
import type { jitPermissions as pgJitPermissions } from '../db/pg-schema.js';
import type { jitPermissions as sqliteJitPermissions } from '../db/schema.js';
import type { MemberGrantsQuery } from './grant-repository.js';

type Grants = typeof sqliteJitPermissions | typeof pgJitPermissions;

/** A member's grants in force at `now` for any of the query's providers. */
export function inForceFor(t: Grants, query: MemberGrantsQuery): SQL | undefined {
  return and(eq(t.guild_id, query.guildId), eq(t.user_id, query.userId), eq(t.revoked, false), gt(t.expires_at, query.now), inArray(t.provider, query.providers));
}

/** A member's grants for any of the query's providers that are no longer in force at `now` (expired or revoked). */
export function endedFor(t: Grants, query: MemberGrantsQuery): SQL | undefined {
  return and(eq(t.guild_id, query.guildId), eq(t.user_id, query.userId), inArray(t.provider, query.providers), or(eq(t.revoked, true), lte(t.expires_at, query.now)));
}

/** Every grant of a member in one guild still in force at `now`. */
export function memberInForce(t: Grants, guildId: string, userId: string, now: number): SQL | undefined {
  return and(eq(t.guild_id, guildId), eq(t.user_id, userId), eq(t.revoked, false), gt(t.expires_at, now));
}

/** One grant of the guild, if it is still in force at `now`. */
export function oneInForce(t: Grants, guildId: string, grantId: number, now: number): SQL | undefined {
  return and(eq(t.id, grantId), eq(t.guild_id, guildId), eq(t.revoked, false), gt(t.expires_at, now));
}
