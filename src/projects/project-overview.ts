/**
 * A guild's projects at a glance (what /cloud-projects shows): the first page of live projects by name, each with
 * its resources that are not destroyed, in one query, plus the guild's count of projects and what it has in the
 * cloud. The cost follows the page, not the guild: a guild with a thousand projects reads what it shows.
 */
import { and, asc, count, eq, ne, sql } from 'drizzle-orm';
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
  readonly #count;

  constructor(
    db: Db,
    private readonly totals: ResourceTotals = new ResourceTotals(db),
  ) {
    const page = db
      .select()
      .from(cloudProjects)
      .where(and(eq(cloudProjects.guild_id, guildId), LIVE_PROJECT))
      .orderBy(asc(cloudProjects.name))
      .limit(sql.placeholder('projects'))
      .as('page');
    this.#page = db
      .select()
      .from(page)
      .leftJoin(
        cloudResources,
        and(eq(cloudResources.project_id, page.id), eq(cloudResources.guild_id, page.guild_id), ne(cloudResources.status, 'destroyed')),
      )
      .orderBy(asc(page.name), asc(cloudResources.id))
      .prepare();
    this.#count = db
      .select({ projects: count() })
      .from(cloudProjects)
      .where(and(eq(cloudProjects.guild_id, guildId), LIVE_PROJECT))
      .prepare();
  }

  of(guild: string, limits: OverviewLimits): ProjectsOverview {
    assertSnowflake(guild, 'guildId');
    const summaries = new Map<number, ProjectSummary>();
    for (const { page: projectRow, cloud_resources: resourceRow } of this.#page.all({ guildId: guild, projects: limits.projects })) {
      let summary = summaries.get(projectRow.id);
      if (!summary) {
        summary = { project: toProject(projectRow), resources: [], resourceCount: 0, monthlyUsd: 0 };
        summaries.set(projectRow.id, summary);
      }
      if (!resourceRow) continue;
      summary.resourceCount += 1;
      if (MAY_EXIST_IN_CLOUD.includes(resourceRow.status)) summary.monthlyUsd += resourceRow.estimated_monthly_cost;
      // Only what is shown is turned into a Resource (its addresses parsed and checked).
      if (summary.resources.length < limits.resourcesPerProject) summary.resources.push(toResource(resourceRow));
    }
    return {
      projects: [...summaries.values()],
      projectCount: this.#count.get({ guildId: guild })?.projects ?? 0,
      inCloud: this.totals.inCloud(guild),
    };
  }
}
