/**
 * A guild's projects at a glance (what /cloud-projects shows): the first page of live projects by name, each with
 * its first resources that are not destroyed, its count of them and its monthly estimate, plus the guild's count of
 * projects and what it has in the cloud. Two statements, prepared once, whatever the number of projects: the page
 * (everything per project in one row: the resources shown as one JSON array, the counts and sums as subqueries
 * on the project's index) and the guild's totals (resource-totals.ts). Only the columns the page shows are read.
 */
import type Database from 'better-sqlite3';
import type { Db } from '../db/index.js';
import { assertSnowflake } from '../shared/snowflake.js';
import type { Project } from './project-repository.js';
import { toResourceLine, type ResourceLine, type ResourceLineRow } from './resource-repository.js';
import { MAY_EXIST_IN_CLOUD } from './resource-statuses.js';
import { SqliteResourceTotals, type InCloudTotals, type ResourceTotals } from './resource-totals.js';

/** What the page shows of a project. */
export type ProjectHeadline = Pick<Project, 'id' | 'name' | 'provider' | 'region' | 'vaultSessionId' | 'credentialSource'>;

export interface ProjectSummary {
  project: ProjectHeadline;
  /** Its resources that are not destroyed, oldest first: at most `resourcesPerProject` of them. */
  resources: ResourceLine[];
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

interface PageRow {
  id: number;
  name: string;
  provider: Project['provider'];
  region: string;
  vault_session_id: string | null;
  credential_source: Project['credentialSource'];
  project_count: number;
  resource_count: number;
  monthly_usd: number;
  /** JSON: an array of arrays, one per resource shown, in RESOURCE_COLUMNS' order. */
  resources: string;
}

/** The columns of a resource line, in the order the JSON arrays hold them. */
const RESOURCE_COLUMNS = [
  'id',
  'resource_type',
  'template',
  'inputs',
  'sensitive_inputs',
  'instance_type',
  'disk_size_gb',
  'estimated_monthly_cost',
  'status',
  'expires_at',
  'expired_at',
] as const satisfies ReadonlyArray<keyof ResourceLineRow>;

const sqlList = (values: readonly string[]) => values.map((value) => `'${value}'`).join(', ');

/*
 * Statuses are written out, not bound (as LIVE_PROJECT in project-repository.ts): the partial index on live projects
 * serves a query only when SQLite sees at prepare time that it asks for live projects. Each subquery reads the
 * project's own resources by cloud_resources_project; naming the guild there too would lead SQLite to read all of the
 * guild's resources by (guild, status) instead.
 */
const pageSql = (limits: OverviewLimits) => `
SELECT p.id, p.name, p.provider, p.region, p.vault_session_id, p.credential_source,
  (SELECT count(*) FROM cloud_projects WHERE guild_id = :guildId AND status = 'active') AS project_count,
  (SELECT count(*) FROM cloud_resources r WHERE r.project_id = p.id AND r.status <> 'destroyed') AS resource_count,
  (SELECT total(r.estimated_monthly_cost) FROM cloud_resources r
     WHERE r.project_id = p.id AND r.status IN (${sqlList(MAY_EXIST_IN_CLOUD)})) AS monthly_usd,
  (SELECT json_group_array(json_array(${RESOURCE_COLUMNS.map((column) => `s.${column}`).join(', ')}))
     FROM (SELECT * FROM cloud_resources r WHERE r.project_id = p.id AND r.status <> 'destroyed' ORDER BY r.id LIMIT ${limits.resourcesPerProject}) s
  ) AS resources
FROM cloud_projects p
WHERE p.guild_id = :guildId AND p.status = 'active'
ORDER BY p.name
LIMIT ${limits.projects}`;

type PageStatement = Database.Statement<{ guildId: string }, PageRow>;

export class ProjectOverviews {
  readonly #db: Db;
  /**
   * One statement per pair of limits (in practice one: /cloud-projects'), with the limits written into the SQL: a
   * bound LIMIT made this statement cost 3-6 times as much (SQLite plans the subqueries' LIMIT as an expression).
   */
  readonly #pages = new Map<string, PageStatement>();

  constructor(
    db: Db,
    private readonly totals: ResourceTotals = new SqliteResourceTotals({ sqlite: db.$client }),
  ) {
    this.#db = db;
  }

  async of(guild: string, limits: OverviewLimits): Promise<ProjectsOverview> {
    assertSnowflake(guild, 'guildId');
    const rows = this.#page(limits).all({ guildId: guild });
    return {
      projects: rows.map(toSummary),
      // No row on the page means no live project (the page holds at least one when there is one).
      projectCount: rows[0]?.project_count ?? 0,
      inCloud: await this.totals.inCloud(guild),
    };
  }

  #page(limits: OverviewLimits): PageStatement {
    const key = `${limits.projects}:${limits.resourcesPerProject}`;
    let statement = this.#pages.get(key);
    if (!statement) {
      // Whole numbers only, so nothing but digits reaches the SQL.
      for (const limit of [limits.projects, limits.resourcesPerProject]) {
        if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`overview limits must be positive whole numbers, not ${limit}`);
      }
      statement = this.#db.$client.prepare<{ guildId: string }, PageRow>(pageSql(limits));
      this.#pages.set(key, statement);
    }
    return statement;
  }
}

function toSummary(row: PageRow): ProjectSummary {
  const lines = JSON.parse(row.resources) as unknown[][];
  return {
    project: {
      id: row.id,
      name: row.name,
      provider: row.provider,
      region: row.region,
      vaultSessionId: row.vault_session_id,
      credentialSource: row.credential_source,
    },
    resources: lines
      .map((values) => toResourceLine(Object.fromEntries(RESOURCE_COLUMNS.map((column, i) => [column, values[i]])) as ResourceLineRow))
      // SQLite aggregates in the subquery's order in practice, but does not promise it: oldest first, whatever it did.
      .sort((a, b) => a.id - b.id),
    resourceCount: row.resource_count,
    monthlyUsd: row.monthly_usd,
  };
}
