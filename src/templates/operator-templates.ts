/**
 * The operator's catalogue: every folder of TEMPLATES_DIR holding `*.tf` (or `*.tf.json`) files is a template named
 * after the folder, read and pinned (by the digest of its files) at start-up. A folder that changes afterwards is
 * refused at its next run until the bot restarts and pins it again, so a half-pulled checkout never deploys.
 */
import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { isUserError } from '../shared/errors.js';
import { builtinTemplate } from './builtin-templates.js';
import { readModuleFolder } from './module-files.js';
import { inspectModule } from './module-reader.js';
import { isTemplateName } from './template-name.js';
import type { TemplateRepository } from './template-repository.js';

export interface OperatorScanOptions {
  dir: string | undefined;
  allowHostAccess: boolean;
  repository: TemplateRepository;
  logger: Logger;
}

function holdsConfiguration(folder: string): boolean {
  return readdirSync(folder).some((name) => name.endsWith('.tf') || name.endsWith('.tf.json'));
}

/**
 * Reads every template folder, records what it found, and hides the templates whose folder is gone.
 * @throws Error when TEMPLATES_DIR is set but is not a folder (a start-up failure the operator must fix).
 */
export async function scanOperatorTemplates({ dir, allowHostAccess, repository, logger }: OperatorScanOptions): Promise<string[]> {
  if (dir === undefined) {
    await repository.markOperatorMissing([]);
    return [];
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`TEMPLATES_DIR cannot be used: ${dir} is not a folder. Create it, or unset TEMPLATES_DIR.`);
  const present: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const folder = join(dir, name);
    const stats = lstatSync(folder);
    if (!stats.isDirectory() || name.startsWith('.') || !holdsConfiguration(folder)) continue;
    if (!isTemplateName(name) || builtinTemplate(name) !== undefined) {
      logger.warn({ folder }, 'TEMPLATES_DIR: folder skipped; a template folder is named with lower-case letters, digits and dashes (starting with a letter), and not vm or bucket');
      continue;
    }
    try {
      const files = readModuleFolder(folder);
      const inspected = await inspectModule(files, { allowHostAccess });
      const { template, previousRevision } = await repository.upsertOperator(name, { pinnedRevision: inspected.digest, filesDigest: inspected.digest, variables: inspected.variables });
      if (previousRevision !== undefined && previousRevision !== template.pinnedRevision) {
        logger.info({ template: name, from: previousRevision, to: template.pinnedRevision }, 'operator template changed since the last start; pinned to its new files');
      }
      present.push(name);
    } catch (error) {
      if (!isUserError(error)) throw error;
      // One broken folder does not stop the bot; it is left out, and the operator reads why.
      logger.warn({ folder, code: error.code, problem: error.message }, 'TEMPLATES_DIR: template left out');
    }
  }
  const gone = await repository.markOperatorMissing(present);
  logger.info({ templates: present, hidden: gone }, 'operator templates read from TEMPLATES_DIR');
  return present;
}
