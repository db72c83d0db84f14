/**
 * Which requests each query means, written once for both dialects (the tables of schema.ts and pg-schema.ts have the
 * same columns; drizzle's operators build each dialect's SQL), as grant-conditions.ts does for the grants.
 */
import { and, eq, gt, sql, type SQL } from 'drizzle-orm';
import type { jitRequests as pgJitRequests } from '../db/pg-schema.js';
import type { jitRequests as sqliteJitRequests } from '../db/schema.js';
import type { Decision } from './request-repository.js';

type Requests = typeof sqliteJitRequests | typeof pgJitRequests;

/** The request `decision` may close: the guild's, still pending, and not past its expiry unless expiring it. */
export function decidable(t: Requests, guildId: string, requestId: number, decision: Decision): SQL | undefined {
  return and(eq(t.id, requestId), eq(t.guild_id, guildId), eq(t.status, 'pending'), decision.status === 'expired' ? undefined : gt(t.expires_at, decision.at));
}

/** A grant's extensions its holder granted themselves (approved, decided by the requester, without review). */
export function selfExtensionsOf(t: Requests, grantId: number): SQL | undefined {
  return and(eq(t.grant_id, grantId), eq(t.kind, 'extension'), eq(t.status, 'approved'), sql`${t.decided_by} = ${t.requester_id}`);
}
