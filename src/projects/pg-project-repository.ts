/**
 * A guild's cloud projects on PostgreSQL (see project-repository.ts for what each method does), over pg-schema.ts.
 * No per-guild cache: SQLite's are kept fresh by its data_version, which PostgreSQL has not, so every lookup reads
 * (src/db/data-access.ts). Names sort as SQLite sorts them, bytewise (`COLLATE "C"`), whatever the database's
 * collation. Two processes creating one name race on the partial unique indexes of live projects: the loser's
 * insert fails, and reads as the ProjectExists it would have met a moment later.
 */
import { and, asc, desc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { PostgresSession } from '../db/data-access.js';
import { cloudCredentials, cloudProjects } from '../db/pg-schema.js';
import type { Clock } from '../shared/clock.js';
import { printable } from '../shared/member-text.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { InvalidProject, ProjectExists, ProjectNotFound } from './errors.js';
import { toProject, type NewProject, type Project, type ProjectName, type ProjectQuery } from './project.js';
import { assertVaultSessionId, checkedNewProject, namesMatching, projectReferenced, referenceOf, type ProjectRow } from './project-input.js';
import type { ProjectRepository } from './project-repository.js';

const LIVE = eq(cloudProjects.status, 'active');
const BY_NAME = asc(sql`${cloudProjects.name} COLLATE "C"`);

export class PgProjectRepository implements ProjectRepository {
  readonly #session: PostgresSession;
  readonly #clock: Clock;

  constructor(session: PostgresSession, clock: Clock) {
    this.#session = session;
    this.#clock = clock;
  }

  get #db(): PostgresSession['db'] {
    return this.#session.db;
  }

  async create(input: NewProject): Promise<Project> {
    const checked = checkedNewProject(input);
    try {
      return await this.#db.transaction(async (tx) => {
        if (checked.credentialId !== undefined) {
          const [credential] = await tx
            .select({ id: cloudCredentials.id })
            .from(cloudCredentials)
            .where(and(eq(cloudCredentials.id, checked.credentialId), eq(cloudCredentials.guild_id, checked.guildId), isNull(cloudCredentials.deleted_at)))
            .limit(1);
          if (!credential) throw new InvalidProject(['this server has no such stored credential']);
        }
        const [clash] = await tx
          .select({ id: cloudProjects.id })
          .from(cloudProjects)
          .where(and(eq(cloudProjects.guild_id, checked.guildId), LIVE, or(eq(cloudProjects.name, checked.name), eq(cloudProjects.slug, checked.slug))))
          .limit(1);
        if (clash) throw new ProjectExists(checked.name);
        const now = this.#clock.now();
        const [row] = await tx
          .insert(cloudProjects)
          .values({ ...checked.values, created_at: now, updated_at: now })
          .returning();
        if (!row) throw new Error('the project insert returned no row');
        return toProject(row);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ProjectExists(checked.name);
      throw error;
    }
  }

  async get(guildId: string, slugOrName: string, options: ProjectQuery = {}): Promise<Project> {
    assertSnowflake(guildId, 'guildId');
    const { reference, slug } = referenceOf(slugOrName);
    const candidates = [reference, slug];
    const matches = await this.#db
      .select()
      .from(cloudProjects)
      .where(
        and(
          eq(cloudProjects.guild_id, guildId),
          options.includeArchived ? undefined : LIVE,
          or(inArray(cloudProjects.name, candidates), inArray(cloudProjects.slug, candidates)),
        ),
      )
      // Live ones first, as SQLite's lookup reads them (projectReferenced picks among them in that order).
      .orderBy(desc(LIVE), asc(cloudProjects.id));
    const row = projectReferenced(matches, reference);
    if (!row) throw new ProjectNotFound(printable(reference));
    return toProject(row);
  }

  async getById(guildId: string, projectId: number, options: ProjectQuery = {}): Promise<Project> {
    assertSnowflake(guildId, 'guildId');
    // An id past PostgreSQL's bigint would fail the query rather than find nothing.
    const [row] = Number.isSafeInteger(projectId)
      ? await this.#db
          .select()
          .from(cloudProjects)
          .where(and(eq(cloudProjects.id, projectId), eq(cloudProjects.guild_id, guildId)))
          .limit(1)
      : [];
    if (!row || (row.status === 'archived' && !options.includeArchived)) throw new ProjectNotFound(`#${projectId}`);
    return toProject(row);
  }

  async list(guildId: string, options: ProjectQuery = {}): Promise<Project[]> {
    assertSnowflake(guildId, 'guildId');
    const rows = await this.#db
      .select()
      .from(cloudProjects)
      .where(and(eq(cloudProjects.guild_id, guildId), options.includeArchived ? undefined : LIVE))
      .orderBy(BY_NAME);
    return rows.map(toProject);
  }

  async search(guildId: string, typed: string, limit: number): Promise<ProjectName[]> {
    assertSnowflake(guildId, 'guildId');
    const names = await this.#db
      .select({ name: cloudProjects.name, provider: cloudProjects.provider, region: cloudProjects.region })
      .from(cloudProjects)
      .where(and(eq(cloudProjects.guild_id, guildId), LIVE))
      .orderBy(BY_NAME);
    return namesMatching(names, typed, limit);
  }

  async setVaultSession(guildId: string, projectId: number, sessionId: string | null): Promise<Project> {
    assertVaultSessionId(sessionId);
    return this.#update(guildId, projectId, { vault_session_id: sessionId });
  }

  async archive(guildId: string, projectId: number): Promise<Project> {
    return this.#update(guildId, projectId, { status: 'archived' });
  }

  async #update(guildId: string, projectId: number, values: Partial<Pick<ProjectRow, 'vault_session_id' | 'status'>>): Promise<Project> {
    assertSnowflake(guildId, 'guildId');
    if (!Number.isSafeInteger(projectId)) throw new ProjectNotFound(`#${projectId}`);
    const [row] = await this.#db
      .update(cloudProjects)
      .set({ ...values, updated_at: this.#clock.now() })
      .where(and(eq(cloudProjects.id, projectId), eq(cloudProjects.guild_id, guildId)))
      .returning();
    if (!row) throw new ProjectNotFound(`#${projectId}`);
    return toProject(row);
  }
}

/** PostgreSQL's unique_violation, as node-postgres raises it (drizzle wraps it, keeping it as the cause). */
function isUniqueViolation(error: unknown): boolean {
  for (let at: unknown = error; at instanceof Error; at = at.cause) {
    if ((at as { code?: unknown }).code === '23505') return true;
  }
  return false;
}
