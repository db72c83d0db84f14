import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.js';
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
      ['audit_log', 'cloud_credentials', 'cloud_projects', 'cloud_resources', 'guild_policies', 'iac_runs', 'jit_permissions'].sort(),
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
