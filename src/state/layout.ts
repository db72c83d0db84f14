/**
 * Seed 003's MultiTenantStateManager: every guild's Terraform working folders live under
 * `<root>/guild_<guild id>/<project slug>/`, and nothing a user types can make a path leave its guild's folder.
 *
 * Defence in depth: inputs are restricted to a safe alphabet first (so "..", separators, NUL and look-alike
 * characters never reach the file system), then the created folder's real path is checked against where it must
 * be (so a symlink planted inside the tree is refused, not followed).
 */
import { chmodSync, lstatSync, mkdirSync, realpathSync, rmSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureDirectory } from '../shared/directories.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { InvalidProjectName, PathEscape } from './errors.js';
import { invisibleCharacterProblem, printable } from '../shared/member-text.js';

export const MAX_SLUG_LENGTH = 48;
export const MAX_PROJECT_NAME_LENGTH = 64;
const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const OWNER_ONLY = 0o700;

export class StateLayout {
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = resolve(rootDir);
  }

  /**
   * A project name as a folder name: lower-case ASCII letters, digits and single dashes, 1–48 characters.
   * Accents are folded ("Café" → "cafe"); every other character becomes a dash.
   * @throws InvalidProjectName for an empty or over-long name, control characters, or one with nothing usable.
   */
  static slugify(name: string): string {
    if (typeof name !== 'string' || name.trim() === '') throw new InvalidProjectName('it is empty');
    if (name.length > MAX_PROJECT_NAME_LENGTH) {
      throw new InvalidProjectName(`it is longer than ${MAX_PROJECT_NAME_LENGTH} characters`);
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(name)) throw new InvalidProjectName('it contains control characters');
    // Other members see this name: nothing in it may hide or reorder what it says.
    const invisible = invisibleCharacterProblem(name);
    if (invisible) throw new InvalidProjectName(`it ${invisible}`);
    const slug = name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, MAX_SLUG_LENGTH)
      .replace(/-+$/, '');
    if (!SLUG_PATTERN.test(slug)) throw new InvalidProjectName('it has no letters or digits');
    return slug;
  }

  /** True for strings `slugify` could have produced. */
  static isSlug(value: unknown): value is string {
    return typeof value === 'string' && value.length <= MAX_SLUG_LENGTH && SLUG_PATTERN.test(value);
  }

  /** The guild's folder, created owner-only if missing. */
  guildDir(guildId: string): string {
    const root = this.#ensureRoot();
    return ensureContainedDir(root, guildFolderName(guildId));
  }

  /**
   * The project's working folder, created owner-only if missing.
   * @throws InvalidProjectName when `slug` is not a slug (so "..", "/", NUL or look-alikes never reach the disk).
   * @throws PathEscape when the folder resolves anywhere but directly inside its guild's folder.
   */
  workspaceDir(guildId: string, slug: string): string {
    assertSlug(slug);
    return ensureContainedDir(this.guildDir(guildId), slug);
  }

  /** Where the project's folder would be, without creating it. Same checks as `workspaceDir` for what exists. */
  workspacePath(guildId: string, slug: string): string {
    assertSlug(slug);
    const guildPath = join(this.rootDir, guildFolderName(guildId));
    const path = join(guildPath, slug);
    for (const [dir, expected] of [
      [guildPath, join(realpathOrSelf(this.rootDir), guildFolderName(guildId))],
      [path, join(realpathOrSelf(guildPath), slug)],
    ] as const) {
      const stats = lstatOrNull(dir);
      if (stats && (!stats.isDirectory() || realpathSync(dir) !== expected)) throw new PathEscape();
    }
    return path;
  }

  /**
   * The folder name of a template deployment inside its project's: the template's name reduced to the slug
   * alphabet, then the resource's id, so it is unique in the project and never a name the engine uses (`.terraform`).
   */
  static deploymentFolder(template: string, resourceId: number): string {
    if (!Number.isSafeInteger(resourceId) || resourceId <= 0) throw new TypeError('resourceId must be a positive integer');
    const base = template
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32)
      .replace(/-+$/, '');
    return `${base || 'deployment'}-${resourceId}`;
  }

  /**
   * A template deployment's working folder, `<guild>/<project>/<deployment>/`, created owner-only if missing, with
   * the same checks as the project's (each level proven to sit directly inside the one above).
   */
  deploymentDir(guildId: string, slug: string, deployment: string): string {
    assertSlug(deployment);
    return ensureContainedDir(this.workspaceDir(guildId, slug), deployment);
  }

  /** Where a deployment's folder would be, without creating it; refuses a path that is not where it must be. */
  deploymentPath(guildId: string, slug: string, deployment: string): string {
    assertSlug(deployment);
    const projectPath = this.workspacePath(guildId, slug);
    const path = join(projectPath, deployment);
    const stats = lstatOrNull(path);
    if (stats && (!stats.isDirectory() || realpathSync(path) !== join(realpathOrSelf(projectPath), deployment))) throw new PathEscape();
    return path;
  }

  /** Deletes a deployment's folder (its state, plans and module files). Returns false when there was none. */
  removeDeployment(guildId: string, slug: string, deployment: string): boolean {
    const path = this.deploymentPath(guildId, slug, deployment);
    if (!lstatOrNull(path)) return false;
    rmSync(path, { recursive: true, force: true });
    return true;
  }

  /** Deletes a project's folder and everything in it. Returns false when there was none. Never follows a link out. */
  removeWorkspace(guildId: string, slug: string): boolean {
    const path = this.workspacePath(guildId, slug);
    if (!lstatOrNull(path)) return false;
    // rmSync removes links inside the tree rather than following them.
    rmSync(path, { recursive: true, force: true });
    return true;
  }

  #ensureRoot(): string {
    ensureDirectory(this.rootDir, 'DEPLOYMENTS_DIR', OWNER_ONLY);
    return realpathSync(this.rootDir);
  }
}

function guildFolderName(guildId: string): string {
  assertSnowflake(guildId, 'guildId');
  return `guild_${guildId}`;
}

function assertSlug(slug: string): void {
  if (!StateLayout.isSlug(slug)) {
    throw new InvalidProjectName(`"${printable(slug)}" is not a project folder name (lower-case letters, digits and dashes)`);
  }
}

/** Creates `parent/name` owner-only if missing, then proves it is a real directory directly inside `parent`. */
function ensureContainedDir(parent: string, name: string): string {
  const path = join(parent, name);
  const before = lstatOrNull(path);
  if (before?.isSymbolicLink()) throw new PathEscape();
  if (!before) {
    try {
      mkdirSync(path, { mode: OWNER_ONLY });
    } catch (error) {
      // Someone else created it between our look and our mkdir; the checks below decide whether it is acceptable.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const stats = lstatSync(path);
  if (stats.isSymbolicLink() || !stats.isDirectory()) throw new PathEscape();
  const real = realpathSync(path);
  if (real !== join(realpathSync(parent), name)) throw new PathEscape();
  if ((stats.mode & 0o077) !== 0) chmodSync(real, OWNER_ONLY);
  return real;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
