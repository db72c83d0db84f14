/**
 * /cloud-projects' page on PostgreSQL (see project-overview.ts): the same one statement per page as on SQLite, in
 * PostgreSQL's words (json_agg for json_group_array, coalesce(sum) for total), with names in SQLite's bytewise
 * order (`COLLATE "C"`), counts cast to int (bigint comes back as a string) and the JSON handed back as text, as
 * SQLite hands it, so one mapping reads both.
 */
import { sql } from 'drizzle-orm';
import type { PostgresSession } from '../db/data-access.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { assertOverviewLimits, RESOURCE_COLUMNS, sqlList, toSummary, type OverviewLimits, type PageRow } from './overview-rows.js';
import type { InCloudSource, ProjectOverviews, ProjectsOverview } from './project-overview.js';
import { MAY_EXIST_IN_CLOUD } from './resource-statuses.js';

type RawPageRow = Omit<PageRow, 'id'> & { id: number | string };

export class PgProjectOverviews implements ProjectOverviews {
  readonly #session: PostgresSession;
  readonly #totals: InCloudSource;

  constructor(session: PostgresSession, totals: InCloudSource) {
    this.#session = session;
    this.#totals = totals;
  }

  async of(guild: string, limits: OverviewLimits): Promise<ProjectsOverview> {
    assertSnowflake(guild, 'guildId');
    assertOverviewLimits(limits);
    const result = await this.#session.db.execute<RawPageRow>(sql`
      SELECT p.id, p.name, p.provider, p.region, p.vault_session_id, p.credential_source,
        (SELECT count(*)::int FROM cloud_projects WHERE guild_id = ${guild} AND status = 'active') AS project_count,
        (SELECT count(*)::int FROM cloud_resources r WHERE r.project_id = p.id AND r.status <> 'destroyed') AS resource_count,
        (SELECT coalesce(sum(r.estimated_monthly_cost), 0)::float8 FROM cloud_resources r
           WHERE r.project_id = p.id AND r.status IN (${sql.raw(sqlList(MAY_EXIST_IN_CLOUD))})) AS monthly_usd,
        (SELECT coalesce(json_agg(json_build_array(${sql.raw(RESOURCE_COLUMNS.map((column) => `s.${column}`).join(', '))}) ORDER BY s.id), '[]'::json)::text
           FROM (SELECT * FROM cloud_resources r WHERE r.project_id = p.id AND r.status <> 'destroyed'
                  ORDER BY r.id LIMIT ${sql.raw(String(limits.resourcesPerProject))}) s
        ) AS resources
      FROM cloud_projects p
      WHERE p.guild_id = ${guild} AND p.status = 'active'
      ORDER BY p.name COLLATE "C"
      LIMIT ${sql.raw(String(limits.projects))}`);
    const rows = result.rows.map((row) => ({ ...row, id: Number(row.id) }));
    return {
      projects: rows.map(toSummary),
      // No row on the page means no live project (the page holds at least one when there is one).
      projectCount: rows[0]?.project_count ?? 0,
      inCloud: await this.#totals.inCloud(guild),
    };
  }
}
