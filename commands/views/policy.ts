import type { Message } from '../../src/interaction/conversation.js';
import type { GuildPolicy } from '../../src/policy/policy-service.js';
import { escapeMarkdown, list, usd } from './format.js';

export function policyFields(policy: GuildPolicy): Array<{ name: string; value: string }> {
  return [
    { name: 'Monthly budget', value: usd(policy.maxBudgetMonthly) },
    { name: 'Max instances', value: String(policy.maxInstances) },
    { name: 'Max disk', value: `${policy.maxDiskSizeGb} GB` },
    { name: 'Allowed instance types', value: escapeMarkdown(list(policy.allowedInstanceTypes, 'all')) },
    { name: 'Allowed resource types', value: list(policy.allowedResourceTypes, 'all') },
    { name: 'Approval required', value: policy.requireApproval ? 'yes' : 'no' },
    { name: 'IaC engine', value: policy.enginePreference },
    { name: 'Max JIT grant', value: `${policy.maxJitMinutes} min` },
    { name: 'Notification channel', value: policy.notificationChannelId ? `<#${policy.notificationChannelId}>` : 'none' },
  ];
}

export function policyView(policy: GuildPolicy): Message {
  return { ephemeral: true, notices: [{ title: '📜 Guild policies', fields: policyFields(policy) }] };
}

/** Before and after, listing only what changed. */
export function policyChangeView(before: GuildPolicy, after: GuildPolicy): Message {
  const old = policyFields(before);
  const changed = policyFields(after).filter((field, i) => field.value !== old[i]?.value);
  return {
    ephemeral: true,
    notices: [
      {
        title: '✅ Guild policies updated',
        tone: 'success',
        description: changed.length ? 'What changed:' : 'Nothing changed: the values given were already in force.',
        fields: changed.map((field) => ({
          name: field.name,
          value: `${old.find((o) => o.name === field.name)?.value ?? '—'} → **${field.value}**`,
        })),
      },
    ],
  };
}
