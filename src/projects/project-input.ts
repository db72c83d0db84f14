/**
 * What a new project must be before it is written, and how a typed reference picks a project among the rows that
 * match it: the rules both dialects' repositories follow (sqlite-project-repository.ts, pg-project-repository.ts).
 */
import { z } from 'zod';
import { CREDENTIAL_SOURCES, PROVIDERS, STATE_BACKENDS, type cloudProjects, type StateBackendKind } from '../db/schema.js';
import { assertSnowflake, snowflakeSchema } from '../shared/snowflake.js';
import { parseBackendSettings, type BackendSettings } from '../state/backend.js';
import { InvalidProjectName } from '../state/errors.js';
import { StateLayout } from '../state/layout.js';
import { InvalidProject } from './errors.js';
import type { NewProject, ProjectName } from './project.js';
import { normaliseRegion } from './regions.js';

export const VAULT_SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;

const newProjectSchema = z.object({
  provider: z.enum(PROVIDERS, { error: `a provider: ${PROVIDERS.join(', ')}` }),
  region: z.string({ error: 'a region' }),
  vaultSessionId: z.string().regex(VAULT_SESSION_ID, 'a vault session id').optional(),
  credentialSource: z.enum(CREDENTIAL_SOURCES, { error: `a credential source: ${CREDENTIAL_SOURCES.join(', ')}` }).optional(),
  credentialId: z.number().int().positive('a stored credential id').optional(),
  stateBackend: z.enum(STATE_BACKENDS, { error: `a state backend: ${STATE_BACKENDS.join(', ')}` }).optional(),
  createdBy: snowflakeSchema,
});

/** A row of cloud_projects as drizzle reads it (either dialect: the column names and types agree). */
export type ProjectRow = typeof cloudProjects.$inferSelect;

export interface CheckedProject {
  guildId: string;
  name: string;
  slug: string;
  /** The stored credential it uses, which must be the guild's and not deleted. */
  credentialId: number | undefined;
  /** Its row but the times, which the repository adds. */
  values: Omit<typeof cloudProjects.$inferInsert, 'created_at' | 'updated_at'>;
}

/**
 * A new project's row, checked.
 * @throws InvalidProjectName, InvalidRegion or InvalidProject for bad input (every problem listed where possible).
 */
export function checkedNewProject(input: NewProject): CheckedProject {
  assertSnowflake(input.guildId, 'guildId');
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  const slug = StateLayout.slugify(name);
  const parsed = newProjectSchema.safeParse(input);
  if (!parsed.success) throw new InvalidProject(parsed.error.issues.map((issue) => `expected ${issue.message}`));
  const valid = parsed.data;
  const region = normaliseRegion(valid.provider, valid.region);
  const { stateBackend, backendSettings } = resolveBackend(valid.stateBackend, input.backendSettings);
  const credentialSource = valid.credentialSource ?? (valid.credentialId === undefined ? 'ephemeral' : 'stored');
  if ((credentialSource === 'stored') !== (valid.credentialId !== undefined)) {
    throw new InvalidProject(['a stored credential is used exactly when the credential source is "stored"']);
  }
  return {
    guildId: input.guildId,
    name,
    slug,
    credentialId: valid.credentialId,
    values: {
      guild_id: input.guildId,
      name,
      slug,
      provider: valid.provider,
      region,
      vault_session_id: valid.vaultSessionId ?? null,
      credential_source: credentialSource,
      credential_id: valid.credentialId ?? null,
      state_backend: stateBackend,
      backend_settings: JSON.stringify(backendSettings),
      status: 'active',
      created_by: valid.createdBy,
    },
  };
}

/** @throws InvalidProject unless `sessionId` is a vault session id (or null: none). */
export function assertVaultSessionId(sessionId: string | null): void {
  if (sessionId !== null && !VAULT_SESSION_ID.test(sessionId)) throw new InvalidProject(['expected a vault session id']);
}

function resolveBackend(
  kind: StateBackendKind | undefined,
  settings: BackendSettings | undefined,
): { stateBackend: StateBackendKind; backendSettings: BackendSettings } {
  if (settings === undefined) {
    if (kind !== undefined && kind !== 'local') throw new InvalidProject([`the "${kind}" state backend needs its settings`]);
    return { stateBackend: 'local', backendSettings: { kind: 'local' } };
  }
  const backendSettings = parseBackendSettings(settings);
  if (kind !== undefined && kind !== backendSettings.kind) {
    throw new InvalidProject([`the state backend is "${kind}" but its settings are for "${backendSettings.kind}"`]);
  }
  return { stateBackend: backendSettings.kind, backendSettings };
}

/** A reference as typed (trimmed), and the folder name it stands for (or itself when it makes none: it can still match a name). */
export function referenceOf(slugOrName: string): { reference: string; slug: string } {
  const reference = typeof slugOrName === 'string' ? slugOrName.trim() : '';
  try {
    return { reference, slug: StateLayout.slugify(reference) };
  } catch (error) {
    if (!(error instanceof InvalidProjectName)) throw error;
    return { reference, slug: reference };
  }
}

/**
 * The project a reference means among the rows matching it by name or slug, live ones first: a live project wins
 * over a forgotten one of the same name, and an exact name over a slug match.
 */
export function projectReferenced(matches: readonly ProjectRow[], reference: string): ProjectRow | undefined {
  return matches.find((m) => m.name === reference) ?? matches[0];
}

/**
 * Up to `limit` of a guild's live project names (by name) that contain `typed`, in any case. Matched here, not in
 * SQL: SQLite's lower() folds ASCII letters only, so it would miss "CAFÉ" for "café".
 */
export function namesMatching(names: readonly ProjectName[], typed: string, limit: number): ProjectName[] {
  const wanted = typed.toLowerCase();
  if (wanted === '') return names.slice(0, limit);
  const found: ProjectName[] = [];
  for (const project of names) {
    if (found.length >= limit) break;
    if (project.name.toLowerCase().includes(wanted)) found.push(project);
  }
  return found;
}
