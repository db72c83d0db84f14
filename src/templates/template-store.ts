/**
 * The bot's own copy of every git template, at the commit it was pinned to:
 * `<TEMPLATE_STORE_DIR>/guild_<guild id>/template_<id>/<commit>/`, owner-only, outside every deployment workspace
 * (an engine run in one workspace never sees another guild's templates, nor the next commit of its own). Deploys
 * copy from here, so what runs is exactly what was pinned until an admin updates the template.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Config } from '../config/index.js';
import { ensureDirectory } from '../shared/directories.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { readModuleFolder, writeModuleFiles, type ModuleFile } from './module-files.js';

const COMMIT = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** TEMPLATE_STORE_DIR, or `templates/` beside the database file (`./data/templates` for an in-memory database). */
export function templateStoreDir(config: Pick<Config, 'TEMPLATE_STORE_DIR' | 'DATABASE_PATH'>): string {
  if (config.TEMPLATE_STORE_DIR !== undefined) return resolve(config.TEMPLATE_STORE_DIR);
  if (config.DATABASE_PATH === ':memory:') return resolve('data', 'templates');
  return join(dirname(resolve(config.DATABASE_PATH)), 'templates');
}

/** Whether a scratch entry is named after a process still running (EPERM: running, as another user). */
function isRunningPid(name: string): boolean {
  if (!/^\d+$/.test(name) || Number(name) === process.pid) return false;
  try {
    process.kill(Number(name), 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(`${root}${sep}`);
}

export class TemplateStore {
  readonly rootDir: string;
  /** Where git's throw-away repositories are made; emptied at start-up. */
  readonly scratchDir: string;

  /**
   * @param outside folders the store must not be in, nor contain (the deployments root).
   * @throws Error naming TEMPLATE_STORE_DIR when it is inside one of them.
   */
  constructor(rootDir: string, outside: readonly string[] = []) {
    this.rootDir = resolve(rootDir);
    ensureDirectory(this.rootDir, 'TEMPLATE_STORE_DIR');
    const real = realOrSelf(this.rootDir);
    for (const folder of outside.map(realOrSelf)) {
      if (inside(folder, real) || inside(real, folder)) {
        throw new Error(`TEMPLATE_STORE_DIR cannot be used: ${this.rootDir} and the deployments folder ${folder} overlap; an engine run must never see the template store. Choose a folder outside DEPLOYMENTS_DIR.`);
      }
    }
    // One scratch folder per process: with shards, several bots share this store, and one starting up must empty
    // only what ended processes left, never the folder another shard is fetching in right now.
    const scratchRoot = join(this.rootDir, '.scratch');
    ensureDirectory(scratchRoot, 'TEMPLATE_STORE_DIR');
    for (const entry of readdirSync(scratchRoot)) {
      if (!isRunningPid(entry)) rmSync(join(scratchRoot, entry), { recursive: true, force: true });
    }
    this.scratchDir = join(scratchRoot, String(process.pid));
    rmSync(this.scratchDir, { recursive: true, force: true });
    ensureDirectory(this.scratchDir, 'TEMPLATE_STORE_DIR');
  }

  private templateDir(guildId: string, templateId: number): string {
    assertSnowflake(guildId, 'guildId');
    if (!Number.isSafeInteger(templateId) || templateId <= 0) throw new TypeError('templateId must be a positive integer');
    return join(this.rootDir, `guild_${guildId}`, `template_${templateId}`);
  }

  private commitDir(guildId: string, templateId: number, commit: string): string {
    if (!COMMIT.test(commit)) throw new TypeError('commit must be a full git object id');
    return join(this.templateDir(guildId, templateId), commit);
  }

  /** Writes the files of one commit (replacing an earlier copy of the same commit), all or nothing. */
  save(guildId: string, templateId: number, commit: string, files: readonly ModuleFile[]): void {
    const target = this.commitDir(guildId, templateId, commit);
    ensureDirectory(dirname(target), 'TEMPLATE_STORE_DIR');
    const incoming = `${target}.incoming-${randomBytes(4).toString('hex')}`;
    try {
      writeModuleFiles(files, incoming, { manifest: false });
      rmSync(target, { recursive: true, force: true });
      renameSync(incoming, target);
    } finally {
      rmSync(incoming, { recursive: true, force: true });
    }
  }

  /** The files of one commit, or undefined when the store has no copy. @throws ModuleRefused when the copy breaks a limit */
  load(guildId: string, templateId: number, commit: string): ModuleFile[] | undefined {
    const directory = this.commitDir(guildId, templateId, commit);
    if (!existsSync(directory)) return undefined;
    return readModuleFolder(directory);
  }

  /** Removes every commit of the template except `keep` (all of them when `keep` is undefined). */
  prune(guildId: string, templateId: number, keep?: string): void {
    const directory = this.templateDir(guildId, templateId);
    if (!existsSync(directory)) return;
    for (const entry of readdirSync(directory)) if (entry !== keep) rmSync(join(directory, entry), { recursive: true, force: true });
    if (keep === undefined) rmSync(directory, { recursive: true, force: true });
  }
}
