/**
 * Destroying one resource of a project, or all of them, then optionally forgetting the project: prepare (access,
 * what can be destroyed), confirm (access again at the press), destroy, forget. Writes every `deploy.destroy` audit
 * entry; the runner moves the resources while it destroys. Typed outcomes; the front end words them.
 */
import { command, text } from '../shared/text.js';
import type { AppContext } from '../app/context.js';
import type { DestroyResult, IacRunner } from '../engine/runner.js';
import { accessLostAt, requesterAndPresser, type AccessLostAtStep } from '../jit/access-at-step.js';
import type { Project } from '../projects/project-repository.js';
import type { Resource } from '../projects/resource-repository.js';
import { DESTROYABLE } from '../projects/resource-statuses.js';
import { isUserError, type UserError } from '../shared/errors.js';
import { forgetProject } from './forget-project.js';
import { credentialsForRun, parseCredentialChoice, type RunCredentials } from './run-credentials.js';
import type { Member, ShowProgress } from './steps.js';

export interface DestroyInput {
  guildId: string;
  requester: Member;
  /** Where the destroy was asked for: a crash recovery tells the member there (see engine/orphans.ts). */
  channelId?: string | undefined;
  /** The project's name or slug, in this guild. */
  project: string;
  /** One resource of the project; all of them when left out. */
  resourceId?: number | undefined;
  /** Then forget the project (only with every resource). */
  forget: boolean;
  credential?: string | undefined;
}

export interface Destruction {
  guildId: string;
  requester: Member;
  channelId?: string | undefined;
  project: Project;
  resourceId: number | undefined;
  /** What the destroy run will take down; empty when only forgetting. */
  targets: Resource[];
  forget: boolean;
  /** Set when there is something to destroy. The engine's environment stays inside the service's run. */
  credentials: RunCredentials | undefined;
}

export type DestroyPrepared =
  | { ready: true; destruction: Destruction }
  | { ready: false; reason: 'nothing_to_destroy'; project: Project; resourceId: number | undefined };

export type Confirmed = { confirmed: true } | { confirmed: false; refusal: AccessLostAtStep };

export type Destroyed = { ok: true; result: DestroyResult } | { ok: false; error: UserError };

export type DestroyDeps = Pick<AppContext, 'projects' | 'resources' | 'jit' | 'policies' | 'audit'> & {
  runner: Pick<IacRunner, 'destroy'>;
  credentialsFor: (project: Project, credential: string | undefined) => RunCredentials;
  forget: (project: Project, userId: string) => void;
};

export class DestroyService {
  constructor(private readonly deps: DestroyDeps) {}

  static from(app: AppContext): DestroyService {
    return new DestroyService({
      ...app,
      credentialsFor: (project, credential) => credentialsForRun(app, project, parseCredentialChoice(credential, project)),
      forget: (project, userId) => forgetProject(app, project, userId),
    });
  }

  /**
   * Destroying is more than deploying: it needs Admin on the project's provider (or Manage Server).
   * @throws ProjectNotFound (also for another guild's project), PermissionDenied, credential errors.
   */
  prepare(input: DestroyInput): DestroyPrepared {
    const { guildId, requester } = input;
    const project = this.deps.projects.get(guildId, input.project);
    this.deps.jit.require({ guildId, userId: requester.id, provider: project.provider, isGuildAdmin: requester.isGuildAdmin, needed: 'admin' });
    const targets = this.deps.resources
      .listByProject(guildId, project.id)
      .filter((r) => DESTROYABLE.includes(r.status))
      .filter((r) => input.resourceId === undefined || r.id === input.resourceId);
    if (targets.length === 0 && !input.forget) return { ready: false, reason: 'nothing_to_destroy', project, resourceId: input.resourceId };
    const credentials = targets.length ? this.deps.credentialsFor(project, input.credential) : undefined;
    return { ready: true, destruction: { guildId, requester, channelId: input.channelId, project, resourceId: input.resourceId, targets, forget: input.forget, credentials } };
  }

  /** Only the member who asked may confirm. */
  mayConfirm(destruction: Destruction, by: Member): boolean {
    return by.id === destruction.requester.id;
  }

  /** The confirmation can come minutes later: Admin on the provider must still be held at the press (audited if not). */
  confirm(destruction: Destruction, presser: Member): Confirmed {
    const refusal = accessLostAt(this.deps, {
      guildId: destruction.guildId,
      provider: destruction.project.provider,
      action: 'deploy.destroy',
      target: destruction.project.name,
      step: 'destroy.press',
      participants: requesterAndPresser(destruction.requester, presser, 'admin'),
      outcome: destruction.forget ? 'Nothing was destroyed and the project was not forgotten.' : 'Nothing was destroyed.',
      afterwards: text`run ${command('destroy')} again`,
      details: { resourceIds: destruction.targets.map((r) => r.id) },
    });
    return refusal ? { confirmed: false, refusal } : { confirmed: true };
  }

  /** Runs the destroy of the targets. @throws only what is not a UserError (after auditing). */
  async destroy(destruction: Destruction, show: ShowProgress): Promise<Destroyed> {
    const { guildId, project, requester, credentials } = destruction;
    if (!credentials) throw new Error('nothing to destroy: the destruction has no targets');
    const audit = (outcome: 'success' | 'failed', details?: Record<string, unknown>) =>
      this.deps.audit.record({ guildId, userId: requester.id, action: 'deploy.destroy', target: project.name, outcome, ...(details ? { details } : {}) });
    try {
      const result = await show((observer) =>
        this.deps.runner.destroy({
          guildId,
          projectSlug: project.slug,
          userId: requester.id,
          ...(destruction.channelId ? { channelId: destruction.channelId } : {}),
          credentialEnv: credentials.env,
          enginePreference: this.deps.policies.get(guildId).enginePreference,
          resourceId: destruction.resourceId,
          ...observer,
        }),
      );
      audit('success', { resourceIds: result.resourceIds });
      return { ok: true, result };
    } catch (error) {
      audit('failed');
      if (!isUserError(error)) throw error;
      return { ok: false, error };
    }
  }

  /** Forgets the project once everything is destroyed (see forgetProject). @throws UserError when some resource is left. */
  forget(destruction: Destruction): void {
    this.deps.forget(destruction.project, destruction.requester.id);
  }
}
