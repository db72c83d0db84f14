/**
 * The deployment of one new resource, step by step, for any front end: prepare (access, boot disk, the policy on
 * the options, the resource row), plan (and the policy on what the plan will make, which is the authority from then
 * on), decide what the member may do next, approve, apply, or discard. Each step that acts checks
 * access again at that moment (src/jit/access-at-step.ts). The service writes every `deploy.*` audit entry and every
 * status change of the resource outside a run (the runner moves it while it applies); it returns typed outcomes and
 * leaves the wording to the front end.
 */
import type { Advice } from '../advisor/advisor.js';
import { command, text } from '../shared/text.js';
import type { AppContext } from '../app/context.js';
import type { ResourceType } from '../db/schema.js';
import type { ApplyResult, IacRunner, PlanResult, RunRequest } from '../engine/runner.js';
import { accessLostAt, requesterAndPresser, type AccessLostAtStep, type StepParticipant } from '../jit/access-at-step.js';
import type { PlanDecision } from '../policy/plan-policy.js';
import type { DeploymentRequest, PolicyDecision } from '../policy/policy-service.js';
import { assertBootDiskSize } from '../projects/boot-disk.js';
import type { Project } from '../projects/project-repository.js';
import type { Resource } from '../projects/resource-repository.js';
import { logOperatorNote } from '../logging/operator-note.js';
import { isUserError, type UserError } from '../shared/errors.js';
import { DeployApprovals } from './deploy-approval.js';
import { planCheckOf } from './plan-check.js';
import { credentialsForRun, parseCredentialChoice, type RunCredentials } from './run-credentials.js';
import { SensitiveInputs } from './sensitive-inputs.js';
import type { Member, ShowProgress } from './steps.js';
import type { TtlTyped } from '../ttl/ttl-duration.js';
import { resolveTtl } from '../ttl/ttl-policy.js';

export interface DeployInput {
  guildId: string;
  requester: Member;
  /** Where the deployment was asked for: a crash recovery tells the member there (see engine/orphans.ts). */
  channelId?: string | undefined;
  /** The project's name or slug, in this guild. */
  project: string;
  resourceType: ResourceType;
  instanceType?: string | undefined;
  diskSizeGb?: number | undefined;
  /** `session`, `service` or a stored credential's name; the project's own when left out. */
  credential?: string | undefined;
  /** The time to live asked for (`ttl` option); the guild's default when left out (src/ttl/ttl-policy.ts). */
  ttl?: TtlTyped | undefined;
}

/** A deployment that passed its first checks: its resource row exists (planned). */
export interface Deployment {
  guildId: string;
  requester: Member;
  channelId?: string | undefined;
  project: Project;
  resource: Resource;
  /** What the policy checks before the plan; null for a template deployment (what it creates is known from its plan). */
  request: DeploymentRequest | null;
  /** The policy on the options: a quick refusal before planning; the plan's check replaces it. */
  decision: PolicyDecision;
  /** The engine's environment stays inside the service's runs; only `label` is for showing. */
  credentials: RunCredentials;
  /** The `credential` option it was asked with, to pick the credential again after a restart (an approval). */
  credentialChoice?: string | undefined;
  /** Its time to live (ms), kept on the row; the clock starts when the apply succeeds. Null: none. */
  ttlMs?: number | null;
}

export interface PlannedDeployment extends Omit<Deployment, 'decision'> {
  plan: PlanResult;
  /** The policy on what the plan will make: its estimate, what it breaks, whether an admin must approve. */
  decision: PlanDecision;
  /** The advisor's advice, shown with the plan; empty when it is off or has nothing to say. */
  advice: Advice[];
}

/** A plan someone pressed Apply on. `requester` carries the freshest admin flag known (the press, if theirs). */
export interface ConfirmedDeployment extends PlannedDeployment {
  confirmedBy: Member;
}

export type Prepared = { allowed: true; deployment: Deployment } | { allowed: false; decision: PolicyDecision };

export type Planned =
  | { ok: true; deployment: PlannedDeployment }
  | { ok: false; error: UserError }
  /** The plan breaks the guild's policy: it was discarded, and `refusedByPolicy` holds every rule it breaks. */
  | { ok: false; refusedByPolicy: PlanDecision };

/** What `discard` needs: the row, and the plan when there is one. */
export type Discardable = Pick<Deployment, 'guildId' | 'resource' | 'project'> & { plan?: Pick<PlanResult, 'runId'> };

/** What may happen after Apply was pressed. A refused deployment has been discarded. */
export type NextStep =
  | { next: 'apply'; deployment: ConfirmedDeployment }
  | { next: 'needs_approval'; deployment: ConfirmedDeployment }
  | { next: 'refused'; refusal: AccessLostAtStep };

/** How an apply ended. Every outcome but `applied` and a failed run leaves the plan discarded. */
export type Applied =
  | { outcome: 'applied'; resource: Resource; result: ApplyResult }
  | { outcome: 'refused_by_policy'; decision: PlanDecision }
  | { outcome: 'access_lost'; refusal: AccessLostAtStep }
  | { outcome: 'failed'; error: UserError };

export type DeployDeps = Pick<AppContext, 'projects' | 'resources' | 'jit' | 'policies' | 'reservations' | 'audit' | 'clock' | 'advisor' | 'notifier' | 'deployApprovals' | 'deploymentTtls'> &
  Partial<Pick<AppContext, 'logger'>> & {
  runner: Pick<IacRunner, 'plan' | 'apply' | 'discardPlan' | 'savedPlan'>;
  credentialsFor: (project: Project, credential: string | undefined) => Promise<RunCredentials>;
  /** A discarded template deployment's secret inputs go with it. */
  sensitiveInputs: Pick<SensitiveInputs, 'forget' | 'read'>;
};

/** What an access refusal at Apply tells the member happened and what to do. */
const APPLY_REFUSED = { outcome: 'The plan was discarded; nothing was applied.', afterwards: text`run ${command('deploy')} again` };

const servicesOfApps = new WeakMap<AppContext, DeployService>();

export class DeployService {
  /** An admin's approval, when the policy asks for one (`decide` says so): recorded, decided by a durable press. */
  readonly approvals: DeployApprovals;

  constructor(private readonly deps: DeployDeps) {
    this.approvals = new DeployApprovals({ ...deps, discard: (deployment) => this.discard(deployment) });
  }

  /** The app's service, built at its first use and kept: every /cloud-deploy asks for it (a copy of the app each time). */
  static from(app: AppContext): DeployService {
    let service = servicesOfApps.get(app);
    if (!service) {
      service = new DeployService({
        ...app,
        credentialsFor: (project, credential) => credentialsForRun(app, project, parseCredentialChoice(credential, project)),
        sensitiveInputs: new SensitiveInputs(app),
      });
      servicesOfApps.set(app, service);
    }
    return service;
  }

  /**
   * Access (Deployer on the project’s provider), boot disk and the policy on the options; then the resource row, planned.
   * @throws ProjectNotFound (also for another guild's project), PermissionDenied, InvalidBootDisk, credential errors.
   */
  async prepare(input: DeployInput): Promise<Prepared> {
    const { guildId, requester } = input;
    const { resources, clock } = this.deps;
    const checked = await this.#check(input);
    if (!checked.decision.allowed) return { allowed: false, decision: checked.decision };
    const { project, request, decision, ttlMs } = checked;
    const credentials = await this.deps.credentialsFor(project, input.credential);
    const resource = await resources.create({
      projectId: project.id,
      guildId,
      name: `${input.resourceType}-${clock.now().toString(36)}`,
      resourceType: input.resourceType,
      instanceType: input.instanceType,
      diskSizeGb: input.diskSizeGb,
      estimatedMonthlyCost: decision.estimate.monthlyUsd,
      createdBy: requester.id,
    });
    await this.deps.deploymentTtls.ask(guildId, resource.id, ttlMs);
    return { allowed: true, deployment: { guildId, requester, channelId: input.channelId, project, resource, request, decision, credentials, credentialChoice: input.credential, ttlMs } };
  }

  /**
   * The policy's refusal of this request (audited, as `prepare` audits it), or undefined when the policy allows it.
   * Nothing is created: a front end can answer a refusal at once, and `prepare` checks again when it acts.
   * @throws what `prepare` throws before the policy check (an unknown project, no deployer access, a disk too small).
   */
  async policyRefusal(input: DeployInput): Promise<PolicyDecision | undefined> {
    const { decision } = await this.#check(input);
    return decision.allowed ? undefined : decision;
  }

  /** Everything `prepare` checks before it creates anything; a policy refusal is audited here. */
  async #check(input: DeployInput): Promise<{ project: Project; request: DeploymentRequest; decision: PolicyDecision; ttlMs: number | null }> {
    const { guildId, requester } = input;
    const { projects, jit, policies, audit } = this.deps;
    const project = await projects.get(guildId, input.project);
    await jit.require({ guildId, userId: requester.id, provider: project.provider, isGuildAdmin: requester.isGuildAdmin, needed: 'deployer' });
    // The minimum depends on the project's provider, so this is the first moment it can be checked.
    assertBootDiskSize(project.provider, input.resourceType, input.diskSizeGb);
    // Before the plan: a time to live above the guild's maximum could never be applied.
    const ttlMs = resolveTtl(await policies.get(guildId), input.ttl);
    const request: DeploymentRequest = { provider: project.provider, resourceType: input.resourceType, instanceType: input.instanceType, diskSizeGb: input.diskSizeGb };
    const decision = await policies.validate(guildId, request);
    if (!decision.allowed) {
      audit.record({ guildId, userId: requester.id, action: 'deploy.plan', target: project.name, outcome: 'denied', details: { rules: decision.violations.map((v) => v.rule) } });
    }
    return { project, request, decision, ttlMs };
  }

  /**
   * Plans the resource, then holds the guild's policy against what the plan will make. A failed plan, and a plan
   * that breaks the policy, are audited and discarded with their row. @throws only what is not a UserError.
   */
  async plan(deployment: Deployment, show: ShowProgress): Promise<Planned> {
    // The advisor reviews the deployment while the engine plans it (it never rejects, and never blocks).
    const { guildId, project, request, decision: precheck } = deployment;
    const advice = request ? this.deps.advisor.advise({ guildId, project, request, monthlyEstimateUsd: precheck.estimate.monthlyUsd }) : Promise.resolve([]);
    let plan: PlanResult | undefined;
    try {
      const runRequest = await this.#runRequest(deployment);
      plan = await show((observer) => this.deps.runner.plan({ ...runRequest, ...observer, resourceId: deployment.resource.id }));
      const decision = await this.deps.policies.checkPlan(planCheckOf({ ...deployment, plan }, await this.deps.reservations.reservedFor(guildId)));
      if (!decision.allowed) {
        await this.discard({ ...deployment, plan });
        this.#audit(deployment, deployment.requester.id, 'deploy.plan', 'denied', { resourceId: deployment.resource.id, planRunId: plan.runId, step: 'plan', rules: decision.violations.map((v) => v.rule) });
        return { ok: false, refusedByPolicy: decision };
      }
      // From now on the resource counts against the budget at what its plan costs, and against max_instances with
      // the VMs its plan makes (a template's may be several), like every row once it may exist in the cloud.
      const resource = await this.deps.resources.setPlannedFigures(guildId, deployment.resource.id, { monthlyUsd: decision.estimate.monthlyUsd, computeInstances: decision.vms });
      return { ok: true, deployment: { ...deployment, resource, plan, decision, advice: await advice } };
    } catch (error) {
      await this.discard(plan ? { ...deployment, plan } : deployment);
      this.#audit(deployment, deployment.requester.id, 'deploy.plan', 'failed', { resourceId: deployment.resource.id });
      if (!isUserError(error)) throw error;
      logOperatorNote(this.deps.logger, error, { guildId: deployment.guildId, step: 'deploy.plan' });
      return { ok: false, error };
    }
  }

  /** Who may press Apply or Cancel: the requester, or a server admin. */
  mayConfirm(deployment: PlannedDeployment, by: Member): boolean {
    return by.id === deployment.requester.id || by.isGuildAdmin;
  }

  /** Cancel pressed (`by`), or nobody answered (undefined): the plan and its row go. */
  async cancel(deployment: PlannedDeployment, by: Member | undefined): Promise<void> {
    await this.discard(deployment);
    this.#audit(deployment, by?.id ?? deployment.requester.id, 'deploy.cancel', 'success', { planRunId: deployment.plan.runId });
  }

  /**
   * Apply was pressed by `presser`. A grant may have expired or been revoked while the plan waited, so the requester
   * (and the presser, if someone else) must still be a Deployer now; then the policy says whether an admin must approve.
   */
  async decide(deployment: PlannedDeployment, presser: Member): Promise<NextStep> {
    const requester = presser.id === deployment.requester.id ? presser : deployment.requester;
    const confirmed: ConfirmedDeployment = { ...deployment, requester, confirmedBy: presser };
    const refusal = await this.#accessLost(confirmed, 'apply.press');
    if (refusal) return { next: 'refused', refusal };
    return { next: confirmed.decision.requiresApproval ? 'needs_approval' : 'apply', deployment: confirmed };
  }

  /**
   * Checks access again (an approval can take half an hour), and the policy again, counting deployments that passed
   * their check but are not applying yet; holds this one's share of the budget until its run has ended, then applies
   * exactly the plan shown. If anything fails before the engine has started applying, the plan is discarded.
   * @throws only what is not a UserError (after discarding and auditing).
   */
  async apply(deployment: ConfirmedDeployment, show: ShowProgress): Promise<Applied> {
    const { guildId, resource, plan } = deployment;
    const { policies, reservations, runner, resources } = this.deps;
    // The check and the hold in one transaction: a deployment pressed at the same moment, in this process or
    // another, is checked after this one's hold and counts it.
    const { decision: recheck, release } = await reservations.reserveIfAllowed(guildId, resource.id, (reserved) => policies.checkPlan(planCheckOf(deployment, reserved)));
    if (!release) {
      await this.discard(deployment);
      this.#audit(deployment, deployment.requester.id, 'deploy.apply', 'denied', { resourceId: resource.id, planRunId: plan.runId, step: 'apply.start', rules: recheck.violations.map((v) => v.rule) });
      return { outcome: 'refused_by_policy', decision: recheck };
    }
    // After the hold, outside its transaction (the grants are read asynchronously); a refusal releases the hold.
    let refusal: AccessLostAtStep | null;
    try {
      refusal = await this.#accessLost(deployment, 'apply.start');
    } catch (error) {
      await release();
      throw error;
    }
    if (refusal) {
      await release();
      return { outcome: 'access_lost', refusal };
    }
    try {
      const runRequest = await this.#runRequest(deployment);
      const result = await show((observer) => runner.apply({ ...runRequest, ...observer, planRunId: plan.runId }));
      // The clock of a time to live starts now, at the apply, not at the plan or the approval.
      const expiresAt = await this.deps.deploymentTtls.start(guildId, resource.id);
      this.#audit(deployment, deployment.requester.id, 'deploy.apply', 'success', { resourceId: resource.id, runId: result.runId, ...(expiresAt === null ? {} : { expiresAt }) });
      return { outcome: 'applied', resource: await resources.get(guildId, resource.id), result };
    } catch (error) {
      // Refused before the engine applied anything (the workspace busy, the plan expired, cancelled in the queue):
      // the plan file and the still-planned row go now. A run that got further has settled both itself.
      await this.discard(deployment);
      this.#audit(deployment, deployment.requester.id, 'deploy.apply', 'failed', { resourceId: resource.id });
      if (!isUserError(error)) throw error;
      return { outcome: 'failed', error };
    } finally {
      await release();
    }
  }

  /**
   * Throws away what nobody will apply: the plan file, and the row while it is still planned (nothing was created,
   * so it goes straight to destroyed). Safe to call more than once, and after a run has moved the row on.
   */
  async discard(deployment: Discardable): Promise<void> {
    const { guildId, resource } = deployment;
    // The plan file goes once the plan's run is read (asynchronous). The plan's removal never rejects: a plan file
    // that could not be removed is swept at the next start or plan of its workspace.
    const plan = deployment.plan ? this.deps.runner.discardPlan(guildId, deployment.plan.runId) : Promise.resolve(false);
    try {
      if ((await this.deps.resources.get(guildId, resource.id)).status === 'planned') {
        await this.deps.resources.setStatus(guildId, resource.id, 'destroyed');
        if (resource.workspace) await this.deps.sensitiveInputs.forget(deployment.project, resource);
      }
    } finally {
      await plan.catch((error: unknown) => this.deps.logger?.error({ err: error, guildId }, 'could not discard a plan'));
    }
  }

  /** The requester and whoever pressed Apply must still be Deployers; on a refusal (audited) the plan is discarded. */
  async #accessLost(deployment: ConfirmedDeployment, step: 'apply.press' | 'apply.start'): Promise<AccessLostAtStep | null> {
    const participants: StepParticipant[] = requesterAndPresser(deployment.requester, deployment.confirmedBy, 'deployer');
    const refusal = await accessLostAt(this.deps, {
      guildId: deployment.guildId,
      provider: deployment.project.provider,
      action: 'deploy.apply',
      target: deployment.project.name,
      step,
      participants,
      ...APPLY_REFUSED,
      details: { resourceId: deployment.resource.id, planRunId: deployment.plan.runId },
    });
    if (refusal) await this.discard(deployment);
    return refusal;
  }

  async #runRequest(deployment: Pick<Deployment, 'guildId' | 'project' | 'requester' | 'channelId' | 'credentials'>): Promise<RunRequest> {
    return {
      guildId: deployment.guildId,
      projectSlug: deployment.project.slug,
      userId: deployment.requester.id,
      ...(deployment.channelId ? { channelId: deployment.channelId } : {}),
      credentialEnv: deployment.credentials.env,
      enginePreference: (await this.deps.policies.get(deployment.guildId)).enginePreference,
    };
  }

  #audit(deployment: Pick<Deployment, 'guildId' | 'project'>, userId: string, action: string, outcome: 'success' | 'failed' | 'denied', details: Record<string, unknown>): void {
    this.deps.audit.record({ guildId: deployment.guildId, userId, action, target: deployment.project.name, outcome, details });
  }
}
