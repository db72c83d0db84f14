/**
 * What in a module could run commands or reach files on the bot's host: `provisioner` blocks (local-exec runs a
 * shell command), the `external` provider (runs a program), the `local` provider (reads and writes files), and
 * module sources outside the template (the engine would download code nobody checked). Refused unless the operator
 * allows them (TEMPLATE_ALLOW_HOST_ACCESS); checked at `add` and again before every run.
 */
import { posix } from 'node:path';
import { eachBlock, nested, type ParsedFile } from './blocks.js';
import type { ForbiddenFinding } from './errors.js';

const HOST_PROVIDERS = new Set(['external', 'local']);

/** The provider a resource or data type belongs to, by Terraform's rule: the part before the first underscore. */
function providerOfType(type: string): string {
  const underscore = type.indexOf('_');
  return underscore < 0 ? type : type.slice(0, underscore);
}

/** The provider type a `source` address names: its last part (`hashicorp/local`, `registry.terraform.io/hashicorp/external`). */
function providerOfSource(source: string): string {
  const parts = source.trim().toLowerCase().split('/');
  return parts[parts.length - 1] ?? '';
}

/** Whether a module source is a folder inside the template: `./x` or `../x` from the calling file, not leaving the root. */
function isInsideTemplate(callerPath: string, source: string): boolean {
  if (!source.startsWith('./') && !source.startsWith('../')) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(callerPath), source));
  return resolved !== '..' && !resolved.startsWith('../') && !posix.isAbsolute(resolved);
}

/** Every forbidden block in the files, in file order. */
export function findForbidden(files: readonly ParsedFile[]): ForbiddenFinding[] {
  const findings: ForbiddenFinding[] = [];
  for (const file of files) {
    const found = (what: string) => findings.push({ file: file.path, what });
    for (const kind of ['resource', 'data', 'ephemeral'] as const) {
      for (const block of eachBlock(file.body, kind, 2)) {
        const [type = '', name = ''] = block.labels;
        const label = `${kind} "${type}" "${name}"`;
        if (HOST_PROVIDERS.has(providerOfType(type))) found(`${label} uses the ${providerOfType(type)} provider`);
        const provisioners = nested(block.body, 'provisioner').flatMap((provisioner) => Object.keys(provisioner));
        if (provisioners.length > 0) found(`${label} has a provisioner (${[...new Set(provisioners)].join(', ')})`);
      }
    }
    for (const block of eachBlock(file.body, 'provider', 1)) {
      const [name = ''] = block.labels;
      if (HOST_PROVIDERS.has(name)) found(`provider "${name}" is configured`);
    }
    for (const settings of eachBlock(file.body, 'terraform', 0)) {
      for (const required of nested(settings.body, 'required_providers')) {
        for (const [name, requirement] of Object.entries(required)) {
          const source = typeof requirement === 'object' && requirement !== null && 'source' in requirement ? (requirement as { source: unknown }).source : undefined;
          const type = typeof source === 'string' ? providerOfSource(source) : name;
          if (HOST_PROVIDERS.has(type) || HOST_PROVIDERS.has(name)) found(`the ${type} provider is required (as "${name}")`);
        }
      }
    }
    for (const block of eachBlock(file.body, 'module', 1)) {
      const [name = ''] = block.labels;
      const source = block.body.source;
      if (typeof source !== 'string' || !isInsideTemplate(file.path, source)) {
        found(`module "${name}" has its source outside the template (${typeof source === 'string' ? source.slice(0, 100) : 'not a plain string'})`);
      }
    }
  }
  return findings;
}
