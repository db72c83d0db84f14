/**
 * A Terraform type constraint (`list(string)`, `object({ name = string, size = optional(number, 10) })`...) read
 * from the text a module declares, so a member's input can be checked against it before anything runs.
 *
 * The grammar is Terraform's own (developer.hashicorp.com/terraform/language/expressions/type-constraints): the
 * primitives `string`, `number`, `bool`, `any`; `list`, `set`, `map` of one type (bare `list` means `list(any)`);
 * `object({...})` with `optional(T)` or `optional(T, default)` attributes, separated by commas or line breaks;
 * `tuple([...])`. Whatever else is found is refused, with where: a type this bot cannot read is never guessed at.
 */

export type TypeConstraint =
  | { kind: 'string' | 'number' | 'bool' | 'any' }
  | { kind: 'list' | 'set' | 'map'; element: TypeConstraint }
  | { kind: 'object'; attributes: ObjectAttribute[] }
  | { kind: 'tuple'; elements: TypeConstraint[] };

export interface ObjectAttribute {
  name: string;
  type: TypeConstraint;
  /** `optional(...)`: may be left out (Terraform fills in its default, or null). */
  optional: boolean;
}

export class UnreadableType extends Error {
  constructor(source: string, at: number, expected: string) {
    super(`cannot read the type ${JSON.stringify(source.slice(0, 200))}: expected ${expected} at character ${at + 1}`);
    this.name = 'UnreadableType';
  }
}

const PRIMITIVES = new Set(['string', 'number', 'bool', 'any']);
const COLLECTIONS = new Set(['list', 'set', 'map']);
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_-]*/y;
/** Deeper than any real module nests; a bound on a hostile declaration. */
const MAX_DEPTH = 32;

/** @throws UnreadableType */
export function parseTypeConstraint(source: string): TypeConstraint {
  let text = source.trim();
  // hcl2json and JSON-syntax modules may give the expression wrapped as an interpolation.
  const wrapped = /^\$\{([\s\S]*)\}$/.exec(text);
  if (wrapped) text = wrapped[1]!.trim();
  const reader = new Reader(text);
  const type = reader.type(0);
  reader.skipSpace();
  if (!reader.done()) reader.fail('the end of the type');
  return type;
}

/** The constraint written back the way Terraform spells it (for messages and placeholders). */
export function formatType(type: TypeConstraint): string {
  switch (type.kind) {
    case 'string':
    case 'number':
    case 'bool':
    case 'any':
      return type.kind;
    case 'list':
    case 'set':
    case 'map':
      return `${type.kind}(${formatType(type.element)})`;
    case 'tuple':
      return `tuple([${type.elements.map(formatType).join(', ')}])`;
    case 'object':
      return `object({${type.attributes.map((a) => `${a.name} = ${a.optional ? `optional(${formatType(a.type)})` : formatType(a.type)}`).join(', ')}})`;
  }
}

export function isPrimitive(type: TypeConstraint): type is { kind: 'string' | 'number' | 'bool' } {
  return type.kind === 'string' || type.kind === 'number' || type.kind === 'bool';
}

class Reader {
  #at = 0;

  constructor(private readonly source: string) {}

  done(): boolean {
    return this.#at >= this.source.length;
  }

  fail(expected: string): never {
    throw new UnreadableType(this.source, this.#at, expected);
  }

  skipSpace(): void {
    while (!this.done()) {
      const rest = this.source.slice(this.#at);
      const space = /^(?:\s+|#[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\/)/.exec(rest);
      if (!space) return;
      this.#at += space[0].length;
    }
  }

  peek(): string {
    this.skipSpace();
    return this.source[this.#at] ?? '';
  }

  expect(char: string): void {
    if (this.peek() !== char) this.fail(`"${char}"`);
    this.#at += 1;
  }

  accept(char: string): boolean {
    if (this.peek() !== char) return false;
    this.#at += 1;
    return true;
  }

  identifier(): string {
    this.skipSpace();
    IDENTIFIER.lastIndex = this.#at;
    const match = IDENTIFIER.exec(this.source);
    if (!match) this.fail('a type name');
    this.#at += match[0].length;
    return match[0];
  }

  type(depth: number): TypeConstraint {
    if (depth > MAX_DEPTH) this.fail(`at most ${MAX_DEPTH} levels of nesting`);
    const at = this.#at;
    const name = this.identifier();
    if (PRIMITIVES.has(name)) return { kind: name as 'string' | 'number' | 'bool' | 'any' };
    if (COLLECTIONS.has(name)) {
      const kind = name as 'list' | 'set' | 'map';
      if (!this.accept('(')) return { kind, element: { kind: 'any' } };
      const element = this.type(depth + 1);
      this.expect(')');
      return { kind, element };
    }
    if (name === 'tuple') return this.tuple(depth);
    if (name === 'object') return this.object(depth);
    this.#at = at;
    return this.fail('string, number, bool, any, list, set, map, object or tuple');
  }

  tuple(depth: number): TypeConstraint {
    this.expect('(');
    this.expect('[');
    const elements: TypeConstraint[] = [];
    while (this.peek() !== ']') {
      elements.push(this.type(depth + 1));
      if (!this.accept(',')) break;
    }
    this.expect(']');
    this.expect(')');
    return { kind: 'tuple', elements };
  }

  object(depth: number): TypeConstraint {
    this.expect('(');
    this.expect('{');
    const attributes: ObjectAttribute[] = [];
    while (this.peek() !== '}') {
      const name = this.attributeName();
      if (attributes.some((a) => a.name === name)) this.fail(`a new attribute name (${name} is declared twice)`);
      if (!this.accept('=') && !this.accept(':')) this.fail('"=" after the attribute name');
      attributes.push({ name, ...this.attributeType(depth) });
      // Commas or line breaks separate attributes; skipSpace has taken the line breaks.
      this.accept(',');
    }
    this.expect('}');
    this.expect(')');
    return { kind: 'object', attributes };
  }

  attributeName(): string {
    if (this.peek() === '"') return this.quoted();
    return this.identifier();
  }

  attributeType(depth: number): { type: TypeConstraint; optional: boolean } {
    const at = this.#at;
    const name = this.identifier();
    if (name !== 'optional') {
      this.#at = at;
      return { type: this.type(depth + 1), optional: false };
    }
    this.expect('(');
    const type = this.type(depth + 1);
    // The default is Terraform's to apply: an attribute left out gets it, so only its extent matters here.
    if (this.accept(',')) this.skipExpression(')');
    this.expect(')');
    return { type, optional: true };
  }

  quoted(): string {
    this.expect('"');
    let value = '';
    while (!this.done() && this.source[this.#at] !== '"') {
      if (this.source[this.#at] === '\\') this.#at += 1;
      value += this.source[this.#at] ?? '';
      this.#at += 1;
    }
    this.expect('"');
    return value;
  }

  /** Moves past an expression up to (not including) `end` at depth 0, minding brackets and strings. */
  skipExpression(end: string): void {
    const closing: string[] = [];
    while (!this.done()) {
      const char = this.source[this.#at]!;
      if (closing.length === 0 && char === end) return;
      if (char === '"') {
        this.quoted();
        continue;
      }
      if (char === '(' || char === '[' || char === '{') closing.push(char === '(' ? ')' : char === '[' ? ']' : '}');
      else if (char === ')' || char === ']' || char === '}') {
        if (closing.pop() !== char) this.fail('balanced brackets in the default');
      }
      this.#at += 1;
    }
    this.fail(`"${end}"`);
  }
}
