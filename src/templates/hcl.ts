/**
 * The one door to HashiCorp's HCL parser (`@cdktf/hcl2json`: the Go `hcl` library compiled to WebAssembly), and to
 * JSON for `*.tf.json`. Both give a file's body as JSON-like data; a file either parses or is refused with its name
 * and line. Loaded on first use: the WebAssembly module costs a moment, and a bot without templates never pays it.
 */
import { createRequire } from 'node:module';
import { z } from 'zod';
import { ModuleUnreadable } from './errors.js';
import { firstSyntaxError } from '../shared/json-location.js';

/** A parsed body: blocks and attributes as the parser gives them (blocks as objects or arrays of objects). */
export type Body = Record<string, unknown>;

/** A node of an expression's syntax tree, as the parser gives it (the part this module relies on). */
export interface ExpressionNode {
  type: string;
  range: { start: { byte: number }; end: { byte: number } };
  meta?: Record<string, unknown>;
  children: ExpressionNode[];
}

interface Hcl2Json {
  parse(filename: string, contents: string): Promise<unknown>;
  getExpressionAst(filename: string, expression: string): Promise<unknown>;
}

let parser: Hcl2Json | undefined;

function hcl2json(): Hcl2Json {
  // Required, not imported: its type declarations pull the DOM library into the whole program.
  parser ??= createRequire(import.meta.url)('@cdktf/hcl2json') as Hcl2Json;
  return parser;
}

const bodySchema = z.record(z.string(), z.unknown());

const nodeSchema: z.ZodType<ExpressionNode> = z.lazy(() =>
  z.object({
    type: z.string(),
    range: z.object({ start: z.object({ byte: z.number() }), end: z.object({ byte: z.number() }) }),
    meta: z.record(z.string(), z.unknown()).optional(),
    children: z.array(nodeSchema).default([]),
  }),
);

/**
 * The parser's diagnostics read `parse config: [main.tf:4,13-5,1: Summary; Detail.]`: the file, the line and the
 * column where the problem starts, then what it is. Anything else is reported whole, without a line.
 */
export function readDiagnostic(file: string, message: string): ModuleUnreadable {
  const inner = message.replace(/^parse config: \[/, '').replace(/\]$/, '');
  const location = /^(.*?):(\d+),(\d+)(?:-\d+(?:,\d+)?)?: (.*)$/s.exec(inner);
  if (location === null) return new ModuleUnreadable(file, undefined, inner.slice(0, 300));
  const [, , line, , problem = ''] = location;
  return new ModuleUnreadable(file, Number(line), problem.replace(/\.$/, '').slice(0, 300));
}

/** Parses one `.tf` file. @throws ModuleUnreadable with the file and line of the first problem. */
export async function parseHclFile(file: string, contents: string): Promise<Body> {
  let result: unknown;
  try {
    result = await hcl2json().parse(file, contents);
  } catch (error) {
    throw readDiagnostic(file, error instanceof Error ? error.message : String(error));
  }
  const body = bodySchema.safeParse(result);
  if (!body.success) throw new ModuleUnreadable(file, undefined, 'the parser returned something that is not a configuration body');
  return body.data;
}

/** Parses one `.tf.json` file. @throws ModuleUnreadable with the file and line of the first problem. */
export function parseJsonFile(file: string, contents: string): Body {
  let result: unknown;
  try {
    result = JSON.parse(contents);
  } catch {
    const offset = firstSyntaxError(contents);
    const line = offset < 0 ? undefined : contents.slice(0, offset).split('\n').length;
    throw new ModuleUnreadable(file, line, 'this is not valid JSON');
  }
  const body = bodySchema.safeParse(result);
  if (!body.success) throw new ModuleUnreadable(file, 1, 'a Terraform JSON file must hold one JSON object');
  return body.data;
}

/** The syntax tree of one expression (a type constraint). @throws ModuleUnreadable */
export async function parseExpression(file: string, expression: string): Promise<ExpressionNode> {
  let result: unknown;
  try {
    result = await hcl2json().getExpressionAst(file, expression);
  } catch (error) {
    throw readDiagnostic(file, error instanceof Error ? error.message : String(error));
  }
  const node = nodeSchema.safeParse(result);
  if (!node.success) throw new ModuleUnreadable(file, undefined, `${expression.slice(0, 80)} is not an expression`);
  return node.data;
}
