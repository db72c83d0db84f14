import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { MIGRATIONS_DIR, openDatabase } from '../src/db/index.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { runStoreFor } from '../src/engine/run-store.js';
import { makeTempDir } from './support/tmp.js';

describe('database', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  it('creates a fresh file with every table, WAL mode and foreign keys on', () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'nested', 'chatops.db');
    const handle = openDatabase(path);
    cleanups.unshift(() => handle.close());
    expect(existsSync(path)).toBe(true);
    const tables = handle.sqlite
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%'")
      .all()
      .map((row) => (row as { name: string }).name)
      .sort();
    expect(tables).toEqual(
      ['audit_log', 'cloud_credentials', 'cloud_projects', 'cloud_resources', 'deploy_approvals', 'deployment_ttl_reminders', 'drift_checks', 'guild_policies', 'guild_resource_totals', 'guild_template_enablements', 'guild_tiers', 'iac_runs', 'jit_expiry_reminders', 'jit_permissions', 'jit_requests', 'templates', 'workspace_leases', 'budget_holds'].sort(),
    );
    expect(handle.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(handle.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('applies migrations again to an existing database without error or data loss', () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'chatops.db');
    const first = openDatabase(path);
    first.sqlite
      .prepare('INSERT INTO audit_log (guild_id, user_id, action, outcome, created_at) VALUES (?, ?, ?, ?, ?)')
      .run('111111111111111111', '222222222222222222', 'test.action', 'success', 1);
    first.close();
    const second = openDatabase(path);
    cleanups.unshift(() => second.close());
    const count = second.sqlite.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number };
    expect(count.n).toBe(1);
  });

  it('upgrades a database made by the first release (only the first migration) without losing its rows', () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    // The migrations folder as the first release shipped it: 0000 alone.
    const firstRelease = join(dir, 'drizzle-0000');
    mkdirSync(join(firstRelease, 'meta'), { recursive: true });
    copyFileSync(join(MIGRATIONS_DIR, '0000_init.sql'), join(firstRelease, '0000_init.sql'));
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    writeFileSync(join(firstRelease, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, 1) }));
    const path = join(dir, 'old.db');
    const old = new Database(path);
    migrate(drizzle(old), { migrationsFolder: firstRelease });
    old
      .prepare("INSERT INTO cloud_projects (guild_id, name, slug, provider, region, created_by, created_at, updated_at) VALUES (?, 'web', 'web', 'gcp', 'us-central1', ?, 1, 1)")
      .run('111111111111111111', '222222222222222222');
    old.close();

    const upgraded = openDatabase(path);
    cleanups.unshift(() => upgraded.close());
    expect(upgraded.sqlite.prepare('SELECT name FROM cloud_projects').all()).toEqual([{ name: 'web' }]);
    const indexes = upgraded.sqlite
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cloud_projects' ORDER BY name")
      .all()
      .map((row) => (row as { name: string }).name);
    expect(indexes).toEqual(['cloud_projects_guild_name_live', 'cloud_projects_guild_slug_live']);
  });

  it('upgrades a database from before per-guild run numbers: its runs numbered 1, 2, 3 in order within each guild', async () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    // The migrations folder as the release before run numbers shipped it: 0000 and 0001.
    const before = join(dir, 'drizzle-0001');
    mkdirSync(join(before, 'meta'), { recursive: true });
    for (const file of ['0000_init.sql', '0001_live_project_names.sql']) copyFileSync(join(MIGRATIONS_DIR, file), join(before, file));
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    writeFileSync(join(before, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, 2) }));
    const path = join(dir, 'old.db');
    const old = new Database(path);
    migrate(drizzle(old), { migrationsFolder: before });
    const [guildA, guildB, user] = ['111111111111111111', '333333333333333333', '222222222222222222'];
    const project = old.prepare(
      "INSERT INTO cloud_projects (guild_id, name, slug, provider, region, created_by, created_at, updated_at) VALUES (?, ?, ?, 'gcp', 'us-central1', ?, 1, 1)",
    );
    const projectA = Number(project.run(guildA, 'web', 'web', user).lastInsertRowid);
    const projectB = Number(project.run(guildB, 'api', 'api', user).lastInsertRowid);
    const run = old.prepare("INSERT INTO iac_runs (guild_id, project_id, kind, status, started_by, summary, created_at) VALUES (?, ?, ?, 'succeeded', ?, ?, ?)");
    // Interleaved, as guilds use one bot: global ids 1..5.
    run.run(guildA, projectA, 'plan', user, '{"a":1}', 10);
    run.run(guildB, projectB, 'plan', user, null, 20);
    run.run(guildA, projectA, 'apply', user, null, 30);
    run.run(guildB, projectB, 'apply', user, null, 40);
    run.run(guildA, projectA, 'destroy', user, null, 50);
    old.close();

    const upgraded = openDatabase(path);
    cleanups.unshift(() => upgraded.close());
    const rows = upgraded.sqlite.prepare('SELECT id, guild_id, guild_run_number, kind, summary, created_at FROM iac_runs ORDER BY id').all();
    expect(rows).toEqual([
      { id: 1, guild_id: guildA, guild_run_number: 1, kind: 'plan', summary: '{"a":1}', created_at: 10 },
      { id: 2, guild_id: guildB, guild_run_number: 1, kind: 'plan', summary: null, created_at: 20 },
      { id: 3, guild_id: guildA, guild_run_number: 2, kind: 'apply', summary: null, created_at: 30 },
      { id: 4, guild_id: guildB, guild_run_number: 2, kind: 'apply', summary: null, created_at: 40 },
      { id: 5, guild_id: guildA, guild_run_number: 3, kind: 'destroy', summary: null, created_at: 50 },
    ]);
    // The next run of each guild continues its own count, and a number cannot be taken twice in a guild.
    const store = runStoreFor(sqliteDataAccess(upgraded), { now: () => 60 });
    expect((await store.create({ guildId: guildB, projectId: projectB, resourceId: null, kind: 'plan', startedBy: user })).guild_run_number).toBe(3);
    expect(() =>
      upgraded.sqlite
        .prepare("INSERT INTO iac_runs (guild_id, guild_run_number, project_id, kind, started_by, created_at) VALUES (?, 1, ?, 'plan', ?, 70)")
        .run(guildA, projectA, user),
    ).toThrow(/UNIQUE/);
    expect(upgraded.sqlite.pragma('foreign_key_check')).toEqual([]);
  });

  it('upgrades a database made before tiers (migrations up to 0002) to guild_tiers, keeping its rows', () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const beforeTiers = join(dir, 'drizzle-0002');
    mkdirSync(join(beforeTiers, 'meta'), { recursive: true });
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
    const upTo = journal.entries.findIndex((entry) => entry.tag.startsWith('0002_')) + 1;
    expect(upTo).toBe(3);
    for (const entry of journal.entries.slice(0, upTo)) copyFileSync(join(MIGRATIONS_DIR, `${entry.tag}.sql`), join(beforeTiers, `${entry.tag}.sql`));
    writeFileSync(join(beforeTiers, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, upTo) }));
    const path = join(dir, 'old.db');
    const old = new Database(path);
    migrate(drizzle(old), { migrationsFolder: beforeTiers });
    old
      .prepare("INSERT INTO guild_policies (guild_id, max_budget_monthly, created_at, updated_at) VALUES (?, 2500, 1, 1)")
      .run('111111111111111111');
    old
      .prepare('INSERT INTO audit_log (guild_id, user_id, action, outcome, created_at) VALUES (?, ?, ?, ?, ?)')
      .run('111111111111111111', '222222222222222222', 'policy.update', 'success', 1);
    expect(old.prepare("SELECT name FROM sqlite_master WHERE name = 'guild_tiers'").all()).toEqual([]);
    old.close();

    const upgraded = openDatabase(path);
    cleanups.unshift(() => upgraded.close());
    expect(upgraded.sqlite.prepare('SELECT max_budget_monthly AS budget FROM guild_policies').all()).toEqual([{ budget: 2500 }]);
    expect(upgraded.sqlite.prepare('SELECT count(*) AS n FROM audit_log').get()).toEqual({ n: 1 });
    // No guild has a tier after the upgrade: every guild is on the default, as before.
    expect(upgraded.sqlite.prepare('SELECT count(*) AS n FROM guild_tiers').get()).toEqual({ n: 0 });
  });

  it('indexes the janitor and permission-check queries', () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const handle = openDatabase(join(dir, 'chatops.db'));
    cleanups.unshift(() => handle.close());
    const plan = handle.sqlite
      .prepare('EXPLAIN QUERY PLAN SELECT id FROM jit_permissions WHERE revoked = 0 AND expires_at <= ? LIMIT 100')
      .all(Date.now())
      .map((row) => (row as { detail: string }).detail)
      .join(' ');
    expect(plan).toMatch(/USING (COVERING )?INDEX jit_expiry_due/);
  });
});
