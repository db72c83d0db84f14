/**
 * Who may change a guild's policy (seed 003: a JIT `admin` has "full control ... modify policies").
 *
 * - Everyone may view it: the guardrails a member's deployment is held to are no secret from that member.
 * - Manage Server may change everything.
 * - A member holding JIT admin on every provider (a grant for `all`, or one per provider), in force at this instant,
 *   may change the cost and resource guardrails: budget, instances, disk, engine, allowed types. The guild policy
 *   binds every provider, so admin on one provider is not enough.
 * - The settings that govern permissions themselves stay with Manage Server: `require_approval` and
 *   `unpriced_resources` (a JIT admin could otherwise waive the approval of their own deployments), `max_jit_minutes`
 *   (could lengthen the grants that make them admin), `jit_self_extend_minutes` (could let them extend their own grant
 *   unreviewed) and the notification channel (where grant and expiry notices go). A time-boxed grant must not be a
 *   way to outlast or escape its own box.
 */
import { PROVIDERS } from '../db/schema.js';
import type { JitService } from '../jit/jit-service.js';
import { levelLabel, satisfies } from '../jit/levels.js';
import type { JitAuditSink } from '../jit/ports.js';
import { UserError } from '../shared/errors.js';
import { code, command, join, text } from '../shared/text.js';
import type { GuildPolicy } from './policy-service.js';

export type PolicyField = keyof Omit<GuildPolicy, 'guildId' | 'updatedAt' | 'updatedBy'>;

/** The fields only Manage Server may change, with the option name a member types for each. */
export const MANAGE_SERVER_ONLY_FIELDS: Partial<Record<PolicyField, string>> = {
  requireApproval: 'require_approval',
  unpricedResources: 'unpriced_resources',
  maxJitMinutes: 'max_jit_minutes',
  jitSelfExtendMinutes: 'jit_self_extend_minutes',
  notificationChannelId: 'notification_channel',
};

export class PolicyUpdateDenied extends UserError {}

type Deps = { jit: Pick<JitService, 'effectiveLevel'>; audit: JitAuditSink };

/**
 * Refuses the update unless the member may change every one of `fields` right now; audits a refusal.
 * @throws PolicyUpdateDenied saying what is needed and what the member may still change.
 */
export async function requirePolicyUpdate(
  deps: Deps,
  input: { guildId: string; member: { id: string; isGuildAdmin: boolean }; fields: readonly PolicyField[] },
): Promise<void> {
  const { guildId, member, fields } = input;
  if (member.isGuildAdmin) return;
  const levels = await Promise.all(PROVIDERS.map((provider) => deps.jit.effectiveLevel({ guildId, userId: member.id, provider, isGuildAdmin: false })));
  const jitAdminEverywhere = levels.every((level) => satisfies(level, 'admin'));
  const reserved = fields.map((field) => MANAGE_SERVER_ONLY_FIELDS[field]).filter((name): name is string => name !== undefined);
  if (jitAdminEverywhere && reserved.length === 0) return;
  deps.audit.record({
    guildId,
    userId: member.id,
    action: 'policy.update',
    outcome: 'denied',
    details: { reason: jitAdminEverywhere ? 'manage_server_only_field' : 'not_admin', fields },
  });
  if (jitAdminEverywhere) {
    throw new PolicyUpdateDenied(
      'policy.manage_server_only',
      text`${join(reserved.map((name) => code(name)), ', ')} can be changed only by a member with the Manage Server permission: they govern approvals and JIT access themselves. Your ${levelLabel('admin')} JIT access lets you change the budget, instance, disk, engine and allowed-type limits. Nothing was changed.`,
    );
  }
  throw new PolicyUpdateDenied(
    'policy.update_needs_admin',
    text`Changing the guild policy needs the Manage Server permission, or ${levelLabel('admin')} JIT access on all providers (for the budget, instance, disk, engine and allowed-type limits). Anyone can view it with ${command('policy', { action: 'view' })}. Nothing was changed.`,
  );
}
