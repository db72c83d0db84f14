import type { DialectUnderTest } from './dialects.js';

/**
 * Empties the tables of runs, leases, projects and resources: PostgreSQL's test database is shared by a file's
 * tests (dialects.ts empties only the JIT tables); SQLite's file is new for each test already.
 */
export async function emptyRunTables(d: DialectUnderTest): Promise<void> {
  if (d.dialect === 'postgres') await d.rows('TRUNCATE workspace_leases, iac_runs, cloud_resources, cloud_projects RESTART IDENTITY CASCADE');
}

/** A project row of the test's own (runs and resources need one), by plain SQL both dialects read alike; its id. */
export async function insertProject(d: DialectUnderTest, guildId: string, slug: string): Promise<number> {
  await d.rows(
    `INSERT INTO cloud_projects (guild_id, name, slug, provider, region, created_by, created_at, updated_at) VALUES ('${guildId}', '${slug}', '${slug}', 'gcp', 'us-central1', 'x', 1, 1)`,
  );
  const [row] = await d.rows(`SELECT CAST(id AS INTEGER) AS id FROM cloud_projects WHERE guild_id = '${guildId}' AND slug = '${slug}'`);
  return Number(row?.id);
}
