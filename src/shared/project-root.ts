/**
 * The project's own folder (the one holding package.json), found from wherever the running code lives: the same
 * answer from `src/db/index.ts` under tsx and from the bundle in `dist/`, so files shipped beside the code
 * (migrations in `drizzle/`) resolve the same way in both.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Nothing in this project is nested deeper than this below its root. */
const MAX_LEVELS = 8;

/** The nearest folder at or above `moduleUrl`'s that holds a package.json. */
export function projectRoot(moduleUrl: string): string {
  let folder = dirname(fileURLToPath(moduleUrl));
  for (let level = 0; level < MAX_LEVELS; level += 1) {
    if (existsSync(join(folder, 'package.json'))) return folder;
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  throw new Error(`no package.json above ${resolve(dirname(fileURLToPath(moduleUrl)))}: the project's files are incomplete`);
}
