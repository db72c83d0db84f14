/**
 * Creating the folders the operator names (DATABASE_PATH's, DEPLOYMENTS_DIR) without ever hanging or writing into
 * the kernel's pseudo-filesystems. Node's `mkdirSync(…, { recursive: true })` loops forever where mkdir answers
 * ENOENT for a parent that exists (anything under /proc), so folders are made one level at a time, a bounded
 * number of levels, and paths under /proc, /sys and /dev (also through a symbolic link) are refused first.
 */
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

const PSEUDO_FILESYSTEMS = ['/proc', '/sys', '/dev'] as const;
/** Deeper than any real deployment folder; a bound, so a strange filesystem cannot keep us walking. */
const MAX_NEW_LEVELS = 32;

export class DirectoryUnusable extends Error {
  constructor(setting: string, path: string, reason: string) {
    super(`${setting} cannot be used: ${path} ${reason}.`);
    this.name = 'DirectoryUnusable';
  }
}

function under(root: string, path: string): boolean {
  return path === root || path.startsWith(`${root}${sep}`);
}

/** The nearest folder of `path` (itself included) that exists, with links resolved. */
function nearestExisting(path: string): string {
  let current = resolve(path);
  for (let level = 0; level <= MAX_NEW_LEVELS * 4 && !existsSync(current); level += 1) current = dirname(current);
  try {
    return realpathSync(current);
  } catch {
    return current;
  }
}

/** Whether `path` is, or would be created, under /proc, /sys or /dev (following links in the part that exists). */
export function isOnPseudoFilesystem(path: string): boolean {
  const absolute = resolve(path);
  const real = nearestExisting(absolute);
  return PSEUDO_FILESYSTEMS.some((root) => under(root, absolute) || under(root, real));
}

/**
 * Makes sure `path` is a folder, creating missing levels owner-only, one at a time.
 * @throws DirectoryUnusable naming `setting` (the variable the path came from) and the reason, never a stack.
 */
export function ensureDirectory(path: string, setting: string, mode = 0o700): void {
  const absolute = resolve(path);
  if (isOnPseudoFilesystem(absolute)) throw new DirectoryUnusable(setting, absolute, 'is under /proc, /sys or /dev; choose a folder on a real disk');
  const missing: string[] = [];
  for (let current = absolute; !existsSync(current); current = dirname(current)) {
    if (missing.length >= MAX_NEW_LEVELS || dirname(current) === current) {
      throw new DirectoryUnusable(setting, absolute, `would need more than ${MAX_NEW_LEVELS} new folders; create it first`);
    }
    missing.push(current);
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder, { mode });
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : 'an error';
      if (code !== 'EEXIST') throw new DirectoryUnusable(setting, absolute, `cannot be created (${code} at ${folder})`);
    }
  }
}
