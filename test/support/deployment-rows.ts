/**
 * Projects and deployment rows for the repository suites that run on both dialects (test/support/dialects.ts), in
 * plain SQL both read alike. On PostgreSQL the suite's database is shared by its tests, so `emptyDeployments` clears
 * what an earlier test left (SQLite's file is new for each test).
 */
import type { DialectUnderTest } from './dialects.js';

export async function emptyDeployments(db: DialectUnderTest): Promise<void> {
  if (db.dialect === 'postgres') await db.rows('TRUNCATE cloud_projects, cloud_resources, deploy_approvals, deployment_ttl_reminders RESTART IDENTITY CASCADE');
}

async function insertedId(db: DialectUnderTest, query: string): Promise<number> {
  const [row] = await db.rows(query);
  return Number(row?.id);
}

/** A gcp project of the guild; its id. */
export function insertProject(db: DialectUnderTest, guildId: string, name = 'web'): Promise<number> {
  return insertedId(
    db,
    `INSERT INTO cloud_projects (guild_id, name, slug, provider, region, created_by, created_at, updated_at)
     VALUES ('${guildId}', '${name}', '${name}', 'gcp', 'us-central1', '300000000000000001', 0, 0) RETURNING id`,
  );
}

/** A deployment of the project, `status` and time to live `ttlMs` (null: none) as given; its id. */
export function insertDeployment(db: DialectUnderTest, row: { guildId: string; projectId: number; createdBy: string; status: 'planned' | 'active'; ttlMs: number | null }): Promise<number> {
  return insertedId(
    db,
    `INSERT INTO cloud_resources (project_id, guild_id, name, resource_type, status, ttl_ms, created_by, created_at, updated_at)
     VALUES (${row.projectId}, '${row.guildId}', 'vm-${row.projectId}', 'vm', '${row.status}', ${row.ttlMs ?? 'NULL'}, '${row.createdBy}', 0, 0) RETURNING id`,
  );
}
