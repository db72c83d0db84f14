/**
 * The throwaway PostgreSQL server the tests start (test/support/postgres-server.ts): skipped with a reason without
 * server binaries, a failure instead under CI, and gone with the test process that started it, kill -9 included.
 */
import { execa } from 'execa';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { REPO_ROOT } from './support/bot-process.js';
import { describeWithPostgres, findPostgresBinaries, postgresForTests } from './support/postgres-server.js';

describe('finding PostgreSQL for the tests', () => {
  const nowhere = { PG_BIN_DIR: '/nonexistent/postgresql/bin', PATH: '' };

  it('without server binaries, outside CI, says why the tests are skipped', () => {
    expect(postgresForTests(nowhere)).toEqual({ missing: expect.stringMatching(/PG_BIN_DIR=\/nonexistent\/postgresql\/bin holds no initdb and postgres/) });
  });

  it('without server binaries under CI=true, fails', () => {
    expect(() => postgresForTests({ ...nowhere, CI: 'true' })).toThrow(/CI needs a PostgreSQL server for these tests/);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describeWithPostgres('a test PostgreSQL server', (server) => {
  it('accepts connections on its loopback port', async () => {
    const client = new pg.Client({ connectionString: server().urlFor('postgres') });
    await client.connect();
    const result = await client.query<{ version: string }>('SELECT version()');
    await client.end();
    expect(result.rows[0]!.version).toMatch(/^PostgreSQL \d+/);
  });

  it('stops when the process that started it is killed with SIGKILL', async () => {
    const found = findPostgresBinaries();
    if ('missing' in found) throw new Error(found.missing);
    const child = execa('node', ['--import', 'tsx', 'test/support/postgres-server-child.ts'], { cwd: REPO_ROOT, reject: false });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const { pid, dir } = z.object({ pid: z.number().int(), port: z.number().int(), dir: z.string() }).parse(JSON.parse(line));
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    await child;
    await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 20_000, interval: 50 });
    // What the killed process could not remove.
    rmSync(dir, { recursive: true, force: true });
  });
});
