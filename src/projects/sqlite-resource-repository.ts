/**
 * The cloud resources on SQLite (see resource-repository.ts for what each method does): drizzle over the shared
 * connection, run synchronously inside `async` methods, so a unit of work (src/db/data-access.ts) covers them.
 * Every write forgets the guild's cached totals (resource-totals.ts), which the table's triggers keep.
 */
import type Database from 'better-sqlite3';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { SqliteSession } from '../db/data-access.js';
import { GuildCache } from '../db/guild-cache.js';
import type { Db } from '../db/index.js';
import { cloudProjects, cloudResources, type ResourceStatus } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { StateLayout } from '../state/layout.js';
import { IllegalStatusTransition, ProjectNotFound, ResourceNotFound } from './errors.js';
import type { NewResource, NewTemplateDeployment, Resource } from './resource.js';
import type { ResourceRepository } from './resource-repository.js';
import { checkedNewDeployment, checkedNewResource, plannedFigureColumns, statusExtras, toResource, type ResourceRow } from './resource-rows.js';
import { STATUS_TRANSITIONS } from './resource-statuses.js';
import { RESOURCE_TOTALS_CACHE } from './resource-totals.js';

export class SqliteResourceRepository implements ResourceRepository {
  readonly #db: Db;
  readonly #sqlite: Database.Database;
  readonly #clock: Clock;
  /** ResourceTotals' per-guild cache of the totals the triggers keep: every write here forgets the guild's. */
  readonly #totals: GuildCache<unknown>;

  constructor(session: SqliteSession, clock: Clock) {
    this.#db = session.db;
    this.#sqlite = session.sqlite;
    this.#clock = clock;
    this.#totals = new GuildCache(session.sqlite, RESOURCE_TOTALS_CACHE);
  }

  async create(input: NewResource): Promise<Resource> {
    const checked = checkedNewResource(input);
    // better-sqlite3's transaction, not drizzle's: inside a unit of work it becomes a savepoint rather than failing.
    return this.#sqlite.transaction(() => {
      this.#assertLiveProject(checked.guildId, checked.projectId);
      const now = this.#clock.now();
      const row = this.#db
        .insert(cloudResources)
        .values({ ...checked.values, project_id: checked.projectId, created_at: now, updated_at: now })
        .returning()
        .get();
      this.#totals.forget(checked.guildId);
      return toResource(row);
    })();
  }

  async createTemplateDeployment(input: NewTemplateDeployment): Promise<Resource> {
    const now = this.#clock.now();
    const checked = checkedNewDeployment(input, now);
    return this.#sqlite.transaction(() => {
      this.#assertLiveProject(checked.guildId, checked.projectId);
      const inserted = this.#db
        .insert(cloudResources)
        .values({ ...checked.values, project_id: checked.projectId, created_at: now, updated_at: now })
        .returning({ id: cloudResources.id })
        .get();
      // The folder is named after the row, so no two deployments can share one.
      const row = this.#db
        .update(cloudResources)
        .set({ workspace: StateLayout.deploymentFolder(checked.template, inserted.id) })
        .where(eq(cloudResources.id, inserted.id))
        .returning()
        .get();
      this.#totals.forget(checked.guildId);
      if (!row) throw new ResourceNotFound(inserted.id);
      return toResource(row);
    })();
  }

  async setTemplateRevision(guildId: string, id: number, revision: string | null): Promise<void> {
    assertSnowflake(guildId, 'guildId');
    this.#db
      .update(cloudResources)
      .set({ template_revision: revision, updated_at: this.#clock.now() })
      .where(and(eq(cloudResources.id, id), eq(cloudResources.guild_id, guildId)))
      .run();
  }

  async get(guildId: string, id: number): Promise<Resource> {
    return this.#get(guildId, id);
  }

  async listByProject(guildId: string, projectId: number): Promise<Resource[]> {
    assertSnowflake(guildId, 'guildId');
    return this.#db
      .select()
      .from(cloudResources)
      .where(and(eq(cloudResources.guild_id, guildId), eq(cloudResources.project_id, projectId)))
      .orderBy(asc(cloudResources.id))
      .all()
      .map(toResource);
  }

  async listByGuild(guildId: string, statuses?: readonly ResourceStatus[]): Promise<Resource[]> {
    assertSnowflake(guildId, 'guildId');
    if (statuses && statuses.length === 0) return [];
    const where = statuses
      ? and(eq(cloudResources.guild_id, guildId), inArray(cloudResources.status, [...statuses]))
      : eq(cloudResources.guild_id, guildId);
    return this.#db.select().from(cloudResources).where(where).orderBy(asc(cloudResources.id)).all().map(toResource);
  }

  async setStatus(guildId: string, id: number, status: ResourceStatus, extra: { addresses?: string[]; lastError?: string } = {}): Promise<Resource> {
    const current = this.#get(guildId, id);
    if (!STATUS_TRANSITIONS[current.status].includes(status)) throw new IllegalStatusTransition(id, current.status, status);
    const row = this.#db
      .update(cloudResources)
      .set({ status, updated_at: this.#clock.now(), ...statusExtras(extra) })
      .where(and(eq(cloudResources.id, id), eq(cloudResources.guild_id, guildId), eq(cloudResources.status, current.status)))
      .returning()
      .get();
    this.#totals.forget(guildId);
    if (!row) throw new IllegalStatusTransition(id, this.#get(guildId, id).status, status);
    return toResource(row);
  }

  async setPlannedFigures(guildId: string, id: number, figures: { monthlyUsd: number; computeInstances: number }): Promise<Resource> {
    const columns = plannedFigureColumns(figures);
    const row = this.#db
      .update(cloudResources)
      .set({ ...columns, updated_at: this.#clock.now() })
      .where(and(eq(cloudResources.id, id), eq(cloudResources.guild_id, guildId), eq(cloudResources.status, 'planned')))
      .returning()
      .get();
    this.#totals.forget(guildId);
    if (!row) throw new IllegalStatusTransition(id, this.#get(guildId, id).status, 'planned');
    return toResource(row);
  }

  #assertLiveProject(guildId: string, projectId: number): void {
    const project = this.#db
      .select({ id: cloudProjects.id })
      .from(cloudProjects)
      .where(and(eq(cloudProjects.id, projectId), eq(cloudProjects.guild_id, guildId), eq(cloudProjects.status, 'active')))
      .get();
    if (!project) throw new ProjectNotFound(`#${projectId}`);
  }

  #get(guildId: string, id: number): Resource {
    const row = this.#row(guildId, id);
    if (!row) throw new ResourceNotFound(id);
    return toResource(row);
  }

  #row(guildId: string, id: number): ResourceRow | undefined {
    assertSnowflake(guildId, 'guildId');
    if (!Number.isSafeInteger(id)) return undefined;
    return this.#db
      .select()
      .from(cloudResources)
      .where(and(eq(cloudResources.id, id), eq(cloudResources.guild_id, guildId)))
      .get();
  }
}
