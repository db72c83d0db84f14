import type { Message } from '../../src/interaction/conversation.js';
import type { GuildPolicy } from '../../src/policy/policy-service.js';
import { channel, duration, plain } from '../../src/shared/text.js';
import { code, command, join, list, literal, money, strong, text, type Text } from './format.js';

/** What a plan holding resources the price catalogue cannot estimate needs. */
const UNPRICED_WORDS: Record<GuildPolicy['unpricedResources'], string> = {
  allow: 'allowed (not counted in the estimate)',
  require_approval: 'need an admin’s approval',
  refuse: 'refused',
};

export function policyFields(policy: GuildPolicy): Array<{ name: string; value: Text }> {
  return [
    { name: 'Monthly budget', value: money(policy.maxBudgetMonthly) },
    { name: 'Max instances', value: text`${policy.maxInstances}` },
    { name: 'Max disk', value: text`${policy.maxDiskSizeGb} GB` },
    { name: 'Allowed instance types', value: literal(list(policy.allowedInstanceTypes, 'all')) },
    { name: 'Allowed resource types', value: literal(list(policy.allowedResourceTypes, 'all')) },
    { name: 'Approval required', value: text`${policy.requireApproval ? 'yes' : 'no'}` },
    { name: 'Resources not estimated', value: text`${UNPRICED_WORDS[policy.unpricedResources]}` },
    { name: 'IaC engine', value: literal(policy.enginePreference) },
    // In minutes, the unit of the option that sets it.
    { name: 'Max JIT grant', value: text`${policy.maxJitMinutes} min` },
    { name: 'JIT self-extension', value: policy.jitSelfExtendMinutes > 0 ? text`up to ${policy.jitSelfExtendMinutes} min per grant` : text`off (every extension is reviewed)` },
    { name: 'Default TTL', value: policy.defaultTtlMinutes === null ? text`none` : duration(policy.defaultTtlMinutes * 60_000) },
    { name: 'Max TTL', value: policy.maxTtlMinutes === null ? text`none` : duration(policy.maxTtlMinutes * 60_000) },
    { name: 'Notification channel', value: policy.notificationChannelId ? channel(policy.notificationChannelId) : text`none` },
  ];
}

/** The guild's policies; `ignored` names options given with action:view, which change nothing. */
export function policyView(policy: GuildPolicy, ignored: readonly string[] = []): Message {
  const notice = ignored.length
    ? text`⚠️ Nothing was changed: ${join(ignored.map((name) => code(name)), ', ')} ${ignored.length > 1 ? 'were' : 'was'} ignored with ${code('action:view')}. Use ${command('policy', { action: 'update' })} to change ${ignored.length > 1 ? 'them' : 'it'}.`
    : undefined;
  return { ephemeral: true, notices: [{ title: '📜 Guild policies', ...(notice ? { description: notice } : {}), fields: policyFields(policy) }] };
}

/** Before and after, listing only what changed. */
export function policyChangeView(before: GuildPolicy, after: GuildPolicy): Message {
  const old = policyFields(before);
  const changed = policyFields(after).filter((field, i) => plain(field.value) !== (old[i] ? plain(old[i].value) : undefined));
  return {
    ephemeral: true,
    notices: [
      {
        title: '✅ Guild policies updated',
        tone: 'success',
        description: changed.length ? 'What changed:' : 'Nothing changed: the values given were already in force.',
        fields: changed.map((field) => ({
          name: field.name,
          value: text`${old.find((o) => o.name === field.name)?.value ?? '—'} → ${strong(field.value)}`,
        })),
      },
    ],
  };
}
