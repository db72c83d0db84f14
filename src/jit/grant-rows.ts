/** A `jit_permissions` row into a JitGrant, the same on both dialects (their rows differ only in how `revoked` reads). */
import { z } from 'zod';
import { jitProviderSchema, permissionLevelSchema } from './levels.js';
import type { JitGrant, NewGrant, PendingNotice } from './grant-repository.js';

/** A row's grant columns as drizzle reads them (either dialect: the column names and types agree). */
export interface GrantRow {
  id: number;
  guild_id: string;
  user_id: string;
  provider: JitGrant['provider'];
  permission_level: JitGrant['level'];
  reason: string | null;
  granted_at: number;
  expires_at: number;
  granted_by: string;
  revoked: boolean;
  revoked_at: number | null;
  revoked_by: string | null;
  revoke_reason: 'manual' | 'expired' | null;
}

export function toGrant(row: GrantRow): JitGrant {
  return {
    id: row.id,
    guildId: row.guild_id,
    userId: row.user_id,
    provider: row.provider,
    level: row.permission_level,
    reason: row.reason,
    grantedAt: row.granted_at,
    expiresAt: row.expires_at,
    grantedBy: row.granted_by,
    revoked: row.revoked,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    revokeReason: row.revoke_reason,
  };
}

/** A grant about to be made, as the columns of its row (the rest take their defaults). */
export function newGrantRow(grant: NewGrant) {
  return {
    guild_id: grant.guildId,
    user_id: grant.userId,
    provider: grant.provider,
    permission_level: grant.level,
    reason: grant.reason,
    granted_at: grant.grantedAt,
    expires_at: grant.expiresAt,
    granted_by: grant.grantedBy,
  };
}

/** The grant columns a notice reads, in the order both dialects select them. */
export const NOTICE_COLUMNS =
  'id, guild_id, user_id, provider, permission_level, granted_at, expires_at, granted_by, reason, revoked, revoked_at, revoked_by, revoke_reason, notice_attempts';

/** PostgreSQL hands bigint columns of raw SQL back as strings; SQLite as numbers. Either is read as a safe integer. */
const integer = z.union([z.number(), z.string().regex(/^-?\d+$/).transform(Number)]).pipe(z.number().int().safe());

/** A raw row read strictly (a notice's words come from these values): SQLite's 0/1 and PostgreSQL's booleans alike. */
const strictRowSchema = z.object({
  id: integer,
  guild_id: z.string(),
  user_id: z.string(),
  provider: jitProviderSchema,
  permission_level: permissionLevelSchema,
  granted_at: integer,
  expires_at: integer,
  granted_by: z.string(),
  reason: z.string().nullable(),
  revoked: z.union([z.boolean(), z.literal(0).transform(() => false), z.literal(1).transform(() => true)]),
  revoked_at: integer.nullable(),
  revoked_by: z.string().nullable(),
  revoke_reason: z.enum(['manual', 'expired']).nullable(),
  notice_attempts: integer,
});
const idSchema = z.object({ id: integer });

/** A pending notice's raw row: its grant, or why it cannot be read (the janitor closes it as failed). */
export function toPendingNotice(raw: unknown): PendingNotice {
  const { id } = idSchema.parse(raw);
  const row = strictRowSchema.safeParse(raw);
  if (!row.success) return { id, problem: row.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') };
  const { notice_attempts: attempts, ...grant } = row.data;
  return { id, grant: toGrant(grant), attempts };
}
