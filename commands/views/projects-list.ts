import type { Message } from '../../src/interaction/conversation.js';
import type { GuildPolicy } from '../../src/policy/policy-service.js';
import type { ProjectsOverview } from '../../src/projects/project-overview.js';
import type { Resource, ResourceLine } from '../../src/projects/resource-repository.js';
import { command, join, money, text, time, type Text } from './format.js';

/** Discord shows at most 25 fields in an embed: one per project. */
export const PROJECTS_SHOWN = 25;
export const RESOURCES_SHOWN = 10;

const STATUS_ICONS: Record<Resource['status'], string> = {
  planned: '📝',
  applying: '⏳',
  active: '🟢',
  failed: '🔴',
  destroying: '🧨',
  destroyed: '⚫',
  interrupted: '⚠️',
};

export function resourceLine(resource: ResourceLine): Text {
  if (resource.resourceType === null) {
    return text`${STATUS_ICONS[resource.status]} #${resource.id} template ${resource.template} — ${resource.status}${timeLeft(resource)}${inputsSummary(resource)}`;
  }
  const size = resource.resourceType === 'vm' ? text` ${resource.instanceType ?? ''}, ${resource.diskSizeGb ?? 0} GB` : undefined;
  return text`${STATUS_ICONS[resource.status]} #${resource.id} ${resource.resourceType}${size} — ${resource.status}, ${money(resource.estimatedMonthlyCost)}/mo${timeLeft(resource)}`;
}

/** A deployment with a time to live: when it is destroyed (relative, so it reads as the time left). */
function timeLeft(resource: ResourceLine): Text | undefined {
  if (resource.expiresAt === null || resource.status === 'destroyed') return undefined;
  return text`, ⏳ destroyed ${time(resource.expiresAt)}`;
}

/** A template deployment's non-sensitive inputs, briefly (the secret ones are only named: their values are never kept here). */
function inputsSummary(resource: ResourceLine): Text | undefined {
  const shown = Object.entries(resource.inputs).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  const secrets = resource.sensitiveInputs.map((s) => `${s.name}=(secret)`);
  // The secrets first: only their names, short, and never cut off.
  const all = [...secrets, ...shown];
  if (all.length === 0) return undefined;
  const line = all.join(', ');
  return text` (${line.length > 120 ? `${line.slice(0, 119)}…` : line})`;
}

/** `vaultExpiry`: when each of the guild's open vault sessions expires, by session id. */
export function projectsView(overview: ProjectsOverview, vaultExpiry: ReadonlyMap<string, number>, policy: GuildPolicy): Message {
  if (overview.projectCount === 0) {
    return { ephemeral: true, content: text`No projects yet. Start one with ${command('init')}.` };
  }
  const fields = overview.projects.map(({ project, resources, resourceCount, monthlyUsd }) => {
    const vaultExpiresAt = project.vaultSessionId ? vaultExpiry.get(project.vaultSessionId) : undefined;
    const credential =
      project.credentialSource === 'stored'
        ? text`🔑 stored credential`
        : vaultExpiresAt
          ? text`🔐 vault expires ${time(vaultExpiresAt)}`
          : text`🔐 vault expired: run ${command('init')} again to renew`;
    const lines = [
      text`${project.provider} · ${project.region} · ${money(monthlyUsd)}/mo · ${credential}`,
      ...resources.map(resourceLine),
      ...(resourceCount > resources.length ? [text`…and ${resourceCount - resources.length} more`] : []),
    ];
    return { name: text`📋 ${project.name}`, value: join(lines, '\n') };
  });
  const hidden = overview.projectCount - overview.projects.length;
  // The whole guild's estimate, the one its budget is checked against, whether or not every project fits on screen.
  const description = text`Running estimate ${money(overview.inCloud.monthlyUsd)}/month of a ${money(policy.maxBudgetMonthly)} budget.${
    hidden > 0 ? text` Showing the first ${overview.projects.length} of ${overview.projectCount} projects, by name.` : undefined
  }`;
  return { ephemeral: true, notices: [{ title: '☁️ Cloud projects', description, fields }] };
}
