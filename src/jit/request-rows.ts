/** The row mapping of `jit_requests`, once for both dialects (their tables have the same columns). */
import { z } from 'zod';
import type { jitRequests } from '../db/index.js';
import type { Decision, JitRequest, NewJitRequest } from './request-repository.js';

type Row = typeof jitRequests.$inferSelect;

export function toRequest(row: Row): JitRequest {
  return {
    id: row.id,
    guildId: row.guild_id,
    kind: row.kind,
    requesterId: row.requester_id,
    provider: row.provider,
    level: row.permission_level,
    durationMinutes: row.duration_minutes,
    reason: row.reason,
    grantId: row.grant_id,
    reviewChannelId: row.review_channel_id,
    status: row.status,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    approvedMinutes: row.approved_minutes,
    decisionNote: row.decision_note,
  };
}

/**
 * The details of a request's `jit.request.expire` audit entry, built in SQL from its row (strings bounded as AuditLog
 * bounds them), so a row with an odd value (hand-edited, from a future version) is still expired and audited.
 */
const EXPIRY_FIELDS = "'requestId', id, 'kind', substr(kind, 1, 500), 'provider', substr(provider, 1, 500), 'level', substr(permission_level, 1, 500)";
export const EXPIRY_DETAILS_SQLITE = `CASE WHEN grant_id IS NULL THEN json_object(${EXPIRY_FIELDS}) ELSE json_object(${EXPIRY_FIELDS}, 'grantId', grant_id) END`;
export const EXPIRY_DETAILS_PG = `(CASE WHEN grant_id IS NULL THEN json_build_object(${EXPIRY_FIELDS}) ELSE json_build_object(${EXPIRY_FIELDS}, 'grantId', grant_id) END)::text`;

export const toNoticeId = (raw: unknown): number => z.object({ id: z.coerce.number().int() }).parse(raw).id;

/** The columns a decision sets (the same on both dialects). */
export function decisionColumns(decision: Decision) {
  return {
    status: decision.status,
    decided_by: decision.by,
    decided_at: decision.at,
    approved_minutes: decision.approvedMinutes ?? null,
    decision_note: decision.note ?? null,
    ...(decision.grantId !== undefined ? { grant_id: decision.grantId } : {}),
    ...(decision.notify ? { notice_status: 'pending' as const } : {}),
  };
}

/** The row of a new request: pending, or already `decided` (a self-extension). */
export function newRequestRow(request: NewJitRequest, decided?: Omit<Decision, 'notify' | 'note'>) {
  return {
    ...(decided ? { status: decided.status, decided_by: decided.by, decided_at: decided.at, approved_minutes: decided.approvedMinutes ?? null } : {}),
    guild_id: request.guildId,
    kind: request.kind,
    requester_id: request.requesterId,
    provider: request.provider,
    permission_level: request.level,
    duration_minutes: request.durationMinutes,
    reason: request.reason,
    grant_id: request.grantId,
    review_channel_id: request.reviewChannelId,
    created_at: request.createdAt,
    expires_at: request.expiresAt,
  };
}
