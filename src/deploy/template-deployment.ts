/**
 * The first steps of deploying a template, for any front end: `begin` (before any form: the project, Deployer access,
 * the template and the steps of asking for its inputs, whose values are checked as they come by `stepProblems`), `prepare`
 * (access again, every value read against its declared type, the resource row with its own workspace, the secret
 * inputs into the project's vault session). What follows — plan, Apply, approval, apply, discard — is the same
 * DeployService as for the built-ins, so every deployment gets the same policy, plan and audit.
 */
import type { AppContext } from '../app/context.js';
import type { Project } from '../projects/project-repository.js';
import type { PolicyDecision } from '../policy/policy-service.js';
import { toEnvironmentValue } from '../templates/input-values.js';
import type { Template } from '../templates/template.js';
import type { Deployment } from './deploy-service.js';
import { credentialsForRun, parseCredentialChoice, type RunCredentials } from './run-credentials.js';
import { asEngineEnv, SensitiveInputs } from './sensitive-inputs.js';
import type { Member } from './steps.js';
import type { TtlTyped } from '../ttl/ttl-duration.js';
import { resolveTtl } from '../ttl/ttl-policy.js';
import { InvalidInputs, inputSpecs, inputSteps, readInputs, type InputStep, type ReadInputs } from './template-inputs.js';

export interface TemplateDeployInput {
  guildId: string;
  requester: Member;
  /** The project's name or slug, in this guild. */
  project: string;
  /** A template's name in this guild's catalogue. */
  template: string;
  /** Also ask for the inputs that have a default (else they keep it). */
  askOptional: boolean;
  /** `session`, `service` or a stored credential's name; the project's own when left out. */
  credential?: string | undefined;
  /** The time to live asked for; the guild's default when left out. */
  ttl?: TtlTyped | undefined;
}

/** What is known before any form: where it goes, what it is, and what to ask. */
export interface InputRequest {
  guildId: string;
  requester: Member;
  project: Project;
  template: Template;
  steps: InputStep[];
  /** Its time to live (ms) under the guild's policy, checked before any form; null: none. */
  ttlMs: number | null;
}

export interface TemplateDeployDetails {
  channelId?: string | undefined;
  /** `session`, `service` or a stored credential's name; the project's own when left out. */
  credential?: string | undefined;
  /** Everything typed, by variable name. */
  typed: Readonly<Record<string, string>>;
}

export type TemplateDeployDeps = Pick<AppContext, 'projects' | 'resources' | 'jit' | 'policies' | 'templates' | 'deploymentTtls'> & {
  credentialsFor: (project: Project, credential: string | undefined) => Promise<RunCredentials>;
  sensitiveInputs: Pick<SensitiveInputs, 'keep'>;
};

export class TemplateDeployments {
  constructor(private readonly deps: TemplateDeployDeps) {}

  static from(app: AppContext): TemplateDeployments {
    return new TemplateDeployments({
      ...app,
      credentialsFor: (project, credential) => credentialsForRun(app, project, parseCredentialChoice(credential, project)),
      sensitiveInputs: new SensitiveInputs(app),
    });
  }

  /**
   * Before any form, so nobody types for nothing: the project, Deployer access on its provider, the template.
   * @throws ProjectNotFound, PermissionDenied, TemplateNotFound (also for another guild's template), UnusableTemplate,
   * credential errors.
   */
  async begin(input: TemplateDeployInput): Promise<InputRequest> {
    const { guildId, requester } = input;
    const project = await this.deps.projects.get(guildId, input.project);
    await this.#requireDeployer(guildId, requester, project);
    const ttlMs = resolveTtl(await this.deps.policies.get(guildId), input.ttl);
    const template = await this.deps.templates.get(guildId, input.template);
    const steps = inputSteps(template, project.provider, { askOptional: input.askOptional });
    // The credential is chosen again after the forms; a choice that cannot work is refused before them.
    await this.deps.credentialsFor(project, input.credential);
    return { guildId, requester, project, template, steps, ttlMs };
  }

  /**
   * After the forms: Deployer access again (a form can take minutes), every value checked, then the resource row
   * (planned, in a folder of its own) and the secret inputs kept in the project's vault session.
   * @throws PermissionDenied, InvalidInputs listing every problem, credential and vault errors; nothing is kept then.
   */
  async prepare(request: InputRequest, details: TemplateDeployDetails): Promise<Deployment> {
    const { guildId, requester, template } = request;
    const project = await this.deps.projects.getById(guildId, request.project.id);
    await this.#requireDeployer(guildId, requester, project);
    const fields = inputSpecs(template, project.provider);
    const read = readInputs(fields, details.typed);
    if (read.problems.length > 0) throw new InvalidInputs(read.problems);
    const credentials = await this.deps.credentialsFor(project, details.credential);
    const secrets = engineValues(read, fields);
    const resource = await this.deps.resources.createTemplateDeployment({
      projectId: project.id,
      guildId,
      template: template.name,
      templateRevision: template.pinnedRevision,
      inputs: read.values,
      sensitiveInputs: fields
        .filter((f) => f.spec.sensitive)
        .map((f) => ({ name: f.variable.name, type: f.variable.type, nullable: f.variable.nullable, hasDefault: f.variable.hasDefault })),
      estimatedMonthlyCost: 0,
      createdBy: requester.id,
    });
    await this.deps.deploymentTtls.ask(guildId, resource.id, request.ttlMs);
    try {
      await this.deps.sensitiveInputs.keep(project, resource.id, requester.id, secrets);
    } catch (error) {
      // Nothing half-done: a deployment whose secrets could not be kept is not left planned.
      await this.deps.resources.setStatus(guildId, resource.id, 'destroyed');
      throw error;
    }
    return {
      guildId,
      requester,
      channelId: details.channelId,
      project,
      resource,
      request: null,
      decision: beforeThePlan((await this.deps.policies.get(guildId)).requireApproval),
      // The secrets join the run's environment, and so its redaction of everything shown, stored or logged.
      credentials: { ...credentials, env: { ...credentials.env, ...asEngineEnv(secrets) } },
      credentialChoice: details.credential,
      ttlMs: request.ttlMs,
    };
  }

  async #requireDeployer(guildId: string, requester: Member, project: Project): Promise<void> {
    await this.deps.jit.require({ guildId, userId: requester.id, provider: project.provider, isGuildAdmin: requester.isGuildAdmin, needed: 'deployer' });
  }
}

/** The secret values as the engine reads them from its environment. */
function engineValues(read: ReadInputs, fields: ReturnType<typeof inputSpecs>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const field of fields) {
    const value = read.secrets[field.variable.name];
    if (value !== undefined) values[field.variable.name] = toEnvironmentValue(field.spec.type, value);
  }
  return values;
}

/**
 * A template's options say nothing the policy can check: what it will create is known only from its plan (checked
 * there). Until then it is allowed, priced at nothing, and needs an approval when the guild's policy always does.
 */
function beforeThePlan(requireApproval: boolean): PolicyDecision {
  return { allowed: true, violations: [], requiresApproval: requireApproval, estimate: { monthlyUsd: 0, lines: [] }, projectedMonthlyUsd: 0 };
}
