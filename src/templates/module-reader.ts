/**
 * Reads a module as the bot needs to know it: every `*.tf` and `*.tf.json` file parsed (with HashiCorp's HCL
 * parser, never by pattern matching), its inputs, its digest, and a refusal of what could reach the bot's host or
 * of a state backend of its own. The one check used at `add`, at `update` and before every run (plan and destroy).
 */
import { ModuleBackendRefused, ModuleRefused, ModuleUnreadable, ForbiddenModule } from './errors.js';
import type { ParsedFile } from './blocks.js';
import { findForbidden } from './forbidden-content.js';
import { findOwnBackends } from './module-backend.js';
import { parseHclFile, parseJsonFile } from './hcl.js';
import { digestOf, type ModuleFile } from './module-files.js';
import { readVariables } from './module-variables.js';
import type { TemplateVariable } from './template.js';

export interface InspectOptions {
  /** The operator allows provisioners, the external/local providers and remote module sources. */
  allowHostAccess: boolean;
}

export interface InspectedModule {
  variables: TemplateVariable[];
  digest: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function syntaxOf(path: string): 'hcl' | 'json' | undefined {
  if (path.endsWith('.tf.json')) return 'json';
  if (path.endsWith('.tf')) return 'hcl';
  return undefined;
}

/** Every configuration file of the module, parsed, in path order. @throws ModuleUnreadable */
export async function parseModule(files: readonly ModuleFile[]): Promise<ParsedFile[]> {
  const parsed: ParsedFile[] = [];
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const syntax = syntaxOf(file.path);
    if (syntax === undefined) continue;
    let contents: string;
    try {
      contents = utf8.decode(file.bytes);
    } catch {
      throw new ModuleUnreadable(file.path, undefined, 'it is not UTF-8 text');
    }
    const body = syntax === 'json' ? parseJsonFile(file.path, contents) : await parseHclFile(file.path, contents);
    parsed.push({ path: file.path, syntax, body });
  }
  return parsed;
}

/**
 * Parses, reads the inputs, refuses a backend of the module's own (always) and forbidden content unless allowed.
 * @throws ModuleRefused (no configuration file at the top), ModuleUnreadable, InvalidVariable, ModuleBackendRefused,
 * ForbiddenModule
 */
export async function inspectModule(files: readonly ModuleFile[], options: InspectOptions): Promise<InspectedModule> {
  const parsed = await parseModule(files);
  if (!parsed.some((file) => !file.path.includes('/'))) {
    throw new ModuleRefused('its folder has no .tf or .tf.json file (a template is the folder holding the module’s own .tf files)');
  }
  const variables = await readVariables(parsed);
  const backends = findOwnBackends(parsed);
  if (backends.length > 0) throw new ModuleBackendRefused(backends);
  const findings = findForbidden(parsed);
  if (findings.length > 0 && !options.allowHostAccess) throw new ForbiddenModule(findings);
  return { variables, digest: digestOf(files) };
}
