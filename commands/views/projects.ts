import { z } from 'zod';
import type { AppContext } from '../../src/app/context.js';
import { STATE_BACKENDS } from '../../src/db/schema.js';
import type { Project } from '../../src/projects/project-repository.js';
import { ProjectNotFound } from '../../src/projects/errors.js';
import { refuseInvisible } from '../../src/shared/member-text.js';

export const projectNameOption = z
  .string()
  .trim()
  .min(1, 'give the project a name')
  .max(64, 'at most 64 characters')
  .superRefine(refuseInvisible);
/** The shape every provider's region names share; spaces for Azure's display names ("East US"). Each provider's own rule follows. */
export const regionOption = z
  .string()
  .trim()
  .regex(/^[a-zA-Z0-9 -]{2,40}$/, 'a region name such as us-central1, eu-west-1, westeurope or "East US"');
export const stateBackendOption = z.enum(STATE_BACKENDS, { error: `choose one of ${STATE_BACKENDS.join(', ')}` });

export const STATE_BACKEND_CHOICES = [
  { name: 'local (on the bot’s disk)', value: 'local' },
  { name: 'S3 or S3-compatible', value: 's3' },
  { name: 'Google Cloud Storage', value: 'gcs' },
  { name: 'Azure Storage (azurerm)', value: 'azurerm' },
] as const;

/** The project of that name or slug in this guild, or undefined. Another guild's project is never found. */
export async function findProject(app: AppContext, guildId: string, nameOrSlug: string): Promise<Project | undefined> {
  try {
    return await app.projects.get(guildId, nameOrSlug);
  } catch (error) {
    if (error instanceof ProjectNotFound) return undefined;
    throw error;
  }
}
