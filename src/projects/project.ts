/**
 * What a cloud project is to the rest of the bot, and how a row of cloud_projects becomes one.
 */
import type { cloudProjects, CredentialSource, Provider, StateBackendKind } from '../db/schema.js';
import { parseBackendSettings, type BackendSettings } from '../state/backend.js';

export type ProjectStatus = 'active' | 'archived';

export interface Project {
  id: number;
  guildId: string;
  name: string;
  /** Folder name under the guild's state folder; see StateLayout.slugify. */
  slug: string;
  provider: Provider;
  region: string;
  vaultSessionId: string | null;
  credentialSource: CredentialSource;
  credentialId: number | null;
  stateBackend: StateBackendKind;
  backendSettings: BackendSettings;
  status: ProjectStatus;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface NewProject {
  guildId: string;
  name: string;
  provider: Provider;
  region: string;
  vaultSessionId?: string;
  credentialSource?: CredentialSource;
  credentialId?: number;
  stateBackend?: StateBackendKind;
  backendSettings?: BackendSettings;
  createdBy: string;
}

/** What autocomplete shows of a project. */
export type ProjectName = Readonly<Pick<Project, 'name' | 'provider' | 'region'>>;

export interface ProjectQuery {
  /** Archived projects are left out unless asked for. */
  includeArchived?: boolean;
}

type ProjectRow = typeof cloudProjects.$inferSelect;

/** A row of cloud_projects as the rest of the bot sees it. */
export function toProject(row: ProjectRow): Project {
  let settings: unknown;
  try {
    settings = JSON.parse(row.backend_settings);
  } catch {
    settings = null;
  }
  // The column's default, '{}', predates settings that name their kind: for local state there is nothing else to say.
  if (row.state_backend === 'local' && isEmptyObject(settings)) settings = { kind: 'local' };
  return {
    id: row.id,
    guildId: row.guild_id,
    name: row.name,
    slug: row.slug,
    provider: row.provider,
    region: row.region,
    vaultSessionId: row.vault_session_id,
    credentialSource: row.credential_source,
    credentialId: row.credential_id,
    stateBackend: row.state_backend,
    backendSettings: parseBackendSettings(settings),
    status: row.status,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}
