/**
 * The domain speaks no chat markup: outside the front ends (src/discord, src/console), no module under src/ writes a
 * Discord mention (`<@`, `<#`), a Discord timestamp (`<t:`) or a slash-command name (`/cloud-`) into a string. They say
 * `member(id)`, `time(ms)` and `command('jit.grant')` (src/shared/text.ts) and each front end renders them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { allCommands } from '../commands/index.js';
import { COMMAND_NAMES } from '../src/discord/command-names.js';
import { COMMAND_KEYS } from '../src/shared/text.js';

const ROOT = join(import.meta.dirname, '..');
const FRONT_ENDS = ['src/discord/', 'src/console/'];
const MARKUP = /<@|<#|<t:|\/cloud-/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every string and template-literal piece in a module, with its line; comments are not literals. */
export function markupInLiterals(fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      if (MARKUP.test(node.text)) {
        const line = file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
        found.push(`${fileName}:${line}: ${node.text.slice(0, 80)}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('the domain speaks no chat markup', () => {
  it('no module under src/ outside the front ends writes <@, <#, <t: or /cloud- in a string', () => {
    const offenders = sourceFiles(join(ROOT, 'src'))
      .map((path) => relative(ROOT, path))
      .filter((path) => !FRONT_ENDS.some((frontEnd) => path.startsWith(frontEnd)))
      .flatMap((path) => markupInLiterals(path, readFileSync(join(ROOT, path), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('the check sees markup in strings and templates, not in comments', () => {
    const source = [
      "// <@123> in a comment is fine; so is /cloud-init",
      "const a = 'ask /cloud-jit-grant';",
      'const b = `by <@${id}>`;',
      'const c = `at ${x} <t:${s}:R>`;',
      'const d = "plain words";',
    ].join('\n');
    expect(markupInLiterals('sample.ts', source).map((hit) => hit.split(':')[1])).toEqual(['2', '3', '4']);
  });

  it('every command key names a registered slash command (and subcommand)', () => {
    const registered = new Set(
      allCommands.flatMap((command) => {
        const subcommands = (command.definition.options ?? [])
          .filter((option) => option.type === 1)
          .map((option) => `/${command.name} ${option.name}`);
        return [`/${command.name}`, ...subcommands];
      }),
    );
    for (const key of COMMAND_KEYS) expect(registered, key).toContain(COMMAND_NAMES[key]);
  });
});
