/**
 * The advisor step (`003`'s "AI Advisor validates specs (if enabled)"): after the policy allowed a deployment and
 * while it is planned, the rules (rules.ts) and, when the operator configured one, a model (model-review.ts) give
 * advice that is shown with the plan. It never blocks and never throws: a rule or a model that fails is logged and
 * its advice left out.
 *
 * Off unless the operator sets ADVISOR_ENABLED=true: the model review sends a summary of each deployment to a third
 * party, which is the operator's decision (their contract, their bill, their data-flow record), not a guild's.
 */
import type { Config } from '../config/index.js';
import type { Logger } from '../logging/logger.js';
import type { DeploymentRequest } from '../policy/policy-service.js';
import type { PriceCatalogue } from '../pricing/catalogue.js';
import type { Project, ProjectRepository } from '../projects/project-repository.js';
import type { ResourceRepository } from '../projects/resource-repository.js';
import { text } from '../shared/text.js';
import { ModelReviewer, type ReviewSummary } from './model-review.js';
import { adviseByRules, type Advice, type AdviceSubject } from './rules.js';

export type { Advice } from './rules.js';

export interface AdviceRequest {
  guildId: string;
  project: Project;
  request: DeploymentRequest;
  monthlyEstimateUsd: number;
}

export interface Advisor {
  /** Advice for one deployment, possibly none. Never rejects. */
  advise(request: AdviceRequest): Promise<Advice[]>;
}

/** The advisor when it is off: no advice, nothing looked at, nothing sent. */
export const NO_ADVISOR: Advisor = { advise: () => Promise.resolve([]) };

export interface AdvisorDeps {
  pricing: PriceCatalogue;
  projects: Pick<ProjectRepository, 'list'>;
  resources: Pick<ResourceRepository, 'listByGuild'>;
  logger: Logger;
}

type AdvisorConfig = Pick<Config, 'ADVISOR_ENABLED' | 'ADVISOR_URL' | 'ADVISOR_MODEL' | 'ADVISOR_API_KEY' | 'ADVISOR_TIMEOUT_SECONDS'>;

export function createAdvisor(config: AdvisorConfig, deps: AdvisorDeps): Advisor {
  if (!config.ADVISOR_ENABLED) return NO_ADVISOR;
  const reviewer =
    config.ADVISOR_URL && config.ADVISOR_MODEL
      ? new ModelReviewer({ url: config.ADVISOR_URL, model: config.ADVISOR_MODEL, apiKey: config.ADVISOR_API_KEY, timeoutMs: config.ADVISOR_TIMEOUT_SECONDS * 1000 }, deps.logger)
      : undefined;
  return new RuleAndModelAdvisor(deps, reviewer);
}

class RuleAndModelAdvisor implements Advisor {
  constructor(
    private readonly deps: AdvisorDeps,
    private readonly reviewer: ModelReviewer | undefined,
  ) {}

  async advise({ guildId, project, request, monthlyEstimateUsd }: AdviceRequest): Promise<Advice[]> {
    const advice: Advice[] = [];
    try {
      advice.push(...adviseByRules(await this.#subject(guildId, project, request), this.deps.pricing));
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'advisor: rules failed; their advice is left out');
    }
    if (this.reviewer) {
      const summary: ReviewSummary = {
        resourceType: request.resourceType,
        instanceType: request.instanceType ?? null,
        diskSizeGb: request.diskSizeGb ?? null,
        region: project.region,
        monthlyEstimateUsd,
      };
      const review = await this.reviewer.review(summary);
      if (review !== undefined) advice.push({ rule: 'model_review', text: text`Model review: ${review}` });
    }
    return advice;
  }

  async #subject(guildId: string, project: Project, request: DeploymentRequest): Promise<AdviceSubject> {
    const otherProjects = (await this.deps.projects.list(guildId)).filter((p) => p.id !== project.id);
    const guildVmDiskSizesGb = (await this.deps.resources.listByGuild(guildId, ['active']))
      .flatMap((r) => (r.resourceType === 'vm' && r.diskSizeGb !== null ? [r.diskSizeGb] : []));
    return { ...request, region: project.region, otherProjects, guildVmDiskSizesGb };
  }
}
