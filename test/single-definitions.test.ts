/**
 * Rules that must agree everywhere are written once. A copy drifts: one module would accept what another refuses, or
 * quote a member's text unsafely while its twin does not. These checks read the source tree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every src/ file (relative path) in which `pattern` occurs, once per occurrence. */
function occurrences(pattern: RegExp): string[] {
  return sourceFiles(SRC).flatMap((file) => {
    const matches = readFileSync(file, 'utf8').match(new RegExp(pattern.source, 'g')) ?? [];
    return matches.map(() => relative(SRC, file));
  });
}

describe('rules written once in src/', () => {
  it('the instance-type name pattern', () => {
    expect(occurrences(/\[A-Za-z0-9\]\[A-Za-z0-9\._-\]\{0,63\}/)).toEqual(['shared/instance-type.ts']);
  });

  it('printable(), which quotes a given value back in a message', () => {
    expect(occurrences(/function printable\(/)).toEqual(['shared/member-text.ts']);
  });

  it('the mapping of a jit_permissions row to a grant', () => {
    expect(occurrences(/function toGrant\(/)).toEqual(['jit/grant-rows.ts']);
  });

  it('the SQL that writes jit_permissions: the grant repository, once per dialect', () => {
    const writers = new Set([...occurrences(/UPDATE jit_permissions/), ...occurrences(/\.(?:update|insert)\(jitPermissions\)/)]);
    expect([...writers].sort()).toEqual(['jit/pg-grant-repository.ts', 'jit/sqlite-grant-repository.ts']);
  });
});
