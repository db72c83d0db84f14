/**
 * The TemplateCatalogue the deploy pipeline uses: what a guild can deploy (the built-ins, the operator templates it
 * enabled, its own git templates) and their files, written into a workspace exactly as pinned. Before every copy
 * the files are read again, their digest compared with the pin and the module's checks run again; before a destroy,
 * the files already in the workspace are checked again the same way.
 */
import { join } from 'node:path';
import { BUILTIN_TEMPLATES, builtinTemplate } from './builtin-templates.js';
import { ModuleRefused, TemplateChanged, TemplateNotFound } from './errors.js';
import { digestOf, readModuleFolder, readWrittenModule, writeModuleFiles, type ModuleFile } from './module-files.js';
import { inspectModule } from './module-reader.js';
import type { Template, TemplateCatalogue } from './template.js';
import type { StoredTemplate, TemplateRepository } from './template-repository.js';
import type { TemplateStore } from './template-store.js';

export interface ModuleCatalogueOptions {
  repository: TemplateRepository;
  store: TemplateStore;
  /** TEMPLATES_DIR, absolute; undefined when the operator has none. */
  operatorDir: string | undefined;
  /** TEMPLATE_ALLOW_HOST_ACCESS. */
  allowHostAccess: boolean;
  /** TEMPLATES_FROM_GUILDS: when off, the git templates guilds added are kept but not deployable. */
  guildTemplates: boolean;
}

export class ModuleCatalogue implements TemplateCatalogue {
  constructor(private readonly options: ModuleCatalogueOptions) {}

  async list(guildId: string): Promise<Template[]> {
    const { repository } = this.options;
    const own = this.options.guildTemplates ? await repository.guildTemplates(guildId) : [];
    const stored = [...own, ...(await repository.enabledFor(guildId))].sort((a, b) => (a.name < b.name ? -1 : 1));
    return [...BUILTIN_TEMPLATES, ...stored];
  }

  async get(guildId: string, name: string): Promise<Template> {
    const found = builtinTemplate(name) ?? (await this.stored(guildId, name));
    if (found === undefined) throw new TemplateNotFound(name);
    return found;
  }

  /** The guild's own template or an operator template it enabled; never another guild's. */
  async stored(guildId: string, name: string): Promise<StoredTemplate | undefined> {
    const { repository } = this.options;
    const own = this.options.guildTemplates ? await repository.findGuildTemplate(guildId, name) : undefined;
    if (own !== undefined) return own;
    const operator = await repository.findOperator(name);
    return operator !== undefined && (await repository.isEnabled(guildId, operator.id)) ? operator : undefined;
  }

  async materialise(guildId: string, name: string, directory: string): Promise<void> {
    if (builtinTemplate(name) !== undefined) return;
    const template = await this.stored(guildId, name);
    if (template === undefined) throw new TemplateNotFound(name);
    const files = this.pinnedFiles(template);
    // What is checked here is what is written: the bytes stay in memory between the two.
    await inspectModule(files, { allowHostAccess: this.options.allowHostAccess });
    writeModuleFiles(files, directory);
  }

  async recheckWritten(directory: string, botFiles: readonly string[]): Promise<void> {
    await inspectModule(readWrittenModule(directory, botFiles), { allowHostAccess: this.options.allowHostAccess });
  }

  /**
   * The template's files, read again and compared with the pin.
   * @throws TemplateChanged when they are missing or differ
   */
  pinnedFiles(template: StoredTemplate): ModuleFile[] {
    let files: ModuleFile[] | undefined;
    let where: string;
    if (template.source === 'operator') {
      where = join(this.options.operatorDir ?? '(TEMPLATES_DIR unset)', template.name);
      files = this.options.operatorDir === undefined ? undefined : readOrUndefined(where);
    } else {
      where = `the template store (${this.options.store.rootDir})`;
      files = template.guildId === null ? undefined : this.options.store.load(template.guildId, template.id, template.pinnedRevision);
    }
    if (files === undefined || digestOf(files) !== template.filesDigest) {
      const note =
        template.source === 'operator'
          ? `The files of operator template ${template.name} in ${where} changed (or went) since start-up; restart the bot to read and pin them again.`
          : `The stored copy of git template ${template.name} (id ${template.id}, commit ${template.pinnedRevision}) in ${where} is missing or altered; a guild admin's template update fetches it again.`;
      throw new TemplateChanged(template.name, note);
    }
    return files;
  }
}

function readOrUndefined(folder: string): ModuleFile[] | undefined {
  try {
    return readModuleFolder(folder);
  } catch (error) {
    if (error instanceof ModuleRefused) throw error;
    return undefined;
  }
}
