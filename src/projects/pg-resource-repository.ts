/**
 * The cloud resources on PostgreSQL (see resource-repository.ts for what each method does), over pg-schema.ts. No
 * cache of totals to forget: on PostgreSQL the totals are read every time (src/db/data-access.ts, per-guild caches).
 * A status change is one compare-and-set UPDATE, which the server serialises on the row: of two processes moving
 * one resource from the same status, the second finds it moved and is judged against the new status.
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { PostgresSession } from '../db/data-access.js';
import { cloudProjects, cloudResources } from '../db/pg-schema.js';
import type { ResourceStatus } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { StateLayout } from '../state/layout.js';
import { IllegalStatusTransition, ProjectNotFound, ResourceNotFound } from './errors.js';
import type { NewResource, NewTemplateDeployment, Resource } from './resource.js';
import type { ResourceRepository } from './resource-repository.js';
import { checkedNewDeployment, checkedNewResource, plannedFigureColumns, statusExtras, toResource, type ResourceRow } from './resource-rows.js';
import { STATUS_TRANSITIONS } from './resource-statuses.js';

type Queries = PostgresSession['db'];

export class PgResourceRepository implements ResourceRepository {
  readonly #session: PostgresSession;
  readonly #clock: Clock;

  constructor(session: PostgresSession, clock: Clock) {
    this.#session = session;
    this.#clock = clock;
  }

  get #db(): Queries {
    return this.#session.db;
  }

  async create(input: NewResource): Promise<Resource> {
    const checked = checkedNewResource(input);
    return this.#db.transaction(async (tx) => {
      await assertLiveProject(tx, checked.guildId, checked.projectId);
      const now = this.#clock.now();
      const [row] = await tx
        .insert(cloudResources)
        .values({ ...checked.values, project_id: checked.projectId, created_at: now, updated_at: now })
        .returning();
      if (!row) throw new Error('the resource insert returned no row');
      return toResource(row);
    });
  }

  async createTemplateDeployment(input: NewTemplateDeployment): Promise<Resource> {
    const now = this.#clock.now();
    const checked = checkedNewDeployment(input, now);
    return this.#db.transaction(async (tx) => {
      await assertLiveProject(tx, checked.guildId, checked.projectId);
      const [inserted] = await tx
        .insert(cloudResources)
        .values({ ...checked.values, project_id: checked.projectId, created_at: now, updated_at: now })
        .returning({ id: cloudResources.id });
      if (!inserted) throw new Error('the deployment insert returned no row');
      // The folder is named after the row, so no two deployments can share one.
      const [row] = await tx
        .update(cloudResources)
        .set({ workspace: StateLayout.deploymentFolder(checked.template, inserted.id) })
        .where(eq(cloudResources.id, inserted.id))
        .returning();
      if (!row) throw new ResourceNotFound(inserted.id);
      return toResource(row);
    });
  }

  async setTemplateRevision(guildId: string, id: number, revision: string | null): Promise<void> {
    assertSnowflake(guildId, 'guildId');
    await this.#db
      .update(cloudResources)
      .set({ template_revision: revision, updated_at: this.#clock.now() })
      .where(and(eq(cloudResources.id, id), eq(cloudResources.guild_id, guildId)));
  }

  async get(guildId: string, id: number): Promise<Resource> {
    const row = await this.#row(guildId, id);
    if (!row) throw new ResourceNotFound(id);
    return toResource(row);
  }

  async listByProject(guildId: string, projectId: number): Promise<Resource[]> {
    assertSnowflake(guildId, 'guildId');
    if (!Number.isSafeInteger(projectId)) return [];
    const rows = await this.#db
      .select()
      .from(cloudResources)
      .where(and(eq(cloudResources.guild_id, guildId), eq(cloudResources.project_id, projectId)))
      .orderBy(asc(cloudResources.id));
    return rows.map(toResource);
  }

  async listByGuild(guildId: string, statuses?: readonly ResourceStatus[]): Promise<Resource[]> {
    assertSnowflake(guildId, 'guildId');
    if (statuses && statuses.length === 0) return [];
    const where = statuses
      ? and(eq(cloudResources.guild_id, guildId), inArray(cloudResources.status, [...statuses]))
      : eq(cloudResources.guild_id, guildId);
    const rows = await this.#db.select().from(cloudResources).where(where).orderBy(asc(cloudResources.id));
    return rows.map(toResource);
  }

  async setStatus(guildId: string, id: number, status: ResourceStatus, extra: { addresses?: string[]; lastError?: string } = {}): Promise<Resource> {
    const current = await this.get(guildId, id);
    if (!STATUS_TRANSITIONS[current.status].includes(status)) throw new IllegalStatusTransition(id, current.status, status);
    const [row] = await this.#db
      .update(cloudResources)
      .set({ status, updated_at: this.#clock.now(), ...statusExtras(extra) })
      .where(and(eq(cloudResources.id, id), eq(cloudResources.guild_id, guildId), eq(cloudResources.status, current.status)))
      .returning();
    if (!row) throw new IllegalStatusTransition(id, (await this.get(guildId, id)).status, status);
    return toResource(row);
  }

  async setPlannedFigures(guildId: string, id: number, figures: { monthlyUsd: number; computeInstances: number }): Promise<Resource> {
    const columns = plannedFigureColumns(figures);
    assertSnowflake(guildId, 'guildId');
    if (!Number.isSafeInteger(id)) throw new ResourceNotFound(id);
    const [row] = await this.#db
      .update(cloudResources)
      .set({ ...columns, updated_at: this.#clock.now() })
      .where(and(eq(cloudResources.id, id), eq(cloudResources.guild_id, guildId), eq(cloudResources.status, 'planned')))
      .returning();
    if (!row) throw new IllegalStatusTransition(id, (await this.get(guildId, id)).status, 'planned');
    return toResource(row);
  }

  async #row(guildId: string, id: number): Promise<ResourceRow | undefined> {
    assertSnowflake(guildId, 'guildId');
    // An id past PostgreSQL's bigint would fail the query rather than find nothing, as it does on SQLite.
    if (!Number.isSafeInteger(id)) return undefined;
    const [row] = await this.#db
      .select()
      .from(cloudResources)
      .where(and(eq(cloudResources.id, id), eq(cloudResources.guild_id, guildId)))
      .limit(1);
    return row;
  }
}

/** @throws ProjectNotFound unless the project is the guild's and live. */
async function assertLiveProject(db: Queries, guildId: string, projectId: number): Promise<void> {
  const [project] = await db
    .select({ id: cloudProjects.id })
    .from(cloudProjects)
    .where(and(eq(cloudProjects.id, projectId), eq(cloudProjects.guild_id, guildId), eq(cloudProjects.status, 'active')))
    .limit(1);
  if (!project) throw new ProjectNotFound(`#${projectId}`);
}
