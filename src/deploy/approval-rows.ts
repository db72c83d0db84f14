/** The approvals' rows as both dialects read them (approval-repository.ts's two implementations share it). */
import { z } from 'zod';
import { SYSTEM_USER, type AuditRecord } from '../audit/audit-log.js';
import type { deployApprovals as pgDeployApprovals } from '../db/pg-schema.js';
import type { deployApprovals } from '../db/schema.js';
import type { DeployApprovalRecord, ExpiredApprovalRow, NewDeployApproval } from './approval-repository.js';

type Row = typeof deployApprovals.$inferSelect | typeof pgDeployApprovals.$inferSelect;

const closeReasonSchema = z.enum(['policy', 'plan_gone', 'resource_gone']).nullable().catch(null);

export function toApprovalRecord(row: Row): DeployApprovalRecord {
  return {
    id: row.id,
    guildId: row.guild_id,
    projectId: row.project_id,
    resourceId: row.resource_id,
    planRunId: row.plan_run_id,
    planSha256: row.plan_sha256,
    plannedResourcesJson: row.planned_resources,
    requester: { id: row.requester_id, isGuildAdmin: row.requester_is_admin },
    confirmedBy: { id: row.confirmed_by, isGuildAdmin: row.confirmed_by_admin },
    credential: row.credential,
    credentialLabel: row.credential_label,
    channelId: row.channel_id,
    status: row.status,
    requestedAt: row.requested_at,
    expiresAt: row.expires_at,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    closeReason: closeReasonSchema.parse(row.close_reason),
    card: row.card_channel_id !== null && row.card_message_id !== null ? { channelId: row.card_channel_id, messageId: row.card_message_id } : null,
  };
}

/** What the expiry batch returns, read loosely: one odd row must not block every later expiry. */
export const expiredRowSchema = z.object({ id: z.coerce.number().int(), guild_id: z.string(), requester_id: z.string() });

/** The row of a new approval, the same on both dialects' tables. */
export function newApprovalRow(approval: NewDeployApproval) {
  return {
    guild_id: approval.guildId,
    project_id: approval.projectId,
    resource_id: approval.resourceId,
    plan_run_id: approval.planRunId,
    plan_sha256: approval.planSha256,
    planned_resources: approval.plannedResourcesJson,
    requester_id: approval.requester.id,
    requester_is_admin: approval.requester.isGuildAdmin,
    confirmed_by: approval.confirmedBy.id,
    confirmed_by_admin: approval.confirmedBy.isGuildAdmin,
    credential: approval.credential,
    credential_label: approval.credentialLabel,
    channel_id: approval.channelId,
    requested_at: approval.requestedAt,
    expires_at: approval.expiresAt,
  };
}

/** The audit entry of an approval the janitor expired, written in the expiry's own transaction. */
export function approvalExpiryAudit(row: ExpiredApprovalRow): AuditRecord {
  return { guildId: row.guild_id, userId: SYSTEM_USER, action: 'deploy.approval', target: row.requester_id, outcome: 'denied', details: { approvalId: row.id, answer: 'expired' } };
}
