/**
 * "Is this workspace safe to run an engine in?", asked right before every run.
 *
 * `StateLayout` proves the workspace folder itself sits where it must. This looks inside it: the bot and the engine
 * never create a symbolic link there except the engine's links from `.terraform/providers/` into the shared plugin
 * cache, and never a second hard link to a file. Anything else (a `.plans`, `.home` or `terraform.tfstate` link
 * into another guild's folder, say) would make plan pruning delete, or the engine read and write, files that are
 * not this project's. So the run is refused and everything is left exactly as found for the operator to inspect.
 *
 * Why refuse rather than remove the link: a `terraform.tfstate` link may be the only way to this project's real
 * state (an operator moving storage); removing it would make the next plan recreate every resource. A link is
 * never the bot's own doing, so a person should look at it.
 */
import { lstatSync, readdirSync, realpathSync, type Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { WorkspaceUnsafe } from './errors.js';

/** Where the engine's provider links live, relative to the workspace. */
const PROVIDER_LINKS = join('.terraform', 'providers');
/** Enough for any workspace this bot makes (a few dozen entries plus providers); a bound on a hostile tree. */
const MAX_ENTRIES = 20_000;

export interface WorkspaceCheck {
  /** The workspace folder (already proven by StateLayout.workspaceDir). */
  workspace: string;
  /** The shared provider cache: the only place provider links may point to. */
  pluginCacheDir: string;
  logger?: Logger;
  /**
   * Top-level folders not to walk: in a project's folder, its template deployments' folders, which are checked by
   * their own runs (only real folders are skipped; a link by that name is still refused).
   */
  skipFolder?: (name: string) => boolean;
}

export interface UnsafeEntry {
  /** Path relative to the workspace, safe to show (it names this project's own entry, not the target). */
  entry: string;
  reason: 'symlink' | 'hard link' | 'special file';
}

/** Every entry that makes the workspace unsafe, in walk order. Reads only `lstat`, never follows a link. */
export function findUnsafeEntries(check: WorkspaceCheck): UnsafeEntry[] {
  const unsafe: UnsafeEntry[] = [];
  const cacheReal = realpathOrUndefined(check.pluginCacheDir);
  let seen = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (++seen > MAX_ENTRIES) return;
      const path = join(dir, name);
      const rel = relative(check.workspace, path);
      const stats = lstatSync(path);
      if (stats.isSymbolicLink()) {
        if (!isProviderLink(rel, path, cacheReal)) unsafe.push({ entry: rel, reason: 'symlink' });
      } else if (stats.isDirectory()) {
        if (dir === check.workspace && check.skipFolder?.(name)) continue;
        walk(path);
      } else if (!stats.isFile()) {
        unsafe.push({ entry: rel, reason: 'special file' });
      } else if (isSharedFile(stats, rel)) {
        unsafe.push({ entry: rel, reason: 'hard link' });
      }
    }
  };
  walk(check.workspace);
  return unsafe;
}

/**
 * Throws WorkspaceUnsafe (after logging the details for the operator) when the workspace holds an entry the bot
 * would otherwise follow; nothing in it is changed.
 */
export function assertWorkspaceSafe(check: WorkspaceCheck): void {
  const unsafe = findUnsafeEntries(check);
  if (unsafe.length === 0) return;
  check.logger?.error({ workspace: check.workspace, unsafe }, 'refused to run in a workspace holding links or special files');
  throw new WorkspaceUnsafe(unsafe.map((u) => u.entry));
}

/** A provider link made by `init` with TF_PLUGIN_CACHE_DIR: under .terraform/providers/, into the cache. */
function isProviderLink(rel: string, path: string, cacheReal: string | undefined): boolean {
  if (!cacheReal || !rel.startsWith(PROVIDER_LINKS + sep)) return false;
  const target = realpathOrUndefined(path);
  return target !== undefined && (target === cacheReal || target.startsWith(cacheReal + sep));
}

/**
 * A second name for a file elsewhere (the engine rewrites state in place, so it would write through it). The
 * engine's own folder is left out: provider binaries there may legitimately be hard-linked from the cache.
 */
function isSharedFile(stats: Stats, rel: string): boolean {
  return stats.nlink > 1 && !rel.startsWith(`.terraform${sep}`);
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
