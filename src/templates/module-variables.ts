/**
 * A module's inputs: every `variable` block of the files at the template's top level (Terraform reads only those
 * as the root module), as TemplateVariable values checked with zod.
 */
import { z } from 'zod';
import { eachBlock, type ParsedFile } from './blocks.js';
import { InvalidVariable } from './errors.js';
import type { TemplateVariable } from './template.js';
import { canonicalType, TypeProblem } from './type-expression.js';

/** Terraform's identifiers, without the names it reserves for itself in a variable block's label. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const RESERVED = new Set(['source', 'version', 'providers', 'count', 'for_each', 'lifecycle', 'depends_on', 'locals']);

/** What every part may rely on about a TemplateVariable, also when read back from the database. */
export const templateVariableSchema = z.object({
  name: z.string().regex(IDENTIFIER),
  type: z.string().min(1).max(2000),
  description: z.string().max(2000).optional(),
  hasDefault: z.boolean(),
  defaultValue: z.unknown().optional(),
  sensitive: z.boolean(),
  nullable: z.boolean(),
});

const variableBodySchema = z
  .object({
    type: z.string({ error: 'has a type that is not a type expression' }).optional(),
    description: z.string({ error: 'has a description that is not a plain string' }).optional(),
    sensitive: z.boolean({ error: 'has sensitive set to something other than true or false' }).optional(),
    nullable: z.boolean({ error: 'has nullable set to something other than true or false' }).optional(),
  })
  .loose();

/** Whether an HCL value holds an expression (the parser writes those as `${...}`): a default must be a literal. */
function holdsExpression(value: unknown): boolean {
  if (typeof value === 'string') return value.startsWith('${') && value.endsWith('}');
  if (Array.isArray(value)) return value.some(holdsExpression);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(holdsExpression);
  return false;
}

/**
 * The type expression as written: the HCL parser wraps an expression as `${...}` (a bare string there is a quoted
 * type, which Terraform refuses); in JSON syntax the string is the expression.
 */
function typeExpression(file: ParsedFile, written: string, name: string): string {
  if (file.syntax === 'json') return written;
  if (written.startsWith('${') && written.endsWith('}')) return written.slice(2, -1);
  throw new InvalidVariable(file.path, name, 'has a quoted type; write it without quotes, for example type = string');
}

/**
 * The variables declared in the top-level files, sorted by name.
 * @throws InvalidVariable naming the file and the variable (a bad type, a default that is an expression, a duplicate).
 */
export async function readVariables(files: readonly ParsedFile[]): Promise<TemplateVariable[]> {
  const declared = new Map<string, TemplateVariable>();
  for (const file of files.filter((candidate) => !candidate.path.includes('/'))) {
    for (const block of eachBlock(file.body, 'variable', 1)) {
      const name = block.labels[0] ?? '';
      if (!IDENTIFIER.test(name) || RESERVED.has(name)) throw new InvalidVariable(file.path, name, 'has a name Terraform does not accept for a variable');
      if (declared.has(name)) throw new InvalidVariable(file.path, name, 'is declared more than once');
      const parsed = variableBodySchema.safeParse(block.body);
      if (!parsed.success) throw new InvalidVariable(file.path, name, parsed.error.issues[0]?.message ?? 'cannot be read');
      const { type, description, sensitive, nullable } = parsed.data;
      const hasDefault = 'default' in block.body;
      const defaultValue: unknown = block.body.default;
      if (hasDefault && file.syntax === 'hcl' && holdsExpression(defaultValue)) {
        throw new InvalidVariable(file.path, name, 'has a default that is an expression; a default must be a literal value');
      }
      let canonical = 'any';
      if (type !== undefined) {
        try {
          canonical = await canonicalType(file.path, typeExpression(file, type, name));
        } catch (error) {
          if (error instanceof TypeProblem) throw new InvalidVariable(file.path, name, error.message);
          throw error;
        }
      }
      const variable = templateVariableSchema.parse({
        name,
        type: canonical,
        description: description === undefined || description.trim() === '' ? undefined : description.trim(),
        hasDefault,
        defaultValue: hasDefault ? (defaultValue ?? null) : undefined,
        sensitive: sensitive ?? false,
        nullable: nullable ?? true,
      });
      declared.set(name, variable as TemplateVariable);
    }
  }
  return [...declared.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
