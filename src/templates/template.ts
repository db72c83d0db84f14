/**
 * What a template is, for every part that deals with one: the catalogue that reads and stores templates
 * (src/templates/*), the deploy pipeline that deploys them (src/deploy/*) and the front ends that list them.
 *
 * A template is a Terraform/OpenTofu module. The built-in `vm` and `bucket` are templates whose configuration the
 * bot generates (src/engine/config-generator.ts); operator and git templates are modules whose files are copied,
 * at the commit they were pinned to, into each deployment's own workspace.
 */

/** Where a template comes from. */
export type TemplateSource = 'builtin' | 'operator' | 'git';

/** One `variable` block of a module, as its files declare it. */
export interface TemplateVariable {
  name: string;
  /**
   * The type constraint as the module spells it, normalised by the parser: `string`, `number`, `bool`, `any`,
   * `list(string)`, `set(number)`, `map(string)`, `object({...})`, `tuple([...])`... `any` when none is declared.
   */
  type: string;
  description?: string | undefined;
  /** Whether a default is declared; `defaultValue` holds it (JSON), and may be null. */
  hasDefault: boolean;
  defaultValue?: unknown;
  /** `sensitive = true`: a secret, asked in a private form and kept only in the vault session. */
  sensitive: boolean;
  /** `nullable` (Terraform's default is true). */
  nullable: boolean;
}

/** A template a guild can deploy. `guildId` is null for operator templates (visible to guilds that enable them). */
export interface Template {
  id: number;
  guildId: string | null;
  /** Unique within the guild (with the operator's enabled templates and the built-ins): what members type. */
  name: string;
  source: TemplateSource;
  description?: string | undefined;
  /** git only: the repository URL, the folder inside it and the ref asked for. */
  gitUrl?: string | undefined;
  gitSubdir?: string | undefined;
  gitRef?: string | undefined;
  /** git: the commit `gitRef` resolved to when added or last updated; operator: a digest of its files. */
  pinnedRevision?: string | undefined;
  variables: TemplateVariable[];
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

/** What the deploy pipeline needs from the catalogue. Another guild's template is TemplateNotFound, like a missing one. */
export interface TemplateCatalogue {
  /** The templates this guild can deploy: built-ins, enabled operator templates, its own git templates. */
  list(guildId: string): Promise<Template[]>;
  /** @throws TemplateNotFound */
  get(guildId: string, name: string): Promise<Template>;
  /**
   * Writes the template's module files, exactly as pinned, into `directory` (a deployment's workspace), and checks
   * them again (no forbidden blocks) before any run. Built-in templates have no files.
   * @throws TemplateNotFound, TemplateChanged (the files on disk no longer match the pinned revision), ForbiddenModule
   */
  materialise(guildId: string, name: string, directory: string): Promise<void>;
  /**
   * Checks again, with the rules in force now, the module files an earlier `materialise` wrote into `directory` (and
   * any configuration file put there since): what a destroy runs, as the template may have changed or gone since
   * its last plan. `botFiles` are top-level names the deploy pipeline writes itself.
   * @throws ModuleRefused, ModuleUnreadable, InvalidVariable, ModuleBackendRefused, ForbiddenModule
   */
  recheckWritten(directory: string, botFiles: readonly string[]): Promise<void>;
}
