/**
 * The one owner of the `templates` and `guild_template_enablements` tables. Every read of a guild's templates is
 * scoped to that guild: a git template of another guild cannot be read through a method that takes a guild id.
 */
import { and, asc, eq, inArray, isNotNull, isNull, notInArray } from 'drizzle-orm';
import { z } from 'zod';
import { isUniqueViolation } from '../credentials/credential-rows.js';
import type { Db } from '../db/index.js';
import { guildTemplateEnablements, templates } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { TemplateNameTaken } from './errors.js';
import { templateVariableSchema } from './module-variables.js';
import type { Template, TemplateVariable } from './template.js';

/** A template with a row: what the store pinned, with the digest its files must still have. */
export type StoredTemplate = Template & { source: 'operator' | 'git'; pinnedRevision: string; filesDigest: string };

type Row = typeof templates.$inferSelect;

const storedVariables = z.array(templateVariableSchema);

function toTemplate(row: Row): StoredTemplate {
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
    // Written only by this class from checked values; parsed again so a hand-edited row cannot reach a deploy.
    variables: storedVariables.parse(JSON.parse(row.variables)) as TemplateVariable[],
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface PinnedFiles {
  pinnedRevision: string;
  filesDigest: string;
  variables: readonly TemplateVariable[];
}

export interface NewGitTemplate extends PinnedFiles {
  guildId: string;
  name: string;
  description?: string;
  gitUrl: string;
  gitSubdir: string;
  gitRef: string;
  createdBy: string;
}

export class TemplateRepository {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  // --- the operator's templates (no guild) -------------------------------------------------------------------

  /** The operator templates whose folder the last start-up found, by name. */
  operatorTemplates(): StoredTemplate[] {
    return this.db.select().from(templates).where(and(isNull(templates.guild_id), isNull(templates.missing_since))).orderBy(asc(templates.name)).all().map(toTemplate);
  }

  findOperator(name: string): StoredTemplate | undefined {
    const row = this.db.select().from(templates).where(and(isNull(templates.guild_id), eq(templates.name, name), isNull(templates.missing_since))).get();
    return row === undefined ? undefined : toTemplate(row);
  }

  /** Records what a start-up read from the operator's folder (new, changed, or as it was). */
  upsertOperator(name: string, pinned: PinnedFiles): { template: StoredTemplate; previousRevision: string | undefined } {
    const now = this.clock.now();
    const existing = this.db.select().from(templates).where(and(isNull(templates.guild_id), eq(templates.name, name))).get();
    const values = { pinned_revision: pinned.pinnedRevision, files_digest: pinned.filesDigest, variables: JSON.stringify(pinned.variables), missing_since: null };
    if (existing === undefined) {
      const row = this.db
        .insert(templates)
        .values({ guild_id: null, name, source: 'operator', ...values, created_by: 'system', created_at: now, updated_at: now })
        .returning()
        .get();
      return { template: toTemplate(row), previousRevision: undefined };
    }
    const changed = existing.pinned_revision !== pinned.pinnedRevision || existing.missing_since !== null;
    const row = changed ? this.db.update(templates).set({ ...values, updated_by: 'system', updated_at: now }).where(eq(templates.id, existing.id)).returning().get() : existing;
    return { template: toTemplate(row ?? existing), previousRevision: existing.pinned_revision };
  }

  /** Hides the operator templates whose folder is gone (their enablements are kept, should the folder come back). */
  markOperatorMissing(present: readonly string[]): string[] {
    const gone = this.db
      .update(templates)
      .set({ missing_since: this.clock.now() })
      .where(and(isNull(templates.guild_id), isNull(templates.missing_since), present.length > 0 ? notInArray(templates.name, [...present]) : undefined))
      .returning({ name: templates.name })
      .all();
    return gone.map((row) => row.name);
  }

  // --- enablement ------------------------------------------------------------------------------------------------

  /** The operator templates this guild enabled (and whose folder is present). */
  enabledFor(guildId: string): StoredTemplate[] {
    assertSnowflake(guildId, 'guildId');
    const enabled = this.db.select({ id: guildTemplateEnablements.template_id }).from(guildTemplateEnablements).where(eq(guildTemplateEnablements.guild_id, guildId)).all();
    if (enabled.length === 0) return [];
    return this.db
      .select()
      .from(templates)
      .where(and(isNull(templates.guild_id), isNull(templates.missing_since), inArray(templates.id, enabled.map((row) => row.id))))
      .orderBy(asc(templates.name))
      .all()
      .map(toTemplate);
  }

  isEnabled(guildId: string, templateId: number): boolean {
    return this.db.select().from(guildTemplateEnablements).where(and(eq(guildTemplateEnablements.guild_id, guildId), eq(guildTemplateEnablements.template_id, templateId))).get() !== undefined;
  }

  /** @returns false when it was enabled already. */
  enable(guildId: string, templateId: number, by: string): boolean {
    assertSnowflake(guildId, 'guildId');
    const inserted = this.db
      .insert(guildTemplateEnablements)
      .values({ guild_id: guildId, template_id: templateId, enabled_by: by, enabled_at: this.clock.now() })
      .onConflictDoNothing()
      .run();
    return inserted.changes > 0;
  }

  /** @returns false when it was not enabled. */
  disable(guildId: string, templateId: number): boolean {
    const deleted = this.db.delete(guildTemplateEnablements).where(and(eq(guildTemplateEnablements.guild_id, guildId), eq(guildTemplateEnablements.template_id, templateId))).run();
    return deleted.changes > 0;
  }

  // --- a guild's own templates (git) -----------------------------------------------------------------------------

  guildTemplates(guildId: string): StoredTemplate[] {
    assertSnowflake(guildId, 'guildId');
    return this.db.select().from(templates).where(eq(templates.guild_id, guildId)).orderBy(asc(templates.name)).all().map(toTemplate);
  }

  findGuildTemplate(guildId: string, name: string): StoredTemplate | undefined {
    assertSnowflake(guildId, 'guildId');
    const row = this.db.select().from(templates).where(and(isNotNull(templates.guild_id), eq(templates.guild_id, guildId), eq(templates.name, name))).get();
    return row === undefined ? undefined : toTemplate(row);
  }

  /** @throws TemplateNameTaken when the guild has one by that name (two admins adding at once). */
  insertGit(input: NewGitTemplate): StoredTemplate {
    assertSnowflake(input.guildId, 'guildId');
    const now = this.clock.now();
    try {
      const row = this.db
        .insert(templates)
        .values({
          guild_id: input.guildId,
          name: input.name,
          source: 'git',
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
        })
        .returning()
        .get();
      return toTemplate(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new TemplateNameTaken(input.name, 'git');
      throw error;
    }
  }

  /** Pins a guild's git template to new files; undefined when it is gone (removed meanwhile). */
  repin(guildId: string, templateId: number, pinned: PinnedFiles & { gitRef: string }, by: string): StoredTemplate | undefined {
    const row = this.db
      .update(templates)
      .set({
        git_ref: pinned.gitRef,
        pinned_revision: pinned.pinnedRevision,
        files_digest: pinned.filesDigest,
        variables: JSON.stringify(pinned.variables),
        updated_by: by,
        updated_at: this.clock.now(),
      })
      .where(and(eq(templates.id, templateId), eq(templates.guild_id, guildId)))
      .returning()
      .get();
    return row === undefined ? undefined : toTemplate(row);
  }

  /** @returns false when the guild had no such template. */
  removeGuildTemplate(guildId: string, templateId: number): boolean {
    return this.db.delete(templates).where(and(eq(templates.id, templateId), eq(templates.guild_id, guildId))).run().changes > 0;
  }
}
