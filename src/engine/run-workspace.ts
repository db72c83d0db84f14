/**
 * Which folder a run works in, and so whose lock it holds: the project's own (`<guild>/<project>/`), where the bot
 * generates the built-ins' configuration, or a template deployment's (`<guild>/<project>/<deployment>/`), where the
 * template's module files are written. Each has its own lock, state, plan files and runs.
 */
import type { Project, Resource } from '../projects/index.js';
import { StateLayout } from '../state/index.js';

export interface RunWorkspace {
  project: Project;
  /** A template deployment's folder (Resource.workspace); undefined for the project's own folder. */
  deployment?: string | undefined;
}

/** The workspace a run of this resource uses (none given: the project's). */
export function workspaceOf(project: Project, resource?: Pick<Resource, 'workspace'>): RunWorkspace {
  return resource?.workspace ? { project, deployment: resource.workspace } : { project };
}

/** How a member reads which workspace is busy (the project, or the deployment in it), and its lease's key in its guild. */
export function workspaceLabel(workspace: RunWorkspace): string {
  return workspace.deployment ? `${workspace.project.slug}/${workspace.deployment}` : workspace.project.slug;
}

/** The folder, created owner-only if missing and proven to sit where it must (see StateLayout). */
export function openWorkspace(layout: StateLayout, workspace: RunWorkspace): string {
  const { guildId, slug } = workspace.project;
  return workspace.deployment ? layout.deploymentDir(guildId, slug, workspace.deployment) : layout.workspaceDir(guildId, slug);
}

/** Where the folder is, without creating it (for plan files that may or may not be there). */
export function workspaceLocation(layout: StateLayout, workspace: RunWorkspace): string {
  const { guildId, slug } = workspace.project;
  return workspace.deployment ? layout.deploymentPath(guildId, slug, workspace.deployment) : layout.workspacePath(guildId, slug);
}

/**
 * In the project's folder, the deployments' folders are its only sub-folders named like slugs: they are checked by
 * their own runs, and the project's engine never reads them (its own folders are `.terraform`, `.plans`, `.home`).
 */
export function isDeploymentFolderName(name: string): boolean {
  return StateLayout.isSlug(name);
}
