/**
 * The templates on PostgreSQL (see template-repository.ts for what each method does), over pg-schema.ts. Names are
 * ordered bytewise (`COLLATE "C"`), as SQLite orders them. Two processes may write at once (shards starting
 * together record the operator's folder; two admins add a template of one name): conflicts are written as
 * `ON CONFLICT DO NOTHING`, so the loser reads what the winner wrote instead of failing on the unique index.
 */
import { and, eq, isNotNull, isNull, notInArray, sql, type SQL } from 'drizzle-orm';
import type { PostgresSession } from '../db/data-access.js';
import { guildTemplateEnablements, templates } from '../db/pg-schema.js';
import type { Clock } from '../shared/clock.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { TemplateNameTaken } from './errors.js';
import type { NewGitTemplate, PinnedFiles, StoredTemplate, TemplateRepository } from './template-repository.js';
import { gitTemplateRow, operatorPinColumns, repinColumns, toTemplate } from './template-rows.js';

const BY_NAME = sql`${templates.name} COLLATE "C"`;

export class PgTemplateRepository implements TemplateRepository {
  constructor(
    private readonly session: PostgresSession,
    private readonly clock: Clock,
  ) {}

  get #db() {
    return this.session.db;
  }

  async operatorTemplates(): Promise<StoredTemplate[]> {
    return this.#many(and(isNull(templates.guild_id), isNull(templates.missing_since)));
  }

  async findOperator(name: string): Promise<StoredTemplate | undefined> {
    return this.#one(and(isNull(templates.guild_id), eq(templates.name, name), isNull(templates.missing_since)));
  }

  async upsertOperator(name: string, pinned: PinnedFiles): Promise<{ template: StoredTemplate; previousRevision: string | undefined }> {
    const now = this.clock.now();
    const values = operatorPinColumns(pinned);
    let existing = await this.#operatorRow(name);
    if (existing === undefined) {
      const [inserted] = await this.#db
        .insert(templates)
        .values({ guild_id: null, name, source: 'operator', ...values, created_by: 'system', created_at: now, updated_at: now })
        .onConflictDoNothing()
        .returning();
      if (inserted) return { template: toTemplate(inserted), previousRevision: undefined };
      // Another process recorded it between the read and the insert: its row is the one to compare with.
      existing = await this.#operatorRow(name);
      if (existing === undefined) throw new Error(`operator template ${name} could be neither inserted nor read`);
    }
    const changed = existing.pinned_revision !== pinned.pinnedRevision || existing.missing_since !== null;
    const [row] = changed ? await this.#db.update(templates).set({ ...values, updated_by: 'system', updated_at: now }).where(eq(templates.id, existing.id)).returning() : [existing];
    return { template: toTemplate(row ?? existing), previousRevision: existing.pinned_revision };
  }

  async markOperatorMissing(present: readonly string[]): Promise<string[]> {
    const gone = await this.#db
      .update(templates)
      .set({ missing_since: this.clock.now() })
      .where(and(isNull(templates.guild_id), isNull(templates.missing_since), present.length > 0 ? notInArray(templates.name, [...present]) : undefined))
      .returning({ name: templates.name });
    return gone.map((row) => row.name).sort();
  }

  async enabledFor(guildId: string): Promise<StoredTemplate[]> {
    assertSnowflake(guildId, 'guildId');
    const enabledIds = this.#db.select({ id: guildTemplateEnablements.template_id }).from(guildTemplateEnablements).where(eq(guildTemplateEnablements.guild_id, guildId));
    return this.#many(and(isNull(templates.guild_id), isNull(templates.missing_since), sql`${templates.id} IN ${enabledIds}`));
  }

  async isEnabled(guildId: string, templateId: number): Promise<boolean> {
    const rows = await this.#db
      .select({ id: guildTemplateEnablements.template_id })
      .from(guildTemplateEnablements)
      .where(and(eq(guildTemplateEnablements.guild_id, guildId), eq(guildTemplateEnablements.template_id, templateId)))
      .limit(1);
    return rows.length > 0;
  }

  async enable(guildId: string, templateId: number, by: string): Promise<boolean> {
    assertSnowflake(guildId, 'guildId');
    const inserted = await this.#db
      .insert(guildTemplateEnablements)
      .values({ guild_id: guildId, template_id: templateId, enabled_by: by, enabled_at: this.clock.now() })
      .onConflictDoNothing()
      .returning({ id: guildTemplateEnablements.template_id });
    return inserted.length > 0;
  }

  async disable(guildId: string, templateId: number): Promise<boolean> {
    const deleted = await this.#db
      .delete(guildTemplateEnablements)
      .where(and(eq(guildTemplateEnablements.guild_id, guildId), eq(guildTemplateEnablements.template_id, templateId)))
      .returning({ id: guildTemplateEnablements.template_id });
    return deleted.length > 0;
  }

  async guildTemplates(guildId: string): Promise<StoredTemplate[]> {
    assertSnowflake(guildId, 'guildId');
    return this.#many(eq(templates.guild_id, guildId));
  }

  async findGuildTemplate(guildId: string, name: string): Promise<StoredTemplate | undefined> {
    assertSnowflake(guildId, 'guildId');
    return this.#one(and(isNotNull(templates.guild_id), eq(templates.guild_id, guildId), eq(templates.name, name)));
  }

  async insertGit(input: NewGitTemplate): Promise<StoredTemplate> {
    assertSnowflake(input.guildId, 'guildId');
    const [row] = await this.#db.insert(templates).values(gitTemplateRow(input, this.clock.now())).onConflictDoNothing().returning();
    // The only conflict a new row can meet is templates_guild_name: the guild has one by that name.
    if (!row) throw new TemplateNameTaken(input.name, 'git');
    return toTemplate(row);
  }

  async repin(guildId: string, templateId: number, pinned: PinnedFiles & { gitRef: string }, by: string): Promise<StoredTemplate | undefined> {
    const [row] = await this.#db
      .update(templates)
      .set(repinColumns(pinned, by, this.clock.now()))
      .where(and(eq(templates.id, templateId), eq(templates.guild_id, guildId)))
      .returning();
    return row === undefined ? undefined : toTemplate(row);
  }

  async removeGuildTemplate(guildId: string, templateId: number): Promise<boolean> {
    const deleted = await this.#db.delete(templates).where(and(eq(templates.id, templateId), eq(templates.guild_id, guildId))).returning({ id: templates.id });
    return deleted.length > 0;
  }

  async #operatorRow(name: string) {
    const [row] = await this.#db.select().from(templates).where(and(isNull(templates.guild_id), eq(templates.name, name))).limit(1);
    return row;
  }

  async #one(where: SQL | undefined): Promise<StoredTemplate | undefined> {
    const [row] = await this.#db.select().from(templates).where(where).limit(1);
    return row === undefined ? undefined : toTemplate(row);
  }

  async #many(where: SQL | undefined): Promise<StoredTemplate[]> {
    const rows = await this.#db.select().from(templates).where(where).orderBy(BY_NAME);
    return rows.map(toTemplate);
  }
}
