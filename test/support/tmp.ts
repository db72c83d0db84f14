import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DatabaseHandle } from '../../src/db/index.js';

/** A fresh temporary folder, removed by the returned cleanup. */
export function makeTempDir(prefix = 'chatops-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A real SQLite file in a temporary folder with every migration applied. */
export function makeTestDatabase(): DatabaseHandle & { dir: string; path: string; cleanup: () => void } {
  const { dir, cleanup } = makeTempDir('chatops-db-');
  const path = join(dir, 'test.db');
  const handle = openDatabase(path);
  return {
    ...handle,
    dir,
    path,
    cleanup: () => {
      handle.close();
      cleanup();
    },
  };
}
