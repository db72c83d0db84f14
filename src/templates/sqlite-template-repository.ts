/**
 * The templates on SQLite (see template-repository.ts for what each method does): drizzle run synchronously inside
 * `async` methods. The reads of /cloud-deploy's template autocomplete (a guild's own templates and those it enabled)
 * are prepared once.
 */
import { and, asc, eq, inArray, isNotNull, isNull, notInArray, sql } from 'drizzle-orm';
import { isUniqueViolation } from '../credentials/credential-rows.js';
import type { Db } from '../db/index.js';
import { guildTemplateEnablements, templates } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { TemplateNameTaken } from './errors.js';
import type { NewGitTemplate, PinnedFiles, StoredTemplate, TemplateRepository } from './template-repository.js';
import { gitTemplateRow, operatorPinColumns, repinColumns, toTemplate } from './template-rows.js';

function guildTemplatesQuery(db: Db) {
  return db.select().from(templates).where(eq(templates.guild_id, sql.placeholder('guildId'))).orderBy(asc(templates.name)).prepare();
}

function enabledQuery(db: Db) {
  const enabledIds = db.select({ id: guildTemplateEnablements.template_id }).from(guildTemplateEnablements).where(eq(guildTemplateEnablements.guild_id, sql.placeholder('guildId')));
  return db
    .select()
    .from(templates)
    .where(and(isNull(templates.guild_id), isNull(templates.missing_since), inArray(templates.id, enabledIds)))
    .orderBy(asc(templates.name))
    .prepare();
}

export class SqliteTemplateRepository implements TemplateRepository {
  readonly #guildTemplates: ReturnType<typeof guildTemplatesQuery>;
  readonly #enabled: ReturnType<typeof enabledQuery>;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.#guildTemplates = guildTemplatesQuery(db);
    this.#enabled = enabledQuery(db);
  }

  async operatorTemplates(): Promise<StoredTemplate[]> {
    return this.db.select().from(templates).where(and(isNull(templates.guild_id), isNull(templates.missing_since))).orderBy(asc(templates.name)).all().map(toTemplate);
  }

  async findOperator(name: string): Promise<StoredTemplate | undefined> {
    const row = this.db.select().from(templates).where(and(isNull(templates.guild_id), eq(templates.name, name), isNull(templates.missing_since))).get();
    return row === undefined ? undefined : toTemplate(row);
  }

  async upsertOperator(name: string, pinned: PinnedFiles): Promise<{ template: StoredTemplate; previousRevision: string | undefined }> {
    const now = this.clock.now();
    const existing = this.db.select().from(templates).where(and(isNull(templates.guild_id), eq(templates.name, name))).get();
    const values = operatorPinColumns(pinned);
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

  async markOperatorMissing(present: readonly string[]): Promise<string[]> {
    const gone = this.db
      .update(templates)
      .set({ missing_since: this.clock.now() })
      .where(and(isNull(templates.guild_id), isNull(templates.missing_since), present.length > 0 ? notInArray(templates.name, [...present]) : undefined))
      .returning({ name: templates.name })
      .all();
    return gone.map((row) => row.name).sort();
  }

  async enabledFor(guildId: string): Promise<StoredTemplate[]> {
    assertSnowflake(guildId, 'guildId');
    return this.#enabled.all({ guildId }).map(toTemplate);
  }

  async isEnabled(guildId: string, templateId: number): Promise<boolean> {
    return this.db.select().from(guildTemplateEnablements).where(and(eq(guildTemplateEnablements.guild_id, guildId), eq(guildTemplateEnablements.template_id, templateId))).get() !== undefined;
  }

  async enable(guildId: string, templateId: number, by: string): Promise<boolean> {
    assertSnowflake(guildId, 'guildId');
    const inserted = this.db
      .insert(guildTemplateEnablements)
      .values({ guild_id: guildId, template_id: templateId, enabled_by: by, enabled_at: this.clock.now() })
      .onConflictDoNothing()
      .run();
    return inserted.changes > 0;
  }

  async disable(guildId: string, templateId: number): Promise<boolean> {
    const deleted = this.db.delete(guildTemplateEnablements).where(and(eq(guildTemplateEnablements.guild_id, guildId), eq(guildTemplateEnablements.template_id, templateId))).run();
    return deleted.changes > 0;
  }

  async guildTemplates(guildId: string): Promise<StoredTemplate[]> {
    assertSnowflake(guildId, 'guildId');
    return this.#guildTemplates.all({ guildId }).map(toTemplate);
  }

  async findGuildTemplate(guildId: string, name: string): Promise<StoredTemplate | undefined> {
    assertSnowflake(guildId, 'guildId');
    const row = this.db.select().from(templates).where(and(isNotNull(templates.guild_id), eq(templates.guild_id, guildId), eq(templates.name, name))).get();
    return row === undefined ? undefined : toTemplate(row);
  }

  async insertGit(input: NewGitTemplate): Promise<StoredTemplate> {
    assertSnowflake(input.guildId, 'guildId');
    try {
      return toTemplate(this.db.insert(templates).values(gitTemplateRow(input, this.clock.now())).returning().get());
    } catch (error) {
      if (isUniqueViolation(error)) throw new TemplateNameTaken(input.name, 'git');
      throw error;
    }
  }

  async repin(guildId: string, templateId: number, pinned: PinnedFiles & { gitRef: string }, by: string): Promise<StoredTemplate | undefined> {
    const row = this.db
      .update(templates)
      .set(repinColumns(pinned, by, this.clock.now()))
      .where(and(eq(templates.id, templateId), eq(templates.guild_id, guildId)))
      .returning()
      .get();
    return row === undefined ? undefined : toTemplate(row);
  }

  async removeGuildTemplate(guildId: string, templateId: number): Promise<boolean> {
    return this.db.delete(templates).where(and(eq(templates.id, templateId), eq(templates.guild_id, guildId))).run().changes > 0;
  }
}
