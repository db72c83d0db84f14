/** What the plan-based policy check is given for a deployment: at its plan, at Apply, and at an admin's approval. */
import type { PlanResult } from '../engine/runner.js';
import type { PlanCheck } from '../policy/plan-policy.js';
import type { DeploymentRequest, Reserved } from '../policy/policy-service.js';
import type { Project } from '../projects/project-repository.js';

export interface CheckedDeployment {
  guildId: string;
  project: Pick<Project, 'provider'>;
  request: DeploymentRequest | null;
  plan: Pick<PlanResult, 'plannedResources'>;
}

/** The plan's resources for this deployment, priced in the project's cloud, with what is reserved meanwhile. */
export function planCheckOf(deployment: CheckedDeployment, reserved: Reserved): PlanCheck {
  const { request } = deployment;
  return {
    guildId: deployment.guildId,
    provider: deployment.project.provider,
    planned: deployment.plan.plannedResources,
    reserved,
    // For a bucket, `disk_size` is the data the member expects to keep: something no plan can say.
    expectedStorageGb: request?.resourceType === 'bucket' ? request.diskSizeGb : undefined,
  };
}
