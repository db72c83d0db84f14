/**
 * One engine command as the sandbox shows it to the engine: which host folders it sees and where, and the command
 * with every host path in it (arguments, HOME, TF_PLUGIN_CACHE_DIR, TF_DATA_DIR, PATH...) turned into the path the
 * engine sees. A host path the engine would not see is a bug in the caller, never silently passed on.
 *
 * The workspace is at `/ws`. The provider cache is at its own host path: the engine links
 * `.terraform/providers/...` to it by absolute path, and those links must lead to the same cache when the bot
 * checks the workspace (workspace-guard.ts) and when a later run goes without the sandbox. Each guild has a
 * cache of its own (`<cache>/by-guild/<guild id>`): the engine can write to it (init fills it), so a shared one
 * would let one guild's module replace a provider binary that another guild's run then starts with its credentials.
 */
import { existsSync, lstatSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, relative, resolve } from 'node:path';
import type { EngineCommand } from './process.js';
import { isWithin, systemPaths, WORKSPACE_INSIDE, type SandboxMount } from './sandbox-mounts.js';

/** What no folder the engine sees may overlap (from the bot's configuration; see sandbox-check.ts). */
export interface SandboxBoundaries {
  /** Trees the engine must never see any part of: the deployments root (every workspace), the database's folder. */
  hiddenTrees: readonly string[];
  /** Folders the engine may see parts of but never the whole: the bot's own folder, which holds its `.env`. */
  hiddenWholes: readonly string[];
}

export interface SandboxPolicy extends SandboxBoundaries {
  /** ENGINE_SANDBOX_READ_ONLY_PATHS: more folders the engine may read, at their own paths (checked at start-up). */
  readOnlyPaths: readonly string[];
}

export interface SandboxView {
  mounts: SandboxMount[];
  binary: string;
  args: string[];
  env: Record<string, string>;
}

/** Environment variables that hold a path (the rest are passed on as they are, credentials included). */
const PATH_VARIABLES = [
  'HOME',
  'TF_DATA_DIR',
  'TF_PLUGIN_CACHE_DIR',
  'TF_CLI_CONFIG_FILE',
  'TF_LOG_PATH',
  'TMPDIR',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
] as const;

/** A flag with a path value, `-out=/x`, `-chdir=/x`, `--state=/x`. */
const FLAG_WITH_PATH = /^(-{1,2}[A-Za-z][\w-]*=)(\/.*)$/;
const GUILD_ID = /^\d{1,20}$/;

export class SandboxPathHidden extends Error {
  constructor(what: string) {
    super(`${what} names a host path the engine sandbox does not show the engine`);
    this.name = 'SandboxPathHidden';
  }
}

/** Why `folder` may not be shown to engines (read-only), or undefined when it may. */
export function overlapWithPrivate(folder: string, boundaries: SandboxBoundaries): string | undefined {
  for (const tree of boundaries.hiddenTrees) {
    if (isWithin(folder, tree) || isWithin(tree, folder)) return tree;
  }
  for (const whole of boundaries.hiddenWholes) {
    if (isWithin(whole, folder)) return whole;
  }
  return undefined;
}

/** The mounts, binary, arguments and environment of `command` inside the sandbox. */
export function sandboxViewOf(command: EngineCommand, policy: SandboxPolicy): SandboxView {
  const workspace = resolve(command.cwd);
  const mounts: SandboxMount[] = [{ host: workspace, inside: WORKSPACE_INSIDE, writable: true }];
  const env = { ...command.env };

  const cache = env.TF_PLUGIN_CACHE_DIR;
  if (cache !== undefined) {
    const own = guildCache(cache, command.guildId);
    mounts.push({ host: own, inside: own, writable: true });
    env.TF_PLUGIN_CACHE_DIR = own;
  }
  for (const folder of policy.readOnlyPaths) {
    if (existsSync(folder)) mounts.push({ host: folder, inside: folder, writable: false });
  }
  const path = env.PATH;
  if (path !== undefined) env.PATH = visiblePath(path, policy, mounts);

  const binary = realpathSync(command.binary);
  if (overlapWithPrivate(binary, policy) !== undefined) throw new SandboxPathHidden('the engine binary');
  if (!isVisible(binary, mounts)) mounts.push({ host: binary, inside: binary, writable: false });

  const inside = (host: string, what: string): string => {
    const translated = insidePath(host, mounts) ?? (isSystem(resolve(host)) ? resolve(host) : undefined);
    if (translated === undefined) throw new SandboxPathHidden(what);
    return translated;
  };
  for (const name of PATH_VARIABLES) {
    const value = env[name];
    if (value !== undefined && isAbsolute(value)) env[name] = inside(value, name);
  }
  const args = command.args.map((arg, index) => {
    if (isAbsolute(arg)) return inside(arg, `argument ${index + 1}`);
    const flag = FLAG_WITH_PATH.exec(arg);
    return flag ? `${flag[1]}${inside(flag[2] as string, `argument ${index + 1}`)}` : arg;
  });
  return { mounts, binary, args, env };
}

/** `<cache>/by-guild/<guild id>`, created owner-only; the cache itself for a command that is no guild's run. */
function guildCache(cache: string, guildId: string | undefined): string {
  if (guildId !== undefined && !GUILD_ID.test(guildId)) throw new RangeError('guildId must be a Discord id');
  const root = resolve(cache);
  const own = guildId === undefined ? root : join(root, 'by-guild', guildId);
  mkdirSync(own, { recursive: true, mode: 0o700 });
  // Bound read-write: it must be that folder, not a link an engine left there (when it ran without the sandbox).
  for (const folder of guildId === undefined ? [] : [join(root, 'by-guild'), own]) {
    if (lstatSync(folder).isSymbolicLink()) throw new Error(`the provider cache folder ${relative(root, folder)} is a symbolic link; it is not bound into the sandbox`);
  }
  return own;
}

/**
 * The PATH the engine gets: the folders of `path` it can see. The system folders are there already; any other
 * folder is bound read-only at its own path, unless it overlaps what engines must not see (then it is left out).
 */
function visiblePath(path: string, policy: SandboxPolicy, mounts: SandboxMount[]): string {
  const kept: string[] = [];
  for (const entry of path.split(delimiter)) {
    if (!isAbsolute(entry) || kept.includes(entry)) continue;
    const folder = resolve(entry);
    if (isVisible(folder, mounts)) {
      kept.push(entry);
      continue;
    }
    // Checked, and bound, as what it really is: a link to the deployments root must not pass as any folder.
    const real = realFolder(folder);
    if (real === undefined || overlapWithPrivate(real, policy) !== undefined) continue;
    mounts.push({ host: real, inside: folder, writable: false });
    kept.push(entry);
  }
  return kept.join(delimiter);
}

function realFolder(path: string): string | undefined {
  try {
    const real = realpathSync(path);
    return statSync(real).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** Seen inside at its own path: under a system folder or a mount at its own path. */
function isVisible(path: string, mounts: readonly SandboxMount[]): boolean {
  return isSystem(path) || mounts.some((mount) => mount.host === mount.inside && isWithin(path, mount.host));
}

function isSystem(path: string): boolean {
  return systemPaths().some((system) => isWithin(path, system));
}

/** Where the engine sees `host`, through the innermost mount that holds it; undefined when none does. */
export function insidePath(host: string, mounts: readonly SandboxMount[]): string | undefined {
  const normalised = resolve(host);
  const holder = [...mounts].filter((mount) => isWithin(normalised, mount.host)).sort((a, b) => b.host.length - a.host.length)[0];
  if (!holder) return undefined;
  const rest = relative(holder.host, normalised);
  return rest === '' ? holder.inside : join(holder.inside, rest);
}
