/**
 * A template's files as bytes in memory: read from a folder (the operator's, or the bot's own store) within limits,
 * digested, and written into a workspace. Holding them in memory between the check and the write means what was
 * checked is exactly what is written, whatever happens to the folder meanwhile.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import { writePrivateFile } from '../state/private-file.js';
import { ModuleRefused } from './errors.js';
import { code, text } from '../shared/text.js';

export interface ModuleFile {
  /** Relative to the template's folder, with `/` separators, never `..` or absolute. */
  path: string;
  bytes: Buffer;
}

/** Far above any module a person writes; a bound so that a repository cannot fill the disk or the memory. */
export const MODULE_LIMITS = { files: 200, totalBytes: 4 * 1024 * 1024, depth: 8 } as const;

/** The file, in the directory a template was written to, that lists what was written (so a later copy can tidy). */
export const MANIFEST_NAME = '.template-files.json';

/** Never part of a template: git's own folder. */
const SKIPPED = new Set(['.git']);

/**
 * Folders a template must not carry: `.terraform` (downloaded providers and modules) and `terraform.d` (the engine's
 * implied local provider mirror) would let a module bring its own provider binaries. Variable files the engine loads
 * by itself would silently override the inputs members give.
 */
function refusedName(path: string, isDirectory: boolean): string | undefined {
  const name = posix.basename(path);
  if (path === MANIFEST_NAME) return 'a name the bot keeps for itself';
  if (isDirectory && (name === '.terraform' || name === 'terraform.d')) return 'a folder of provider plugins or downloaded modules';
  // OpenTofu loads these beside (and instead of) .tf files; the bot reads only .tf and .tf.json, so they go unchecked.
  if (!isDirectory && isTofuOnly(name)) return 'an OpenTofu-only configuration file, which the bot does not check (write it as .tf or .tf.json)';
  if (!isDirectory && !path.includes('/') && (name === 'terraform.tfvars' || name === 'terraform.tfvars.json' || name.endsWith('.auto.tfvars') || name.endsWith('.auto.tfvars.json'))) {
    return 'a variable file the engine would load by itself (declare defaults in the variable blocks instead)';
  }
  return undefined;
}

function isTofuOnly(name: string): boolean {
  return name.endsWith('.tofu') || name.endsWith('.tofu.json');
}

/** Checks a listing against the limits and the refused names, before any content is read. */
export function checkModuleListing(entries: ReadonlyArray<{ path: string; size: number; kind: 'file' | 'directory' | 'link' | 'other' }>): void {
  let files = 0;
  let bytes = 0;
  for (const entry of entries) {
    if (entry.kind === 'link') throw new ModuleRefused(text`${code(entry.path)} is a symbolic link; a template holds only plain files`);
    if (entry.kind === 'other') throw new ModuleRefused(text`${code(entry.path)} is not a plain file or folder`);
    const refused = refusedName(entry.path, entry.kind === 'directory');
    if (refused) throw new ModuleRefused(text`${code(entry.path)} is ${refused}`);
    const depth = entry.path.split('/').length - (entry.kind === 'directory' ? 0 : 1);
    if (depth > MODULE_LIMITS.depth) throw new ModuleRefused(text`${code(entry.path)} is nested more than ${MODULE_LIMITS.depth} folders deep`);
    if (entry.kind !== 'file') continue;
    files += 1;
    bytes += entry.size;
    if (files > MODULE_LIMITS.files) throw new ModuleRefused(`it has more than ${MODULE_LIMITS.files} files`);
    if (bytes > MODULE_LIMITS.totalBytes) throw new ModuleRefused(`its files add up to more than ${MODULE_LIMITS.totalBytes / (1024 * 1024)} MiB`);
  }
}

/**
 * Reads every file under `root` (links and special files refused, never followed; `.git` skipped), within the limits.
 * @throws ModuleRefused
 */
export function readModuleFolder(root: string): ModuleFile[] {
  const listing: Array<{ path: string; size: number; kind: 'file' | 'directory' | 'link' | 'other' }> = [];
  const walk = (relative: string, level: number): void => {
    if (level > MODULE_LIMITS.depth + 1) return; // checkModuleListing names the too-deep entry
    for (const name of readdirSync(join(root, relative)).sort()) {
      if (SKIPPED.has(name)) continue;
      const path = relative === '' ? name : `${relative}/${name}`;
      const stats = lstatSync(join(root, path));
      const kind = stats.isSymbolicLink() ? 'link' : stats.isDirectory() ? 'directory' : stats.isFile() ? 'file' : 'other';
      listing.push({ path, size: stats.size, kind });
      if (listing.length > MODULE_LIMITS.files * 2) throw new ModuleRefused(`it has more than ${MODULE_LIMITS.files * 2} files and folders`);
      if (kind === 'directory') walk(path, level + 1);
    }
  };
  walk('', 1);
  checkModuleListing(listing);
  return listing.filter((entry) => entry.kind === 'file').map((entry) => ({ path: entry.path, bytes: readFileSync(join(root, entry.path)) }));
}

/** Folders of a deployment's workspace that are the engine's or the bot's, never the module's. */
const WORKSPACE_OWN_FOLDERS = new Set(['.git', '.terraform', '.plans']);

/**
 * The configuration files (`*.tf`, `*.tf.json`, and OpenTofu's `*.tofu`, refused) a deployment's folder holds, wherever in it, as the engine would load
 * them: the module files an earlier copy wrote, and anything else put there since. `botFiles` (top-level names the
 * deploy pipeline writes itself, such as its backend file) are left out. Links and special files are refused, never
 * followed, and the module's limits hold.
 * @throws ModuleRefused
 */
export function readWrittenModule(directory: string, botFiles: readonly string[]): ModuleFile[] {
  const found: Array<{ path: string; size: number; kind: 'file' | 'directory' | 'link' | 'other' }> = [];
  const walk = (relative: string, level: number): void => {
    if (level > MODULE_LIMITS.depth + 1) return;
    for (const name of readdirSync(join(directory, relative)).sort()) {
      const path = relative === '' ? name : `${relative}/${name}`;
      if (relative === '' && (WORKSPACE_OWN_FOLDERS.has(name) || botFiles.includes(name))) continue;
      const stats = lstatSync(join(directory, path));
      if (stats.isDirectory()) {
        walk(path, level + 1);
        continue;
      }
      // A link of any name is refused: a module source could lead the engine through it to files nobody checked.
      if (!stats.isSymbolicLink() && !name.endsWith('.tf') && !name.endsWith('.tf.json') && !isTofuOnly(name)) continue;
      found.push({ path, size: stats.size, kind: stats.isSymbolicLink() ? 'link' : stats.isFile() ? 'file' : 'other' });
      if (found.length > MODULE_LIMITS.files) throw new ModuleRefused(`it has more than ${MODULE_LIMITS.files} files`);
    }
  };
  walk('', 1);
  checkModuleListing(found);
  return found.map((entry) => ({ path: entry.path, bytes: readFileSync(join(directory, entry.path)) }));
}

/** `sha256:<hex>` over every path and its bytes, in path order: equal exactly when the files are. */
export function digestOf(files: readonly ModuleFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(file.path).update('\0').update(String(file.bytes.length)).update('\0').update(file.bytes);
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Writes the files under `directory` (owner-only), never through a link, and removes the files an earlier write of
 * a template left there that this one no longer has (a file removed from the module must not linger in the
 * workspace). Other files in the directory (the deploy pipeline's own) are left alone.
 */
export function writeModuleFiles(files: readonly ModuleFile[], directory: string, { manifest = true } = {}): void {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const previous = manifest ? readManifest(directory) : [];
  const current = new Set(files.map((file) => file.path));
  for (const stale of previous) if (!current.has(stale) && isSafeRelative(stale)) rmSync(join(directory, stale), { force: true });
  for (const file of files) {
    if (!isSafeRelative(file.path)) throw new ModuleRefused(text`${code(file.path)} is not a path inside the template`);
    realFolders(directory, posix.dirname(file.path));
    writePrivateFile(join(directory, file.path), file.bytes);
  }
  if (manifest) writePrivateFile(join(directory, MANIFEST_NAME), JSON.stringify([...current].sort()));
}

/** Makes `relative` under `root` one real folder at a time: a link planted in the tree is refused, never followed. */
function realFolders(root: string, relative: string): void {
  let current = root;
  for (const part of relative === '.' ? [] : relative.split('/')) {
    current = join(current, part);
    let stats: ReturnType<typeof lstatSync> | undefined;
    try {
      stats = lstatSync(current);
    } catch {
      mkdirSync(current, { mode: 0o700 });
      continue;
    }
    if (!stats.isDirectory()) throw new Error(`${current} is not a folder (a link or a file is in the way); the template's files were not written`);
  }
}

function readManifest(directory: string): string[] {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(directory, MANIFEST_NAME), 'utf8'));
    return Array.isArray(parsed) ? parsed.filter((entry): entry is string => typeof entry === 'string') : [];
  } catch {
    return [];
  }
}

/** A relative path with `/` separators that stays inside its root. */
export function isSafeRelative(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
