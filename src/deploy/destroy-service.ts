/**
 * Destroying one resource of a project, or all of them, then optionally forgetting the project: prepare (access,
 * what can be destroyed), confirm (access again at the press), destroy, forget. Writes every `deploy.destroy` audit
 * entry; the runner moves the resources while it destroys. Typed outcomes; the front end words them.
 */
import { command, join, text } from '../shared/text.js';
import type { AppContext } from '../app/context.js';
import type { DestroyResult, IacRunner } from '../engine/runner.js';
import { accessLostAt, requesterAndPresser, type AccessLostAtStep } from '../jit/access-at-step.js';
import type { Project } from '../projects/project-repository.js';
import type { Resource } from '../projects/resource-repository.js';
import { DESTROYABLE } from '../projects/resource-statuses.js';
import { logOperatorNote } from '../logging/operator-note.js';
import { isUserError, UserError } from '../shared/errors.js';
import { forgetProject } from './forget-project.js';
import { credentialsForRun, parseCredentialChoice, type RunCredentials } from './run-credentials.js';
import { SensitiveInputs } from './sensitive-inputs.js';
import type { Member, ShowProgress } from './steps.js';
import { InvalidInputs, readInputs, secretSteps, type InputStep } from './template-inputs.js';
import { toEnvironmentValue } from '../templates/input-values.js';

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
  /**
   * A template deployment whose secret inputs (those without a default) its project's vault session no longer holds:
   * the engine needs them to destroy it, so they are asked again first (`provideSecrets`). Empty otherwise.
   */
  secretSteps: InputStep[];
}

export type DestroyPrepared =
  | { ready: true; destruction: Destruction }
  | { ready: false; reason: 'nothing_to_destroy'; project: Project; resourceId: number | undefined };

export type Confirmed = { confirmed: true } | { confirmed: false; refusal: AccessLostAtStep };

export type Destroyed = { ok: true; result: DestroyResult } | { ok: false; error: UserError };

/** Several destroy runs as one result: everything they destroyed, the last run's number and engine. */
function combined(results: readonly DestroyResult[]): DestroyResult {
  const last = results.at(-1)!;
  return {
    runId: last.runId,
    engine: last.engine,
    resourceIds: results.flatMap((r) => r.resourceIds),
    changes: results.reduce((sum, r) => ({ add: sum.add + r.changes.add, change: sum.change + r.changes.change, remove: sum.remove + r.changes.remove }), { add: 0, change: 0, remove: 0 }),
    destroyed: results.flatMap((r) => r.destroyed),
    warnings: results.flatMap((r) => r.warnings),
  };
}

export type DestroyDeps = Pick<AppContext, 'projects' | 'resources' | 'jit' | 'policies' | 'audit'> & Partial<Pick<AppContext, 'logger'>> & {
  runner: Pick<IacRunner, 'destroy'>;
  credentialsFor: (project: Project, credential: string | undefined) => Promise<RunCredentials>;
  forget: (project: Project, userId: string) => Promise<void>;
  sensitiveInputs: Pick<SensitiveInputs, 'read' | 'env' | 'keep' | 'forget'>;
};

export class DestroyService {
  constructor(private readonly deps: DestroyDeps) {}

  static from(app: AppContext): DestroyService {
    return new DestroyService({
      ...app,
      credentialsFor: (project, credential) => credentialsForRun(app, project, parseCredentialChoice(credential, project)),
      forget: (project, userId) => forgetProject(app, project, userId),
      sensitiveInputs: new SensitiveInputs(app),
    });
  }

  /**
   * Destroying is more than deploying: it needs Admin on the project's provider (or Manage Server). A template
   * deployment is destroyed whole, in its own folder; everything at once destroys the built-ins and then each one.
   * @throws ProjectNotFound (also for another guild's project), PermissionDenied, credential errors,
   * UserError when destroying everything would need a deployment's secret inputs again (destroy it on its own).
   */
  async prepare(input: DestroyInput): Promise<DestroyPrepared> {
    const { guildId, requester } = input;
    const project = await this.deps.projects.get(guildId, input.project);
    await this.deps.jit.require({ guildId, userId: requester.id, provider: project.provider, isGuildAdmin: requester.isGuildAdmin, needed: 'admin' });
    const targets = (await this.deps.resources.listByProject(guildId, project.id))
      .filter((r) => DESTROYABLE.includes(r.status))
      .filter((r) => input.resourceId === undefined || r.id === input.resourceId);
    if (targets.length === 0 && !input.forget) return { ready: false, reason: 'nothing_to_destroy', project, resourceId: input.resourceId };
    const needingSecrets: Resource[] = [];
    for (const r of targets) if ((await this.#secretsToAsk(project, r)).length > 0) needingSecrets.push(r);
    if (input.resourceId === undefined && needingSecrets.length > 0) {
      throw new UserError(
        'destroy.secrets_needed',
        text`The engine needs the secret inputs of ${join(needingSecrets.map((r) => text`#${r.id} (${r.template})`), ', ')} to destroy ${needingSecrets.length === 1 ? 'it' : 'them'}, and this project's vault session no longer holds them. Destroy ${needingSecrets.length === 1 ? 'it' : 'each'} on its own with ${command('destroy', { resource: needingSecrets[0]!.id })}: you will be asked for them.`,
      );
    }
    const credentials = targets.length ? await this.deps.credentialsFor(project, input.credential) : undefined;
    const steps = needingSecrets[0] ? secretSteps(await this.#secretsToAsk(project, needingSecrets[0])) : [];
    return { ready: true, destruction: { guildId, requester, channelId: input.channelId, project, resourceId: input.resourceId, targets, forget: input.forget, credentials, secretSteps: steps } };
  }

  /**
   * The secret inputs asked again (by variable name), checked by their declared types, then kept in the project's
   * vault session for the destroy run (and dropped once it has succeeded).
   * @throws InvalidInputs listing every problem.
   */
  async provideSecrets(destruction: Destruction, typed: Readonly<Record<string, string>>): Promise<void> {
    const target = destruction.targets[0];
    if (!target || destruction.secretSteps.length === 0) return;
    const fields = destruction.secretSteps.flatMap((step) => step.fields);
    const read = readInputs(fields, typed);
    if (read.problems.length > 0) throw new InvalidInputs(read.problems);
    const values = Object.fromEntries(fields.flatMap((f) => (read.secrets[f.variable.name] === undefined ? [] : [[f.variable.name, toEnvironmentValue(f.spec.type, read.secrets[f.variable.name]!)]])));
    await this.deps.sensitiveInputs.keep(destruction.project, target.id, destruction.requester.id, values);
  }

  /** Only the member who asked may confirm. */
  mayConfirm(destruction: Destruction, by: Member): boolean {
    return by.id === destruction.requester.id;
  }

  /** The confirmation can come minutes later: Admin on the provider must still be held at the press (audited if not). */
  async confirm(destruction: Destruction, presser: Member): Promise<Confirmed> {
    const refusal = await accessLostAt(this.deps, {
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

  /**
   * Runs the destroy of the targets: one run for one resource; for everything, one for the project's built-ins and
   * one per template deployment, in turn (stopping at the first that fails). @throws only what is not a UserError.
   */
  async destroy(destruction: Destruction, show: ShowProgress): Promise<Destroyed> {
    const { guildId, project, requester, credentials } = destruction;
    if (!credentials) throw new Error('nothing to destroy: the destruction has no targets');
    const audit = (outcome: 'success' | 'failed', details?: Record<string, unknown>) =>
      this.deps.audit.record({ guildId, userId: requester.id, action: 'deploy.destroy', target: project.name, outcome, ...(details ? { details } : {}) });
    const runs: Array<Resource | undefined> =
      destruction.resourceId !== undefined
        ? destruction.targets.slice(0, 1)
        : [...(destruction.targets.some((r) => r.workspace === null) ? [undefined] : []), ...destruction.targets.filter((r) => r.workspace !== null)];
    const results: DestroyResult[] = [];
    const { enginePreference } = await this.deps.policies.get(guildId);
    try {
      for (const target of runs) {
        // A template deployment's secret inputs come from the vault session, as when it was deployed.
        const env = target?.workspace ? { ...credentials.env, ...(await this.deps.sensitiveInputs.env(project, target)) } : credentials.env;
        const result = await show((observer) =>
          this.deps.runner.destroy({
            guildId,
            projectSlug: project.slug,
            userId: requester.id,
            ...(destruction.channelId ? { channelId: destruction.channelId } : {}),
            credentialEnv: env,
            enginePreference,
            resourceId: target?.id,
            ...observer,
          }),
        );
        results.push(result);
        if (target?.workspace) await this.deps.sensitiveInputs.forget(project, target);
      }
      const result = combined(results);
      audit('success', { resourceIds: result.resourceIds });
      return { ok: true, result };
    } catch (error) {
      audit('failed', results.length ? { destroyedFirst: results.flatMap((r) => r.resourceIds) } : undefined);
      if (!isUserError(error)) throw error;
      logOperatorNote(this.deps.logger, error, { guildId, step: 'destroy' });
      return { ok: false, error };
    }
  }

  /** A template deployment's secret inputs without a default that the vault session no longer holds. */
  async #secretsToAsk(project: Project, resource: Resource): Promise<Resource['sensitiveInputs']> {
    const needed = resource.sensitiveInputs.filter((s) => !s.hasDefault);
    if (needed.length === 0 || (await this.deps.sensitiveInputs.read(project, resource)) !== undefined) return [];
    return needed;
  }

  /** Forgets the project once everything is destroyed (see forgetProject). @throws UserError when some resource is left. */
  forget(destruction: Destruction): Promise<void> {
    return this.deps.forget(destruction.project, destruction.requester.id);
  }
}
