/**
 * A variable's type constraint, written out again from the parser's syntax tree in one canonical spelling, whatever
 * the module's layout, line breaks and comments: `string`, `list(string)`, `map(number)`, `set(bool)`, `any`,
 * `tuple([string, number])`, `object({name = string, size = optional(number, 20)})`. Keys keep their order; a
 * default inside `optional(...)` keeps its source text, its lines joined by one space.
 */
import { parseExpression, type ExpressionNode } from './hcl.js';

const PRIMITIVES = new Set(['string', 'number', 'bool', 'any']);
const COLLECTIONS = new Set(['list', 'set', 'map']);

/** Why a type constraint is not one Terraform accepts; the caller names the file and the variable. */
export class TypeProblem extends Error {}

/** The canonical spelling of a type constraint written as `expression`. @throws TypeProblem */
export async function canonicalType(file: string, expression: string): Promise<string> {
  let tree: ExpressionNode;
  try {
    tree = await parseExpression(file, expression);
  } catch {
    throw new TypeProblem('has a type that is not a valid expression');
  }
  return new TypePrinter(Buffer.from(expression, 'utf8')).type(tree, false);
}

class TypePrinter {
  constructor(private readonly source: Buffer) {}

  type(node: ExpressionNode, insideObject: boolean): string {
    if (node.type === 'scopeTraversal') {
      const name = singleName(node);
      if (name !== undefined && PRIMITIVES.has(name)) return name;
      throw new TypeProblem(`has the type ${this.text(node)}, which is not a type (use string, number, bool, any, list(...), map(...), object({...})...)`);
    }
    if (node.type === 'template') throw new TypeProblem('has a quoted type; write it without quotes, for example type = string');
    if (node.type !== 'function') throw new TypeProblem(`has the type ${this.text(node)}, which is not a type`);
    const name = typeof node.meta?.name === 'string' ? node.meta.name : '';
    const args = node.children;
    if (COLLECTIONS.has(name) && args.length === 1 && args[0] !== undefined) return `${name}(${this.type(args[0], false)})`;
    if (name === 'object' && args.length === 1 && args[0]?.type === 'object') return `object(${this.attributes(args[0])})`;
    if (name === 'tuple' && args.length === 1 && args[0]?.type === 'tuple') return `tuple([${args[0].children.map((element) => this.type(element, false)).join(', ')}])`;
    if (name === 'optional' && insideObject && args[0] !== undefined && args.length <= 2) {
      const fallback = args[1] === undefined ? '' : `, ${this.value(args[1])}`;
      return `optional(${this.type(args[0], false)}${fallback})`;
    }
    if (name === 'optional') throw new TypeProblem('uses optional(...) outside an object attribute');
    throw new TypeProblem(`has the type ${this.text(node)}, which is not a type`);
  }

  /** `{a = string, b = number}`: the object node's children are its keys and values, in turn. */
  private attributes(node: ExpressionNode): string {
    const parts: string[] = [];
    for (let index = 0; index + 1 < node.children.length; index += 2) {
      const key = node.children[index] as ExpressionNode;
      const value = node.children[index + 1] as ExpressionNode;
      parts.push(`${this.key(key)} = ${this.type(value, true)}`);
    }
    return `{${parts.join(', ')}}`;
  }

  /** A bare key is its own source text; a quoted one holds a template with one literal, quoted again if it must be. */
  private key(node: ExpressionNode): string {
    const quoted = node.children[0] === undefined ? undefined : quotedLiteral(node.children[0]);
    if (quoted === undefined) return this.text(node);
    return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(quoted) ? quoted : JSON.stringify(quoted);
  }

  /** A default inside optional(): a quoted string keeps its quotes (the parser's range for one excludes them). */
  private value(node: ExpressionNode): string {
    const quoted = quotedLiteral(node);
    return quoted === undefined ? this.text(node) : JSON.stringify(quoted);
  }

  /** The node's source text on one line (a quoted string cannot span lines, so joining them changes no value). */
  private text(node: ExpressionNode): string {
    return this.source
      .subarray(node.range.start.byte, node.range.end.byte)
      .toString('utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .join(' ');
  }
}

/** The string a quoted literal (a template holding one literal part) stands for. */
function quotedLiteral(node: ExpressionNode): string | undefined {
  const [literal, ...rest] = node.children;
  if (node.type === 'template' && literal === undefined) return '';
  if (node.type !== 'template' || rest.length > 0 || literal?.type !== 'literalValue') return undefined;
  return typeof literal.meta?.value === 'string' ? literal.meta.value : undefined;
}

function singleName(node: ExpressionNode): string | undefined {
  const traversal = node.meta?.traversal;
  if (!Array.isArray(traversal) || traversal.length !== 1) return undefined;
  const [segment] = traversal as Array<{ type?: unknown; segment?: unknown }>;
  return segment?.type === 'nameTraversal' && typeof segment.segment === 'string' ? segment.segment : undefined;
}
