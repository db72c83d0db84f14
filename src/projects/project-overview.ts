/**
 * A guild's projects at a glance (what /cloud-projects shows): the first page of live projects by name, each with
 * its resources that are not destroyed, plus the guild's count of projects and what it has in the cloud. A fixed
 * number of statements, prepared once, whatever the number of projects: the cost follows the page, not the guild.
 * The page's resources come in a second statement rather than a join, which would repeat every project's columns
 * on each of its resources' rows (twice the cost for a page of 25 projects of 10 resources).
 */
import { and, asc, count, eq, inArray, ne, sql } from 'drizzle-orm';
import { cloudProjects, cloudResources } from '../db/schema.js';
import type { Db } from '../db/index.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { LIVE_PROJECT, toProject, type Project } from './project-repository.js';
import { toResource, type Resource } from './resource-repository.js';
import { MAY_EXIST_IN_CLOUD } from './resource-statuses.js';
import { ResourceTotals, type InCloudTotals } from './resource-totals.js';

export interface ProjectSummary {
  project: Project;
  /** Its resources that are not destroyed, oldest first: at most `resourcesPerProject` of them. */
  resources: Resource[];
  /** How many resources it has that are not destroyed, shown or not. */
  resourceCount: number;
  /** US dollars per month of its resources that may exist in the cloud. */
  monthlyUsd: number;
}

export interface ProjectsOverview {
  /** The first live projects by name: at most `projects` of them. */
  projects: ProjectSummary[];
  /** Every live project of the guild, shown or not. */
  projectCount: number;
  /** The whole guild's resources that may exist in the cloud: what its budget and instance limit count. */
  inCloud: InCloudTotals;
}

export interface OverviewLimits {
  projects: number;
  resourcesPerProject: number;
}

const guildId = sql.placeholder('guildId');

export class ProjectOverviews {
  readonly #page;
  readonly #resources;
  readonly #count;

  constructor(
    db: Db,
    private readonly totals: ResourceTotals = new ResourceTotals(db),
  ) {
    const live = and(eq(cloudProjects.guild_id, guildId), LIVE_PROJECT);
    const byName = asc(cloudProjects.name);
    const projects = sql.placeholder('projects');
    this.#page = db.select().from(cloudProjects).where(live).orderBy(byName).limit(projects).prepare();
    const pageIds = db.select({ id: cloudProjects.id }).from(cloudProjects).where(live).orderBy(byName).limit(projects);
    this.#resources = db
      .select()
      .from(cloudResources)
      // By project only: the page's projects are the guild's, and a resource is always its project's guild's. Naming
      // the guild here too would lead SQLite to read all of the guild's resources by (guild, status) instead.
      .where(and(inArray(cloudResources.project_id, pageIds), ne(cloudResources.status, 'destroyed')))
      .orderBy(asc(cloudResources.project_id), asc(cloudResources.id))
      .prepare();
    this.#count = db
      .select({ projects: count() })
      .from(cloudProjects)
      .where(and(eq(cloudProjects.guild_id, guildId), LIVE_PROJECT))
      .prepare();
  }

  of(guild: string, limits: OverviewLimits): ProjectsOverview {
    assertSnowflake(guild, 'guildId');
    const values = { guildId: guild, projects: limits.projects };
    const summaries = new Map<number, ProjectSummary>();
    for (const row of this.#page.all(values)) summaries.set(row.id, { project: toProject(row), resources: [], resourceCount: 0, monthlyUsd: 0 });
    for (const row of this.#resources.all(values)) {
      // A project archived between the two statements is simply not on the page.
      const summary = summaries.get(row.project_id);
      if (!summary) continue;
      summary.resourceCount += 1;
      if (MAY_EXIST_IN_CLOUD.includes(row.status)) summary.monthlyUsd += row.estimated_monthly_cost;
      // Only what is shown is turned into a Resource (its addresses parsed and checked).
      if (summary.resources.length < limits.resourcesPerProject) summary.resources.push(toResource(row));
    }
    return {
      projects: [...summaries.values()],
      projectCount: this.#count.get({ guildId: guild })?.projects ?? 0,
      inCloud: this.totals.inCloud(guild),
    };
  }
}
