/**
 * What every drift step shares: the ports it is given, the workspace a check is of (the project's built-ins or one
 * template deployment) read again at each step, and the run request its runs make.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { RunCredentials } from '../deploy/run-credentials.js';
import type { Member } from '../deploy/steps.js';
import type { DriftTarget } from '../engine/drift-runs.js';
import type { IacRunner } from '../engine/runner.js';
import type { Logger } from '../logging/logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { PolicyService } from '../policy/policy-service.js';
import type { Project, ProjectRepository } from '../projects/project-repository.js';
import type { Resource, ResourceRepository } from '../projects/resource-repository.js';
import { MAY_EXIST_IN_CLOUD } from '../projects/resource-statuses.js';
import type { Clock } from '../shared/clock.js';
import type { DriftTargetLabel } from './drift-notices.js';
import type { DriftCheck, DriftRepository } from './drift-repository.js';
import { DriftAdminOnly } from './errors.js';

export interface DriftDeps {
  checks: DriftRepository;
  projects: ProjectRepository;
  resources: ResourceRepository;
  runner: Pick<IacRunner, 'drift' | 'apply' | 'discardPlan'>;
  policies: Pick<PolicyService, 'get' | 'checkPlan'>;
  audit: AuditLog;
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
  /** The credentials a run of the project uses when nobody chooses (src/deploy/run-credentials.ts). */
  credentialsFor: (project: Project) => Promise<RunCredentials>;
  /** A template deployment's sensitive inputs, while the vault holds them (`TF_VAR_*`; src/deploy/sensitive-inputs.ts). */
  sensitiveEnv: (project: Project, deployment: Resource) => Promise<Record<string, string>>;
}

/** A check's workspace as it is now; undefined when the project was forgotten or the deployment destroyed. */
export interface LiveTarget {
  project: Project;
  deployment: Resource | undefined;
  label: DriftTargetLabel;
}

export async function liveTarget(deps: Pick<DriftDeps, 'projects' | 'resources'>, check: DriftCheck): Promise<LiveTarget | undefined> {
  let project: Project;
  try {
    project = await deps.projects.getById(check.guildId, check.projectId);
  } catch {
    return undefined;
  }
  if (check.deploymentId === null) return { project, deployment: undefined, label: { project: project.name } };
  let deployment: Resource;
  try {
    deployment = await deps.resources.get(check.guildId, check.deploymentId);
  } catch {
    return undefined;
  }
  if (!MAY_EXIST_IN_CLOUD.includes(deployment.status)) return undefined;
  return { project, deployment, label: { project: project.name, deployment: { id: deployment.id, name: deployment.name } } };
}

/** How a check is named when its workspace is gone (list, closed reports). */
export async function labelOf(deps: Pick<DriftDeps, 'projects' | 'resources'>, check: DriftCheck): Promise<DriftTargetLabel> {
  const live = await liveTarget(deps, check);
  if (live) return live.label;
  let project = `project #${check.projectId}`;
  try {
    project = (await deps.projects.getById(check.guildId, check.projectId, { includeArchived: true })).name;
  } catch {
    // Named by id.
  }
  return check.deploymentId === null ? { project } : { project, deployment: { id: check.deploymentId, name: `#${check.deploymentId}` } };
}

/** The request of a run on the check's workspace, by `userId` (the presser, or for the schedule whoever enabled it). */
export async function runRequest(deps: Pick<DriftDeps, 'policies' | 'sensitiveEnv'>, target: LiveTarget, userId: string, credentials: RunCredentials, channelId?: string | null): Promise<DriftTarget> {
  return {
    guildId: target.project.guildId,
    projectSlug: target.project.slug,
    userId,
    ...(channelId ? { channelId } : {}),
    credentialEnv: target.deployment ? { ...credentials.env, ...(await deps.sensitiveEnv(target.project, target.deployment)) } : credentials.env,
    enginePreference: (await deps.policies.get(target.project.guildId)).enginePreference,
    deploymentId: target.deployment?.id,
  };
}

/** Every drift command and press: server admins only, as of this moment. Refusals are audited. */
export function requireAdmin(deps: Pick<DriftDeps, 'audit'>, guildId: string, who: Member, action: string): void {
  if (who.isGuildAdmin) return;
  deps.audit.record({ guildId, userId: who.id, action, outcome: 'denied', details: { reason: 'not_admin' } });
  throw new DriftAdminOnly();
}

/** Where a check's notices go: the guild's notification channel, else where the check was enabled. */
export async function reportChannel(deps: Pick<DriftDeps, 'policies'>, check: DriftCheck): Promise<string | null> {
  return (await deps.policies.get(check.guildId)).notificationChannelId ?? check.channelId;
}
