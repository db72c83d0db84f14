import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const enginePath = resolve(root, 'test/fake-engine/engine.mjs');

/** Paths the header comment cites: `a/b.ext` tokens (with a slash), resolved from the repository root or, for `./`/`../`, from the script. */
function citedFiles(): string[] {
  const source = readFileSync(enginePath, 'utf8');
  const header = source.slice(0, source.indexOf('*/'));
  const paths = header.match(/(?:\.{1,2}\/)*[\w-]+(?:\/[\w.-]+)+\.(?:md|ts|mjs|json)\b/g) ?? [];
  return paths.filter((path) => !path.startsWith('/abs/'));
}

describe('the stand-in engine header', () => {
  it('cites only files that exist in the repository', () => {
    const cited = citedFiles();
    expect(cited.length).toBeGreaterThan(0);
    const missing = cited.filter((path) => {
      const base = path.startsWith('.') ? dirname(enginePath) : root;
      return !existsSync(resolve(base, path));
    });
    expect(missing).toEqual([]);
  });
});
