/**
 * A test-side TemplateCatalogue, until the real one (src/templates: HCL parser, git and operator sources) is merged:
 * each guild's templates are the sub-folders of a folder given for it, each a module of `*.tf.json` files whose
 * `variable` blocks are the template's inputs. `materialise` copies the files, as the real catalogue writes a
 * pinned module. Another guild's template is TemplateNotFound, exactly like a missing one.
 */
import { copyFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_TEMPLATES } from '../../src/templates/builtin-catalogue.js';
import { TemplateNotFound } from '../../src/templates/errors.js';
import type { Template, TemplateCatalogue, TemplateVariable } from '../../src/templates/template.js';

interface VariableBlock {
  type?: string;
  description?: string;
  default?: unknown;
  sensitive?: boolean;
  nullable?: boolean;
}

export class FolderCatalogue implements TemplateCatalogue {
  readonly materialised: Array<{ guildId: string; name: string; directory: string }> = [];

  /** `folders`: guild id → the folder holding that guild's templates, one sub-folder each. */
  constructor(private readonly folders: Readonly<Record<string, string>>) {}

  list(guildId: string): Template[] {
    const folder = this.folders[guildId];
    const own = folder ? readdirSync(folder).filter((name) => statSync(join(folder, name)).isDirectory()).sort() : [];
    return [...BUILTIN_TEMPLATES, ...own.map((name, i) => this.#read(guildId, folder!, name, i + 1))];
  }

  get(guildId: string, name: string): Template {
    const found = this.list(guildId).find((t) => t.name === name);
    if (!found) throw new TemplateNotFound(name);
    return found;
  }

  async materialise(guildId: string, name: string, directory: string): Promise<void> {
    const template = this.get(guildId, name);
    this.materialised.push({ guildId, name, directory });
    if (template.source === 'builtin') return;
    const source = join(this.folders[guildId]!, name);
    for (const file of readdirSync(source)) copyFileSync(join(source, file), join(directory, file));
  }

  #read(guildId: string, folder: string, name: string, id: number): Template {
    const variables: TemplateVariable[] = [];
    for (const file of readdirSync(join(folder, name)).filter((f) => f.endsWith('.tf.json')).sort()) {
      const doc = JSON.parse(readFileSync(join(folder, name, file), 'utf8')) as { variable?: Record<string, VariableBlock> };
      for (const [variable, block] of Object.entries(doc.variable ?? {})) {
        variables.push({
          name: variable,
          type: block.type ?? 'any',
          description: block.description,
          hasDefault: 'default' in block,
          defaultValue: block.default,
          sensitive: block.sensitive === true,
          nullable: block.nullable ?? true,
        });
      }
    }
    return { id, guildId, name, source: 'operator', variables, pinnedRevision: `test-${name}`, createdBy: '300000000000000001', createdAt: 0, updatedAt: 0 };
  }
}
