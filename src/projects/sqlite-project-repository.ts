/**
 * A guild's cloud projects on SQLite (see project-repository.ts for what each method does). Lookups by name run for
 * nearly every command and autocomplete on every keystroke (issue 13): they are statements prepared once, answered
 * from per-guild caches (guild-cache.ts) that every write of cloud_projects through this class forgets and another
 * process's commit empties. Everything runs synchronously inside `async` methods, so a unit of work covers it.
 */
import type Database from 'better-sqlite3';
import { and, asc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { SqliteSession } from '../db/data-access.js';
import { GuildCache } from '../db/guild-cache.js';
import type { Db } from '../db/index.js';
import { cloudCredentials, cloudProjects } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { printable } from '../shared/member-text.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { InvalidProject, ProjectExists, ProjectNotFound } from './errors.js';
import { toProject, type NewProject, type Project, type ProjectName, type ProjectQuery } from './project.js';
import { assertVaultSessionId, checkedNewProject, namesMatching, projectReferenced, referenceOf, type ProjectRow } from './project-input.js';
import type { ProjectRepository } from './project-repository.js';

/** The guild, the name as typed and its slug; then the same again for the slug branch. */
type ReferenceParams = [string, string, string, string, string, string];

/**
 * Written out, not bound: the partial indexes on live projects (`WHERE status = 'active'`) serve a query only when
 * SQLite can see at prepare time that it asks for live projects, and a statement prepared once cannot be re-planned
 * for every value bound to it.
 */
const LIVE_PROJECT = sql`${cloudProjects.status} = 'active'`;
const ARCHIVED_PROJECT = sql`${cloudProjects.status} = 'archived'`;

/** References a guild's lookup cache holds at most (#byReference): far more than the projects a guild deploys to. */
const REFERENCES_KEPT_PER_GUILD = 64;
const guildId = sql.placeholder('guildId');
const exact = sql.placeholder('exact');
const slugged = sql.placeholder('slug');

export class SqliteProjectRepository implements ProjectRepository {
  readonly #db: Db;
  readonly #sqlite: Database.Database;
  readonly #clock: Clock;
  // Prepared once: lookups by name run for nearly every command. Each OR branch names the guild and the live
  // status, so SQLite answers it from one partial index (guild, name) or (guild, slug) instead of the guild's rows.
  readonly #liveByReference;
  /** Archived projects have no index of their own: only tests and rare tools ask for them by name. */
  readonly #archivedByReference;
  readonly #live;
  readonly #liveNames;
  readonly #byId;
  /**
   * Each guild's live project names (what autocomplete offers on every keystroke), kept per guild: every write of
   * cloud_projects goes through this class and forgets the guild; another process's commit empties it (guild-cache.ts).
   */
  readonly #names: GuildCache<ReadonlyArray<ProjectName>>;
  /**
   * Each guild's live projects as looked up by name or slug (what every /cloud-deploy, /cloud-destroy… does first),
   * by the reference typed: kept and forgotten as `#names` is. Only what was found: an unknown name asks again.
   */
  readonly #byReference: GuildCache<Map<string, ProjectRow>>;

  constructor(session: SqliteSession, clock: Clock) {
    const db = session.db;
    this.#db = db;
    this.#sqlite = session.sqlite;
    this.#clock = clock;
    // Plain SQL on better-sqlite3, not drizzle's prepared query: every /cloud-deploy looks its project up, and
    // drizzle's mapping of the parameters and of each row cost more than the lookup itself (docs/performance.md).
    // Positional parameters, each branch its own: with one named guild parameter shared by both, SQLite takes the
    // guild out of the OR and reads all the guild's live projects off one index (query-plans.test.ts catches it).
    this.#liveByReference = session.sqlite.prepare<ReferenceParams, ProjectRow>(
      `SELECT * FROM cloud_projects
       WHERE (guild_id = ? AND status = 'active' AND name IN (?, ?))
          OR (guild_id = ? AND status = 'active' AND slug IN (?, ?))`,
    );
    this.#archivedByReference = db
      .select()
      .from(cloudProjects)
      .where(
        and(
          eq(cloudProjects.guild_id, guildId),
          ARCHIVED_PROJECT,
          or(inArray(cloudProjects.name, [exact, slugged]), inArray(cloudProjects.slug, [exact, slugged])),
        ),
      )
      .prepare();
    this.#live = db.select().from(cloudProjects).where(and(eq(cloudProjects.guild_id, guildId), LIVE_PROJECT)).orderBy(asc(cloudProjects.name)).prepare();
    this.#byId = db
      .select()
      .from(cloudProjects)
      .where(and(eq(cloudProjects.id, sql.placeholder('id')), eq(cloudProjects.guild_id, guildId)))
      .prepare();
    this.#liveNames = db
      .select({ name: cloudProjects.name, provider: cloudProjects.provider, region: cloudProjects.region })
      .from(cloudProjects)
      .where(and(eq(cloudProjects.guild_id, guildId), LIVE_PROJECT))
      .orderBy(asc(cloudProjects.name))
      .prepare();
    this.#names = new GuildCache(session.sqlite, 'cloud_projects.live_names');
    this.#byReference = new GuildCache(session.sqlite, 'cloud_projects.live_by_reference');
  }

  async create(input: NewProject): Promise<Project> {
    const checked = checkedNewProject(input);
    // better-sqlite3's transaction, not drizzle's: inside a unit of work it becomes a savepoint rather than failing.
    const created = this.#sqlite.transaction(() => {
      if (checked.credentialId !== undefined) {
        const credential = this.#db
          .select({ id: cloudCredentials.id })
          .from(cloudCredentials)
          .where(and(eq(cloudCredentials.id, checked.credentialId), eq(cloudCredentials.guild_id, checked.guildId), isNull(cloudCredentials.deleted_at)))
          .get();
        if (!credential) throw new InvalidProject(['this server has no such stored credential']);
      }
      const clash = this.#db
        .select({ id: cloudProjects.id })
        .from(cloudProjects)
        .where(and(eq(cloudProjects.guild_id, checked.guildId), LIVE_PROJECT, or(eq(cloudProjects.name, checked.name), eq(cloudProjects.slug, checked.slug))))
        .get();
      if (clash) throw new ProjectExists(checked.name);
      const now = this.#clock.now();
      const row = this.#db
        .insert(cloudProjects)
        .values({ ...checked.values, created_at: now, updated_at: now })
        .returning()
        .get();
      return toProject(row);
    })();
    this.#forget(checked.guildId);
    return created;
  }

  async get(guildId: string, slugOrName: string, options: ProjectQuery = {}): Promise<Project> {
    assertSnowflake(guildId, 'guildId');
    const { reference, slug } = referenceOf(slugOrName);
    const known = options.includeArchived ? undefined : this.#byReference.get(guildId, () => new Map<string, ProjectRow>());
    let row = known?.get(reference);
    if (!row) {
      const live = this.#liveByReference.all(guildId, reference, slug, guildId, reference, slug);
      const matches = options.includeArchived ? [...live, ...this.#archivedByReference.all({ guildId, exact: reference, slug })] : live;
      row = projectReferenced(matches, reference);
      if (!row) throw new ProjectNotFound(printable(reference));
      // Bounded: a member typing names at random makes the guild look each one up again, not the cache grow.
      if (known && known.size >= REFERENCES_KEPT_PER_GUILD) known.clear();
      known?.set(reference, row);
    }
    return toProject(row);
  }

  async getById(guildId: string, projectId: number, options: ProjectQuery = {}): Promise<Project> {
    assertSnowflake(guildId, 'guildId');
    const row = Number.isSafeInteger(projectId) ? this.#byId.get({ id: projectId, guildId }) : undefined;
    if (!row || (row.status === 'archived' && !options.includeArchived)) throw new ProjectNotFound(`#${projectId}`);
    return toProject(row);
  }

  async list(guildId: string, options: ProjectQuery = {}): Promise<Project[]> {
    assertSnowflake(guildId, 'guildId');
    if (!options.includeArchived) return this.#live.all({ guildId }).map(toProject);
    return this.#db.select().from(cloudProjects).where(eq(cloudProjects.guild_id, guildId)).orderBy(asc(cloudProjects.name)).all().map(toProject);
  }

  async search(guildId: string, typed: string, limit: number): Promise<ProjectName[]> {
    assertSnowflake(guildId, 'guildId');
    const names = this.#names.get(guildId, () => Object.freeze(this.#liveNames.all({ guildId }).map((name) => Object.freeze(name))));
    return namesMatching(names, typed, limit);
  }

  async setVaultSession(guildId: string, projectId: number, sessionId: string | null): Promise<Project> {
    assertVaultSessionId(sessionId);
    return this.#update(guildId, projectId, { vault_session_id: sessionId });
  }

  async archive(guildId: string, projectId: number): Promise<Project> {
    return this.#update(guildId, projectId, { status: 'archived' });
  }

  #forget(guildId: string): void {
    this.#names.forget(guildId);
    this.#byReference.forget(guildId);
  }

  #update(guildId: string, projectId: number, values: Partial<Pick<ProjectRow, 'vault_session_id' | 'status'>>): Project {
    assertSnowflake(guildId, 'guildId');
    this.#forget(guildId);
    const row = this.#db
      .update(cloudProjects)
      .set({ ...values, updated_at: this.#clock.now() })
      .where(and(eq(cloudProjects.id, projectId), eq(cloudProjects.guild_id, guildId)))
      .returning()
      .get();
    if (!row) throw new ProjectNotFound(`#${projectId}`);
    return toProject(row);
  }
}
