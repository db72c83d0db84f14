/**
 * The one owner of the `templates` and `guild_template_enablements` tables, asynchronous, on either dialect
 * (src/db/data-access.ts says how; sqlite-template-repository.ts and pg-template-repository.ts are the two). Every
 * read of a guild's templates is scoped to that guild: a git template of another guild cannot be read through a
 * method that takes a guild id.
 */
import type { Session } from '../db/data-access.js';
import type { Clock } from '../shared/clock.js';
import { PgTemplateRepository } from './pg-template-repository.js';
import { SqliteTemplateRepository } from './sqlite-template-repository.js';
import type { Template, TemplateVariable } from './template.js';

/** A template with a row: what the store pinned, with the digest its files must still have. */
export type StoredTemplate = Template & { source: 'operator' | 'git'; pinnedRevision: string; filesDigest: string };

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

export interface TemplateRepository {
  // --- the operator's templates (no guild) ---
  /** The operator templates whose folder the last start-up found, by name. */
  operatorTemplates(): Promise<StoredTemplate[]>;
  findOperator(name: string): Promise<StoredTemplate | undefined>;
  /**
   * Records what a start-up read from the operator's folder (new, changed, or as it was). Shards starting together
   * on one database may record the same folder at once: neither fails.
   */
  upsertOperator(name: string, pinned: PinnedFiles): Promise<{ template: StoredTemplate; previousRevision: string | undefined }>;
  /** Hides the operator templates whose folder is gone (their enablements are kept, should the folder come back). */
  markOperatorMissing(present: readonly string[]): Promise<string[]>;

  // --- enablement ---
  /** The operator templates this guild enabled (and whose folder is present), by name. */
  enabledFor(guildId: string): Promise<StoredTemplate[]>;
  isEnabled(guildId: string, templateId: number): Promise<boolean>;
  /** @returns false when it was enabled already. */
  enable(guildId: string, templateId: number, by: string): Promise<boolean>;
  /** @returns false when it was not enabled. */
  disable(guildId: string, templateId: number): Promise<boolean>;

  // --- a guild's own templates (git) ---
  /** The guild's git templates, by name. */
  guildTemplates(guildId: string): Promise<StoredTemplate[]>;
  findGuildTemplate(guildId: string, name: string): Promise<StoredTemplate | undefined>;
  /** @throws TemplateNameTaken when the guild has one by that name (two admins adding at once). */
  insertGit(input: NewGitTemplate): Promise<StoredTemplate>;
  /**
   * Pins a guild's git template to new files; undefined when it is gone (removed meanwhile). Inside a unit of work
   * on PostgreSQL it holds the row until commit, so a second update of the same template waits for the first.
   */
  repin(guildId: string, templateId: number, pinned: PinnedFiles & { gitRef: string }, by: string): Promise<StoredTemplate | undefined>;
  /** @returns false when the guild had no such template. */
  removeGuildTemplate(guildId: string, templateId: number): Promise<boolean>;
}

/** The template repository of the session's dialect. */
export function templateRepositoryFor(session: Session, clock: Clock): TemplateRepository {
  return session.dialect === 'sqlite' ? new SqliteTemplateRepository(session.db, clock) : new PgTemplateRepository(session, clock);
}
