/**
 * A guild's projects at a glance (what /cloud-projects shows): the first page of live projects by name, each with
 * its first resources that are not destroyed, its count of them and its monthly estimate, plus the guild's count of
 * projects and what it has in the cloud. Two statements whatever the number of projects: the page (everything per
 * project in one row: the resources shown as one JSON array, the counts and sums as subqueries on the project's
 * index) and the guild's totals (resource-totals.ts). Only the columns the page shows are read. This file holds
 * SQLite's (prepared once: /cloud-projects is benchmarked, issue 13); pg-project-overview.ts PostgreSQL's.
 * On SQLite the page is kept per guild until a row it shows changes: the connection's TEMP triggers forget it on
 * every write of cloud_projects or cloud_resources whoever makes it (GuildCache.forgetOnWrites), data_version on
 * another connection's commit. PostgreSQL reads it every time (a version query would cost the page's round trip).
 */
import type Database from 'better-sqlite3';
import type { Session, SqliteSession } from '../db/data-access.js';
import { GuildCache, type WatchedTable } from '../db/guild-cache.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { assertOverviewLimits, RESOURCE_COLUMNS, sqlList, toSummary, type OverviewLimits, type PageRow, type ProjectSummary } from './overview-rows.js';
import { PgProjectOverviews } from './pg-project-overview.js';
import { MAY_EXIST_IN_CLOUD } from './resource-statuses.js';
import type { InCloudTotals } from './resource-totals.js';

export type { OverviewLimits, ProjectHeadline, ProjectSummary } from './overview-rows.js';

export interface ProjectsOverview {
  /** The first live projects by name: at most `projects` of them. */
  projects: ProjectSummary[];
  /** Every live project of the guild, shown or not. */
  projectCount: number;
  /** The whole guild's resources that may exist in the cloud: what its budget and instance limit count. */
  inCloud: InCloudTotals;
}

/** Where the guild's totals come from: the ones the budget check reads (ResourceTotals), so both show one figure. */
export interface InCloudSource {
  inCloud(guildId: string): InCloudTotals | Promise<InCloudTotals>;
}

export interface ProjectOverviews {
  of(guild: string, limits: OverviewLimits): Promise<ProjectsOverview>;
}

/** The overviews of the session's dialect, with the guild's totals read from `totals`. */
export function projectOverviewsFor(session: Session, totals: InCloudSource): ProjectOverviews {
  return session.dialect === 'sqlite' ? new SqliteProjectOverviews(session, totals) : new PgProjectOverviews(session, totals);
}

/*
 * Statuses are written out, not bound (as LIVE_PROJECT in sqlite-project-repository.ts): the partial index on live
 * projects serves a query only when SQLite sees at prepare time that it asks for live projects. Each subquery reads
 * the project's own resources by cloud_resources_project; naming the guild there too would lead SQLite to read all
 * of the guild's resources by (guild, status) instead.
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

/** What the page reads of each table: a write of anything else there leaves the kept page as it is. */
const PAGE_TABLES: readonly WatchedTable[] = [
  { table: 'cloud_projects', columns: ['guild_id', 'name', 'provider', 'region', 'vault_session_id', 'credential_source', 'status'] },
  { table: 'cloud_resources', columns: ['guild_id', 'project_id', 'status', ...RESOURCE_COLUMNS] },
];

/**
 * Guilds whose page is kept, the most recently shown: a full page is 25 projects of 10 resources with their inputs,
 * some 100 KiB, so the 10,000 guilds of the other caches could hold a gigabyte.
 */
const PAGES_KEPT = 500;

/** A guild's page as last read, for the limits it was read with; frozen, as every interaction shares it. */
interface KeptPage {
  limits: string;
  projects: readonly ProjectSummary[];
  projectCount: number;
}

export class SqliteProjectOverviews implements ProjectOverviews {
  readonly #sqlite: Database.Database;
  readonly #totals: InCloudSource;
  /**
   * One statement per pair of limits (in practice one: /cloud-projects'), with the limits written into the SQL: a
   * bound LIMIT made this statement cost 3-6 times as much (SQLite plans the subqueries' LIMIT as an expression).
   */
  readonly #pages = new Map<string, PageStatement>();
  readonly #kept: GuildCache<KeptPage>;

  constructor(session: SqliteSession, totals: InCloudSource) {
    this.#sqlite = session.sqlite;
    this.#totals = totals;
    this.#kept = new GuildCache<KeptPage>(session.sqlite, 'cloud_projects.overview_page', PAGES_KEPT).forgetOnWrites(PAGE_TABLES);
  }

  async of(guild: string, limits: OverviewLimits): Promise<ProjectsOverview> {
    assertSnowflake(guild, 'guildId');
    const key = `${limits.projects}:${limits.resourcesPerProject}`;
    let page = this.#kept.get(guild, () => this.#read(guild, limits, key));
    if (page.limits !== key) {
      this.#kept.forget(guild);
      page = this.#kept.get(guild, () => this.#read(guild, limits, key));
    }
    return { projects: [...page.projects], projectCount: page.projectCount, inCloud: await this.#totals.inCloud(guild) };
  }

  #read(guild: string, limits: OverviewLimits, key: string): KeptPage {
    const rows = this.#page(limits).all({ guildId: guild });
    // No row on the page means no live project (the page holds at least one when there is one).
    return deepFreeze({ limits: key, projects: rows.map(toSummary), projectCount: rows[0]?.project_count ?? 0 });
  }

  #page(limits: OverviewLimits): PageStatement {
    const key = `${limits.projects}:${limits.resourcesPerProject}`;
    let statement = this.#pages.get(key);
    if (!statement) {
      assertOverviewLimits(limits);
      statement = this.#sqlite.prepare<{ guildId: string }, PageRow>(pageSql(limits));
      this.#pages.set(key, statement);
    }
    return statement;
  }
}

/** Frozen all the way down (a resource's inputs too): every interaction shares the kept page, none may change it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
