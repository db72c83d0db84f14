/**
 * Saved plan files (`.plans/run-<id>.tfplan` in a workspace). A real engine's plan file holds every variable value
 * in plain text (the provider's project id, for one), so each lives only as long as it can still be applied: it is
 * removed once applied or attempted, when discarded, when its plan run fails, when it expires, and at start-up when
 * a crash left a half-consumed `.applying` file behind.
 *
 * Every removal goes through `lstat` first and only ever unlinks entries of a real `.plans` folder: a `.plans`
 * link into someone else's folder is never listed or deleted through.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { isDeploymentFolderName } from './run-workspace.js';

export const PLANS_DIR = '.plans';
/** Suffix of a plan file that an apply has taken (renamed first, so a plan applies at most once). */
export const APPLYING_SUFFIX = '.applying';
const PLAN_NAME = /^run-(\d+)\.tfplan$/;

/** The plan file of run `runId`, relative to the workspace (what the engine is given and the run records). */
export function planFileFor(runId: number): string {
  return `${PLANS_DIR}/run-${runId}.tfplan`;
}

/** Creates `.plans` owner-only if missing. The workspace guard has already refused a `.plans` that is a link. */
export function ensurePlansDir(workspace: string): void {
  mkdirSync(join(workspace, PLANS_DIR), { recursive: true, mode: 0o700 });
}

/**
 * Removes a plan file and its `.applying` twin. Returns whether anything was there. Does nothing at all when
 * `.plans` is not a real folder (a link), and refuses any name outside `.plans`.
 */
export function removePlanFile(workspace: string, planFile: string): boolean {
  const name = planFile.startsWith(`${PLANS_DIR}/`) ? planFile.slice(PLANS_DIR.length + 1) : undefined;
  if (!name || !PLAN_NAME.test(name) || !isRealDir(join(workspace, PLANS_DIR))) return false;
  let removed = false;
  for (const candidate of [name, `${name}${APPLYING_SUFFIX}`]) {
    const path = join(workspace, PLANS_DIR, candidate);
    if (!lstatOrUndefined(path)) continue;
    // rmSync on a link removes the link itself, never its target.
    rmSync(path, { force: true });
    removed = true;
  }
  return removed;
}

/** Whether plan file `planFile` is still there (a regular file in a real `.plans`), for "can this be applied?". */
export function planFileExists(workspace: string, planFile: string): boolean {
  if (!isRealDir(join(workspace, PLANS_DIR))) return false;
  return lstatOrUndefined(join(workspace, planFile))?.isFile() === true;
}

/**
 * Removes every entry of `.plans` but the plan files `keep(runId)` still wants: `.applying` leftovers (no apply runs
 * while the caller holds the workspace, or at start-up), plans `keep` rejects, and anything that is not a plan file.
 * Returns how many entries were removed.
 */
export async function prunePlans(workspace: string, keep: (runId: number) => Promise<boolean>): Promise<number> {
  const dir = join(workspace, PLANS_DIR);
  if (!isRealDir(dir)) return 0;
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const match = PLAN_NAME.exec(name);
    const stats = lstatOrUndefined(join(dir, name));
    if (match && stats?.isFile() && (await keep(Number(match[1])))) continue;
    // recursive: a stray folder goes too; rm never follows links inside it.
    rmSync(join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/**
 * At start-up: prunes `.plans` of every workspace under the deployments root: projects' (`<root>/guild_<id>/<slug>/`)
 * and their template deployments' (`<slug>/<deployment>/`). Folders that are links are skipped, not followed.
 */
export async function prunePlansEverywhere(rootDir: string, keep: (guildId: string, runId: number) => Promise<boolean>): Promise<number> {
  if (!isRealDir(rootDir)) return 0;
  let removed = 0;
  for (const guildFolder of readdirSync(rootDir)) {
    const guildId = /^guild_(\d+)$/.exec(guildFolder)?.[1];
    const guildDir = join(rootDir, guildFolder);
    if (!guildId || !isRealDir(guildDir)) continue;
    for (const slug of readdirSync(guildDir)) {
      const workspace = join(guildDir, slug);
      if (!isRealDir(workspace)) continue;
      removed += await prunePlans(workspace, (runId) => keep(guildId, runId));
      for (const deployment of readdirSync(workspace).filter(isDeploymentFolderName)) {
        const folder = join(workspace, deployment);
        if (isRealDir(folder)) removed += await prunePlans(folder, (runId) => keep(guildId, runId));
      }
    }
  }
  return removed;
}

/** The SHA-256 of a plan file: recorded with the plan, checked before it is applied (what was shown is applied). */
export function planDigest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function isRealDir(path: string): boolean {
  return lstatOrUndefined(path)?.isDirectory() === true;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
