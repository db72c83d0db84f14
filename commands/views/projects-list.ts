import type { Message } from '../../src/interaction/conversation.js';
import type { GuildPolicy } from '../../src/policy/policy-service.js';
import type { Project } from '../../src/projects/project-repository.js';
import type { Resource } from '../../src/projects/resource-repository.js';
import { MAY_EXIST_IN_CLOUD } from '../../src/projects/resource-statuses.js';
import { command, join, money, text, time, type Text } from './format.js';

const STATUS_ICONS: Record<Resource['status'], string> = {
  planned: '📝',
  applying: '⏳',
  active: '🟢',
  failed: '🔴',
  destroying: '🧨',
  destroyed: '⚫',
  interrupted: '⚠️',
};

export interface ProjectOverview {
  project: Project;
  resources: Resource[];
  vaultExpiresAt: number | null;
}

export function resourceLine(resource: Resource): Text {
  if (resource.resourceType === null) {
    return text`${STATUS_ICONS[resource.status]} #${resource.id} template ${resource.template} — ${resource.status}${inputsSummary(resource)}`;
  }
  const size = resource.resourceType === 'vm' ? text` ${resource.instanceType ?? ''}, ${resource.diskSizeGb ?? 0} GB` : undefined;
  return text`${STATUS_ICONS[resource.status]} #${resource.id} ${resource.resourceType}${size} — ${resource.status}, ${money(resource.estimatedMonthlyCost)}/mo`;
}

/** A template deployment's non-sensitive inputs, briefly (the secret ones are only named: their values are never kept here). */
function inputsSummary(resource: Resource): Text | undefined {
  const shown = Object.entries(resource.inputs).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  const secrets = resource.sensitiveInputs.map((s) => `${s.name}=(secret)`);
  // The secrets first: only their names, short, and never cut off.
  const all = [...secrets, ...shown];
  if (all.length === 0) return undefined;
  const line = all.join(', ');
  return text` (${line.length > 120 ? `${line.slice(0, 119)}…` : line})`;
}

export function projectsView(overviews: ProjectOverview[], policy: GuildPolicy): Message {
  if (overviews.length === 0) {
    return { ephemeral: true, content: text`No projects yet. Start one with ${command('init')}.` };
  }
  let guildTotal = 0;
  const fields = overviews.slice(0, 25).map(({ project, resources, vaultExpiresAt }) => {
    // The same resources the budget counts, so the estimate shown is the one policy checks against.
    const monthly = resources
      .filter((r) => MAY_EXIST_IN_CLOUD.includes(r.status))
      .reduce((sum, r) => sum + r.estimatedMonthlyCost, 0);
    guildTotal += monthly;
    const credential =
      project.credentialSource === 'stored'
        ? text`🔑 stored credential`
        : vaultExpiresAt
          ? text`🔐 vault expires ${time(vaultExpiresAt)}`
          : text`🔐 vault expired: run ${command('init')} again to renew`;
    const lines = [
      text`${project.provider} · ${project.region} · ${money(monthly)}/mo · ${credential}`,
      ...resources.slice(0, 10).map(resourceLine),
      ...(resources.length > 10 ? [text`…and ${resources.length - 10} more`] : []),
    ];
    return { name: text`📋 ${project.name}`, value: join(lines, '\n') };
  });
  return {
    ephemeral: true,
    notices: [
      {
        title: '☁️ Cloud projects',
        description: text`Running estimate ${money(guildTotal)}/month of a ${money(policy.maxBudgetMonthly)} budget.`,
        fields,
      },
    ],
  };
}
