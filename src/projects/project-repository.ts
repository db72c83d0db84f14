/**
 * A guild's cloud projects: the one owner of `cloud_projects`' rows, asynchronous, on either dialect
 * (src/db/data-access.ts says how; sqlite-project-repository.ts and pg-project-repository.ts are the two). Every read
 * and write is scoped by guild id, so another guild's project behaves exactly like one that does not exist. The
 * database holds the vault session id, never the secrets behind it.
 */
import type { Session } from '../db/data-access.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { PgProjectRepository } from './pg-project-repository.js';
import type { NewProject, Project, ProjectName, ProjectQuery } from './project.js';
import { SqliteProjectRepository } from './sqlite-project-repository.js';

export type { NewProject, Project, ProjectName, ProjectQuery, ProjectStatus } from './project.js';

export interface ProjectRepository {
  /**
   * Records a new project.
   * @throws InvalidProjectName, InvalidRegion or InvalidProject for bad input (every problem listed where possible).
   * @throws ProjectExists when the guild already has a project with that name or the same slug.
   */
  create(input: NewProject): Promise<Project>;
  /**
   * A project of this guild by its exact name, its slug, or a name that slugifies to its slug.
   * @throws ProjectNotFound — also for another guild's project and (unless included) an archived one.
   */
  get(guildId: string, slugOrName: string, options?: ProjectQuery): Promise<Project>;
  /** A project of this guild by id; throws ProjectNotFound as `get` does. */
  getById(guildId: string, projectId: number, options?: ProjectQuery): Promise<Project>;
  /** The guild's projects, by name (bytewise). */
  list(guildId: string, options?: ProjectQuery): Promise<Project[]>;
  /** Up to `limit` live projects whose name contains `typed` (any case), by name: what autocomplete offers. */
  search(guildId: string, typed: string, limit: number): Promise<ProjectName[]>;
  /** Points the project at a (new) vault session, or at none. */
  setVaultSession(guildId: string, projectId: number, sessionId: string | null): Promise<Project>;
  /** Marks the project archived (forgotten): hidden from lists and lookups, its name and folder free for reuse. */
  archive(guildId: string, projectId: number): Promise<Project>;
}

/** The project repository of the session's dialect. */
export function projectRepositoryFor(session: Session, clock: Clock = systemClock): ProjectRepository {
  return session.dialect === 'sqlite' ? new SqliteProjectRepository(session, clock) : new PgProjectRepository(session, clock);
}
