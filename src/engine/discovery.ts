import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { execa } from 'execa';
import { versionArgs } from './commands/version.js';
import { z } from 'zod';
import { ENGINES, type EngineName } from '../db/schema.js';
import type { Logger } from '../logging/logger.js';
import { baseChildEnv } from './child-env.js';
import { NoEngineInstalled, engineLabel } from './errors.js';

/** An engine binary that was found and answered `version -json`. */
export interface DiscoveredEngine {
  name: EngineName;
  /** Absolute path of the binary; runs use it directly, never a PATH lookup. */
  path: string;
  version: string;
  platform: string;
}

export interface EngineSelection {
  engine: DiscoveredEngine;
  /** True when the preferred engine was missing and the other one is used. */
  fellBack: boolean;
  /** For the user, when `fellBack`: which engine runs instead of which. */
  notice?: string;
}

/** `version -json` as documented; OpenTofu also reports its version under `terraform_version`. */
const versionOutputSchema = z.object({
  terraform_version: z.string().min(1).max(64),
  platform: z.string().max(64).optional(),
  provider_selections: z.record(z.string(), z.string()).optional(),
  terraform_outdated: z.boolean().optional(),
});

export interface DiscoveryOptions {
  /** A folder searched before PATH (config IAC_BIN_DIR). */
  binDir?: string;
  /** The PATH to search; defaults to the bot's own. */
  pathEnv?: string;
  /** HOME for the version probe. */
  home?: string;
  /** How long one `version -json` may take. */
  probeTimeoutMs?: number;
}

/** Folders to search, in order: the configured bin folder, then every absolute PATH entry. */
export function searchDirs(options: DiscoveryOptions): string[] {
  const fromPath = (options.pathEnv ?? process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '' && isAbsolute(dir));
  return [...(options.binDir ? [options.binDir] : []), ...fromPath];
}

/** The first executable regular file called `name` in `dirs`. */
export function findExecutable(name: string, dirs: string[]): string | undefined {
  return findExecutableFile(name, dirs)?.path;
}

/** The first executable regular file called `name` in `dirs`, with what stat said of it. */
function findExecutableFile(name: string, dirs: string[]): { path: string; stats: Stats } | undefined {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      const stats = statSync(candidate);
      if (!stats.isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return { path: candidate, stats };
    } catch {
      // Not there or not executable: keep looking.
    }
  }
  return undefined;
}

/** Runs `<binary> version -json` and validates the answer; undefined when the binary does not behave like an engine. */
export async function probeEngine(
  name: EngineName,
  path: string,
  options: DiscoveryOptions,
  logger?: Logger,
): Promise<DiscoveredEngine | undefined> {
  try {
    const result = await execa(path, versionArgs(), {
      env: baseChildEnv({ pathEnv: options.pathEnv ?? process.env.PATH ?? '', home: options.home }),
      extendEnv: false,
      timeout: options.probeTimeoutMs ?? 15_000,
      reject: false,
      stdin: 'ignore',
      maxBuffer: 1_000_000,
    });
    if (result.exitCode !== 0) {
      logger?.warn({ engine: name, path, exitCode: result.exitCode }, 'engine binary failed `version -json`; ignoring it');
      return undefined;
    }
    const parsed = versionOutputSchema.safeParse(JSON.parse(String(result.stdout)));
    if (!parsed.success) {
      logger?.warn({ engine: name, path }, 'engine binary gave an unexpected `version -json`; ignoring it');
      return undefined;
    }
    return { name, path, version: parsed.data.terraform_version, platform: parsed.data.platform ?? 'unknown' };
  } catch (error) {
    logger?.warn({ engine: name, path, err: error }, 'could not run engine binary; ignoring it');
    return undefined;
  }
}

/** Every engine found in the bin folder or on PATH that answers `version -json`. */
export async function discoverEngines(options: DiscoveryOptions = {}, logger?: Logger): Promise<DiscoveredEngine[]> {
  return new EngineProbeCache().discover(options, logger);
}

/**
 * Engine discovery that probes each binary once for as long as it stays the same file. Finding the binaries costs a
 * few `stat`s; `version -json` costs a process start (~45 ms for terraform), so a run only pays it for a binary
 * that is new or was replaced (another path, size, mtime, ctime or inode), never merely because time passed.
 */
export class EngineProbeCache {
  readonly #probes = new Map<string, { fingerprint: string; engine: Promise<DiscoveredEngine | undefined> }>();

  async discover(options: DiscoveryOptions = {}, logger?: Logger): Promise<DiscoveredEngine[]> {
    const dirs = searchDirs(options);
    const found = await Promise.all(
      ENGINES.map((name) => {
        const file = findExecutableFile(name, dirs);
        return file ? this.#probe(name, file.path, fingerprintOf(file.stats), options, logger) : undefined;
      }),
    );
    return found.filter((engine): engine is DiscoveredEngine => engine !== undefined);
  }

  /** Forgets every probe: the next discovery runs `version -json` again. */
  clear(): void {
    this.#probes.clear();
  }

  #probe(name: EngineName, path: string, fingerprint: string, options: DiscoveryOptions, logger?: Logger): Promise<DiscoveredEngine | undefined> {
    const key = `${name}\u0000${path}`;
    const known = this.#probes.get(key);
    if (known?.fingerprint === fingerprint) return known.engine;
    const engine = probeEngine(name, path, options, logger);
    const entry = { fingerprint, engine };
    this.#probes.set(key, entry);
    // Only an answer is kept: a probe can fail for a passing reason (a timeout on a busy host), and a binary that
    // failed must not count as missing until it happens to change.
    void engine.then((found) => {
      if (!found && this.#probes.get(key) === entry) this.#probes.delete(key);
    });
    return engine;
  }
}

/** What changes when a binary is replaced or rewritten: size, modification and change times, inode. */
function fingerprintOf(stats: Stats): string {
  return `${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}:${stats.ino}:${stats.dev}`;
}

/**
 * The guild's preferred engine when it is installed, otherwise the other one with a notice for the user (and a
 * warning in the log). Throws NoEngineInstalled when there is neither.
 */
export function selectEngine(preference: EngineName, available: readonly DiscoveredEngine[], logger?: Logger): EngineSelection {
  const preferred = available.find((engine) => engine.name === preference);
  if (preferred) return { engine: preferred, fellBack: false };
  const other = available.find((engine) => engine.name !== preference);
  if (!other) throw new NoEngineInstalled();
  const notice =
    `${engineLabel(preference)} is this server's preferred engine but it is not installed on the bot host, ` +
    `so ${engineLabel(other.name)} ${other.version} was used instead.`;
  logger?.warn({ preferred: preference, used: other.name, version: other.version }, 'preferred IaC engine missing; falling back');
  return { engine: other, fellBack: true, notice };
}
