/**
 * Where a template deployment's secret inputs are kept between its runs: only in its project's vault session (in
 * memory, sealed, bound to the guild, gone at the session's expiry), never in the database, a file or a log. A
 * project without a live session gets one holding just them. Runs receive them as `TF_VAR_<name>`, which also adds
 * them to the run's redaction of everything shown, stored or logged.
 */
import type { AppContext } from '../app/context.js';
import type { Project } from '../projects/project-repository.js';
import type { Resource } from '../projects/resource-repository.js';
import { isUserError } from '../shared/errors.js';
import { deploymentEntriesOf, deploymentEntryName } from '../vault/deployment-entries.js';
import { z } from 'zod';

const storedSchema = z.record(z.string(), z.string());

export class SensitiveInputs {
  constructor(private readonly deps: Pick<AppContext, 'vault' | 'projects'>) {}

  /**
   * Keeps `values` (engine-ready text, by variable name) for the deployment `resourceId`.
   * @throws InvalidVaultSecrets when the session would grow past its limits; VaultLimitReached for a new session.
   */
  async keep(project: Project, resourceId: number, ownerId: string, values: Record<string, string>): Promise<void> {
    if (Object.keys(values).length === 0) return;
    const entry = { [deploymentEntryName(resourceId)]: JSON.stringify(values) };
    const sessionId = await this.#liveSession(project);
    if (sessionId) {
      this.deps.vault.amend(project.guildId, sessionId, { set: entry });
      return;
    }
    const session = this.deps.vault.open(project.guildId, ownerId, entry);
    await this.deps.projects.setVaultSession(project.guildId, project.id, session.sessionId);
  }

  /** What was kept for the deployment, or undefined when the session no longer holds it (expired, closed). */
  async read(project: Project, resource: Pick<Resource, 'id'>): Promise<Record<string, string> | undefined> {
    const sessionId = await this.#liveSession(project);
    if (!sessionId) return undefined;
    const stored = this.deps.vault.read(project.guildId, sessionId)[deploymentEntryName(resource.id)];
    if (stored === undefined) return undefined;
    try {
      const parsed = storedSchema.safeParse(JSON.parse(stored));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The deployments' values in the project's live session, for the session that renews it (/cloud-init again):
   * renewing the credentials must not lose what deployments keep there.
   */
  async carriedOver(project: Project): Promise<Record<string, string>> {
    const sessionId = await this.#liveSession(project);
    return sessionId ? deploymentEntriesOf(this.deps.vault.read(project.guildId, sessionId)) : {};
  }

  /** The engine environment for the deployment's kept values (none kept: empty). */
  async env(project: Project, resource: Pick<Resource, 'id'>): Promise<Record<string, string>> {
    return asEngineEnv((await this.read(project, resource)) ?? {});
  }

  /** Drops the deployment's values (destroyed, or its plan discarded). Best effort: a closed session holds none. */
  async forget(project: Project, resource: Pick<Resource, 'id'>): Promise<void> {
    const sessionId = await this.#liveSession(project);
    try {
      if (sessionId) this.deps.vault.amend(project.guildId, sessionId, { remove: [deploymentEntryName(resource.id)] });
    } catch (error) {
      // A session that expired or broke meanwhile holds nothing any more either.
      if (!isUserError(error)) throw error;
    }
  }

  /** The project's session as it is now (a renewal may have replaced it), if it still lives. */
  async #liveSession(project: Project): Promise<string | undefined> {
    const sessionId = (await this.deps.projects.getById(project.guildId, project.id)).vaultSessionId;
    if (!sessionId) return undefined;
    try {
      this.deps.vault.info(project.guildId, sessionId);
      return sessionId;
    } catch (error) {
      if (isUserError(error)) return undefined;
      throw error;
    }
  }
}

/** `TF_VAR_<name>` for each value: how the engine takes a variable without a file. */
export function asEngineEnv(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [`TF_VAR_${name}`, value]));
}
