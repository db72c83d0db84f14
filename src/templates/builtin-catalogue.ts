/**
 * The two templates every guild has: `vm` and `bucket`, whose configuration the bot generates
 * (src/engine/config-generator.ts) in the project's own folder; their settings are the slash command's options
 * (instance type, disk size), not module variables. The catalogue of the operator's and guilds' own modules
 * (src/templates/*) lists these first; on its own this is the catalogue of a bot with no other templates.
 */
import { RESOURCE_TYPES, type ResourceType } from '../db/schema.js';
import { TemplateNotFound } from './errors.js';
import type { Template, TemplateCatalogue } from './template.js';

const DESCRIPTIONS: Record<ResourceType, string> = {
  vm: 'A virtual machine (options: instance_type, disk_size)',
  bucket: 'A storage bucket (option: disk_size, the expected storage)',
};

export const BUILTIN_TEMPLATES: readonly Template[] = RESOURCE_TYPES.map((type, index) => ({
  id: -(index + 1),
  guildId: null,
  name: type,
  source: 'builtin' as const,
  description: DESCRIPTIONS[type],
  variables: [],
  createdBy: 'cloud-chatops',
  createdAt: 0,
  updatedAt: 0,
}));

export function isBuiltinTemplate(name: string): name is ResourceType {
  return (RESOURCE_TYPES as readonly string[]).includes(name);
}

export class BuiltinCatalogue implements TemplateCatalogue {
  list(): Template[] {
    return [...BUILTIN_TEMPLATES];
  }

  get(_guildId: string, name: string): Template {
    const found = BUILTIN_TEMPLATES.find((template) => template.name === name);
    if (!found) throw new TemplateNotFound(name);
    return found;
  }

  /** The built-ins have no module files: their configuration is generated in the project's folder. */
  async materialise(guildId: string, name: string): Promise<void> {
    this.get(guildId, name);
  }
}
