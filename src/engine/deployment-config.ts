/**
 * What a template deployment's workspace holds before `init`: the template's module files (written by the
 * catalogue, exactly as pinned), the backend with the deployment's own state key, and its non-sensitive inputs as
 * `cloud-chatops.auto.tfvars.json` (read by the engine as literal values: no `${...}` in them is ever evaluated).
 * Sensitive inputs never come here: they reach the engine only as `TF_VAR_<name>` in its environment.
 *
 * Every file is written by the bot, owner-only, with relative content only (the engine may see the workspace at
 * another path, inside a sandbox). Ours are written after the module's, so a module cannot replace them.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '../projects/index.js';
import { backendBlock, BACKEND_FILE_NAME, parseBackendSettings, writeBackendFile } from '../state/index.js';
import { writePrivateFile } from '../state/private-file.js';
import type { StepContext } from './engine-steps.js';
import { UnsupportedResource } from './errors.js';
import type { PlanSummary } from './plan-summary.js';

/** The non-sensitive inputs, by variable name. */
export const INPUTS_FILE = 'cloud-chatops.auto.tfvars.json';

/** The catalogue's side of a deployment's module files (TemplateCatalogue.materialise and recheckWritten). */
export interface ModuleFiles {
  /** Writes a template's module files, as pinned, into a deployment's folder, checked first. */
  write(guildId: string, template: string, directory: string): Promise<void>;
  /** Checks again the module files already in a deployment's folder; `botFiles` are ours, not the module's. */
  recheck(directory: string, botFiles: readonly string[]): Promise<void>;
}

/** Top-level files of a deployment's folder that the bot writes itself, never the module. */
const BOT_FILES = [BACKEND_FILE_NAME];

/**
 * The module files, then the backend and the inputs. The caller holds the workspace. `pinned` (a plan) writes the
 * template as pinned now; `last-plan` (a destroy, outputs) keeps the files its last plan wrote, which the template may
 * no longer have, and checks them again with today's rules (written afresh when the folder has none).
 * @throws what the catalogue throws (TemplateNotFound, TemplateChanged, ModuleBackendRefused, ForbiddenModule, …):
 * the run fails with it, before the engine starts.
 */
export async function writeDeploymentConfiguration(ctx: StepContext, resource: Resource, modules: ModuleFiles | undefined, files: 'pinned' | 'last-plan'): Promise<void> {
  const { project, workspace, deployment } = ctx;
  if (!deployment) throw new TypeError('a template deployment runs in its own folder');
  if (modules && files === 'last-plan' && hasModuleFiles(workspace)) await modules.recheck(workspace, BOT_FILES);
  else if (modules) await modules.write(project.guildId, resource.template, workspace);
  const settings = parseBackendSettings({ ...project.backendSettings, kind: project.stateBackend });
  writeBackendFile(workspace, backendBlock(project.stateBackend, project.guildId, project.slug, settings, deployment));
  writePrivateFile(join(workspace, INPUTS_FILE), `${JSON.stringify(resource.inputs, null, 2)}\n`);
}

/** Whether the folder still holds module files (a destroy uses those its last plan wrote). */
export function hasModuleFiles(workspace: string): boolean {
  return readdirSync(workspace).some((name) => (name.endsWith('.tf') || name.endsWith('.tf.json')) && name !== BACKEND_FILE_NAME);
}

/** The catalogue's module files; a runner built without one cannot plan a template deployment. */
export function requireModules(modules: ModuleFiles | undefined): ModuleFiles {
  if (!modules) throw new UnsupportedResource('this bot has no template catalogue, so it cannot plan a template deployment');
  return modules;
}

/** What a template deployment owns after a plan: what its state held (less what the plan deletes) and what it adds. */
export function ownedAfterPlan(before: readonly string[], plan: PlanSummary): string[] {
  const kept = before.filter((address) => !plan.delete.includes(address));
  return [...new Set([...kept, ...plan.create, ...plan.update, ...plan.replace])];
}
