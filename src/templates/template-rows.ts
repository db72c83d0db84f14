/** A `templates` row into a StoredTemplate, the same on both dialects (their rows have the same columns and types). */
import { z } from 'zod';
import type { templates } from '../db/schema.js';
import { templateVariableSchema } from './module-variables.js';
import type { NewGitTemplate, PinnedFiles, StoredTemplate } from './template-repository.js';
import type { TemplateVariable } from './template.js';

export type TemplateRow = typeof templates.$inferSelect;

const storedVariables = z.array(templateVariableSchema);

export function toTemplate(row: TemplateRow): StoredTemplate {
  return {
    id: row.id,
    guildId: row.guild_id,
    name: row.name,
    source: row.source,
    description: row.description ?? undefined,
    gitUrl: row.git_url ?? undefined,
    gitSubdir: row.git_subdir ?? undefined,
    gitRef: row.git_ref ?? undefined,
    pinnedRevision: row.pinned_revision,
    filesDigest: row.files_digest,
    // Written only by the repositories from checked values; parsed again so a hand-edited row cannot reach a deploy.
    variables: storedVariables.parse(JSON.parse(row.variables)) as TemplateVariable[],
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The columns an operator template's (re)pin writes; `missing_since: null`: its folder is there again. */
export function operatorPinColumns(pinned: PinnedFiles) {
  return { pinned_revision: pinned.pinnedRevision, files_digest: pinned.filesDigest, variables: JSON.stringify(pinned.variables), missing_since: null };
}

/** A new git template's row. */
export function gitTemplateRow(input: NewGitTemplate, now: number) {
  return {
    guild_id: input.guildId,
    name: input.name,
    source: 'git' as const,
    description: input.description ?? null,
    git_url: input.gitUrl,
    git_subdir: input.gitSubdir,
    git_ref: input.gitRef,
    pinned_revision: input.pinnedRevision,
    files_digest: input.filesDigest,
    variables: JSON.stringify(input.variables),
    created_by: input.createdBy,
    created_at: now,
    updated_by: input.createdBy,
    updated_at: now,
  };
}

/** The columns a git template's repin writes. */
export function repinColumns(pinned: PinnedFiles & { gitRef: string }, by: string, now: number) {
  return { git_ref: pinned.gitRef, pinned_revision: pinned.pinnedRevision, files_digest: pinned.filesDigest, variables: JSON.stringify(pinned.variables), updated_by: by, updated_at: now };
}
