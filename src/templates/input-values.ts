/**
 * What a member types for a template's input, read against the input's declared Terraform type before anything
 * runs. One rule per type, the same in Discord's forms and the console's prompts:
 *
 * - `string`: the text, without the spaces around it. Written as a JSON string (`"  padded  "`), it is decoded.
 * - `number`: a number as JSON writes it: `3`, `-2.5`, `1e6`.
 * - `bool`: `true` or `false`.
 * - `list(T)`, `set(T)`, `tuple([...])`: a JSON array (`["a", "b"]`), or, when the items are strings, numbers or
 *   bools, the items separated by commas (`a, b`). `[]` is the empty list.
 * - `map(T)`: a JSON object (`{"team": "web"}`), or, for string, number or bool values, `key=value` pairs separated
 *   by commas (`team=web, tier=1`).
 * - `object({...})`: a JSON object with the declared attributes (optional ones may be left out, no others).
 * - `any`: JSON when it reads as JSON, else the text.
 *
 * Inside JSON every value must already have its declared type (`"8080"` is not a number). The word `null` alone
 * means null, accepted only where the input is nullable (never for a secret input). A field left empty means the
 * input's default. Problems name the input and say what was expected; they never repeat what was typed, since it
 * may be a secret.
 */
import { formatType, isPrimitive, parseTypeConstraint, UnreadableType, type TypeConstraint } from './type-constraint.js';
import type { TemplateVariable } from './template.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An input as the checks need it: the variable, with its type read. */
export interface InputSpec {
  name: string;
  type: TypeConstraint;
  nullable: boolean;
  sensitive: boolean;
}

export interface InputProblem {
  /** The input's name. */
  input: string;
  /** Where inside the value, e.g. `item 2`, `key "team"`, `attribute size`; empty for the value itself. */
  at: string;
  /** What was expected there, as a phrase: "a number (such as 3 or 2.5)". */
  expected: string;
}

export type Reading = { given: false } | { given: true; value: JsonValue } | { given: true; problem: InputProblem };

/** Longer than any Discord text field (4,000); a bound on what is read and stored. */
export const MAX_INPUT_CHARS = 4000;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** Terraform's identifier rule, also what an environment variable name `TF_VAR_<name>` can carry. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * The input spec of a template's variable.
 * @throws UnreadableType when the declared type cannot be read, or the name is not a Terraform identifier.
 */
export function inputSpecOf(variable: Pick<TemplateVariable, 'name' | 'type' | 'nullable' | 'sensitive'>): InputSpec {
  if (!VARIABLE_NAME.test(variable.name)) throw new UnreadableType(variable.name, 0, 'a variable name of letters, digits, "_" and "-" (at most 64)');
  return { name: variable.name, type: parseTypeConstraint(variable.type), nullable: variable.nullable, sensitive: variable.sensitive };
}

/** Reads what was typed for `spec` by the rule of its type (see the module comment). */
export function readInput(spec: InputSpec, typed: string): Reading {
  const problem = (at: string, expected: string): Reading => ({ given: true, problem: { input: spec.name, at, expected } });
  if ([...typed].length > MAX_INPUT_CHARS) return problem('', `at most ${MAX_INPUT_CHARS} characters`);
  const text = typed.trim();
  if (text === '') return { given: false };
  if (text === 'null') {
    if (spec.sensitive) return problem('', `${expectationOf(spec.type)}; a secret input cannot be null (leave it empty for its default)`);
    return spec.nullable ? { given: true, value: null } : problem('', `${expectationOf(spec.type)}; this input cannot be null`);
  }
  const parsed = parseText(spec.type, text);
  if ('expected' in parsed) return problem(parsed.at, parsed.expected);
  const wrong = checkValue(spec.type, parsed.value, '');
  return wrong ? problem(wrong.at, wrong.expected) : { given: true, value: parsed.value };
}

/** Where a JSON value breaks `type`, or undefined when it fits. Null fits only as an object attribute's value. */
export function checkValue(type: TypeConstraint, value: JsonValue, at: string): { at: string; expected: string } | undefined {
  const wrong = { at, expected: expectationOf(type) };
  switch (type.kind) {
    case 'any':
      return undefined;
    case 'string':
      return typeof value === 'string' ? undefined : wrong;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : wrong;
    case 'bool':
      return typeof value === 'boolean' ? undefined : wrong;
    case 'list':
    case 'set':
      if (!Array.isArray(value)) return wrong;
      return firstOf(value.map((item, i) => checkValue(type.element, item, within(at, `item ${i + 1}`))));
    case 'tuple':
      if (!Array.isArray(value)) return wrong;
      if (value.length !== type.elements.length) return { at, expected: `${wrong.expected}, with exactly ${type.elements.length} item${type.elements.length === 1 ? '' : 's'}` };
      return firstOf(value.map((item, i) => checkValue(type.elements[i]!, item, within(at, `item ${i + 1}`))));
    case 'map':
      if (!isObject(value)) return wrong;
      return firstOf(Object.entries(value).map(([key, item]) => checkValue(type.element, item, within(at, `key ${JSON.stringify(key)}`))));
    case 'object': {
      if (!isObject(value)) return wrong;
      const names = type.attributes.map((a) => a.name);
      const unknown = Object.keys(value).find((key) => !names.includes(key));
      if (unknown !== undefined) return { at: within(at, `attribute ${unknown}`), expected: `no such attribute (it has ${names.join(', ') || 'none'})` };
      for (const attribute of type.attributes) {
        const item = value[attribute.name];
        if (item === undefined) {
          if (!attribute.optional) return { at: within(at, `attribute ${attribute.name}`), expected: `${expectationOf(attribute.type)} (it is required)` };
          continue;
        }
        if (item === null) continue;
        const problem = checkValue(attribute.type, item, within(at, `attribute ${attribute.name}`));
        if (problem) return problem;
      }
      return undefined;
    }
  }
}

/** What a value of `type` is, for people: "a list of numbers", "true or false". */
export function expectationOf(type: TypeConstraint): string {
  switch (type.kind) {
    case 'string':
      return 'text';
    case 'number':
      return 'a number (such as 3 or 2.5)';
    case 'bool':
      return 'true or false';
    case 'any':
      return 'any value';
    case 'list':
    case 'set':
      return `a ${type.kind} of ${plural(type.element)}`;
    case 'map':
      return `a map of ${plural(type.element)}`;
    case 'tuple':
      return `a list of ${type.elements.length} item${type.elements.length === 1 ? '' : 's'} (${type.elements.map(formatType).join(', ')})`;
    case 'object':
      return `an object with ${type.attributes.map((a) => `${a.name}${a.optional ? '?' : ''}`).join(', ') || 'no attributes'}`;
  }
}

/** How to write a value of `type` in a form field, briefly (Discord placeholders hold 100 characters). */
export function writingHint(type: TypeConstraint): string {
  switch (type.kind) {
    case 'string':
      return 'text';
    case 'number':
      return 'a number, e.g. 3';
    case 'bool':
      return 'true or false';
    case 'any':
      return 'JSON, or text';
    case 'list':
    case 'set':
    case 'tuple': {
      const items = type.kind === 'tuple' ? type.elements : [type.element];
      return items.every(isPrimitive) ? `${formatType(type)}: a, b or a JSON array` : `${formatType(type)} as a JSON array`;
    }
    case 'map':
      return isPrimitive(type.element) ? `${formatType(type)}: k=v, k2=v2 or JSON` : `${formatType(type)} as a JSON object`;
    case 'object':
      return `${formatType(type)} as a JSON object`;
  }
}

/** Whether a form should give the field several lines (JSON is easier to read that way). */
export function wantsSeveralLines(type: TypeConstraint): boolean {
  return !isPrimitive(type);
}

/**
 * The value as the engine reads it from `TF_VAR_<name>`: a string, number or bool (and anything for a variable with
 * no declared type) literally; any other type as an HCL expression, here JSON with `${` and `%{` doubled so the
 * engine does not read them as templates (checked with Terraform 1.11.4).
 */
export function toEnvironmentValue(type: TypeConstraint, value: JsonValue): string {
  if (typeof value === 'string' && (type.kind === 'string' || type.kind === 'any')) return value;
  if ((typeof value === 'number' || typeof value === 'boolean') && isPrimitive(type)) return String(value);
  return JSON.stringify(value)
    .replace(/\$\{/g, () => '$${')
    .replace(/%\{/g, () => '%%{');
}

// ---------------------------------------------------------------------------------------------------------------

type Parsed = { value: JsonValue } | { at: string; expected: string };

function parseText(type: TypeConstraint, text: string): Parsed {
  switch (type.kind) {
    case 'string':
      return { value: text.startsWith('"') ? (jsonString(text) ?? text) : text };
    case 'number':
      return scalar(type, text);
    case 'bool':
      return scalar(type, text);
    case 'any': {
      const json = parseJson(text);
      return json === undefined ? { value: text } : { value: json };
    }
    case 'list':
    case 'set':
    case 'tuple': {
      if (text.startsWith('[')) return json(type, text);
      const items = type.kind === 'tuple' ? type.elements : text.split(',').map(() => type.element);
      if (!items.every(isPrimitive)) return { at: '', expected: `${expectationOf(type)}, written as a JSON array` };
      const parts = text.split(',').map((part) => part.trim());
      const values: JsonValue[] = [];
      for (const [i, part] of parts.entries()) {
        const itemType = items[i] ?? items[0]!;
        if (part === '') return { at: `item ${i + 1}`, expected: `${expectationOf(itemType)} (nothing is between two commas)` };
        const item = scalar(itemType, part);
        if ('expected' in item) return { at: `item ${i + 1}`, expected: item.expected };
        values.push(item.value);
      }
      return { value: values };
    }
    case 'map': {
      if (text.startsWith('{')) return json(type, text);
      if (!isPrimitive(type.element)) return { at: '', expected: `${expectationOf(type)}, written as a JSON object` };
      const entries: Record<string, JsonValue> = {};
      for (const [i, part] of text.split(',').map((p) => p.trim()).entries()) {
        const eq = part.indexOf('=');
        const key = eq === -1 ? '' : part.slice(0, eq).trim();
        if (key === '') return { at: `pair ${i + 1}`, expected: 'key=value (or a JSON object)' };
        if (Object.hasOwn(entries, key)) return { at: `key ${JSON.stringify(key)}`, expected: 'each key once' };
        const item = scalar(type.element, part.slice(eq + 1).trim());
        if ('expected' in item) return { at: `key ${JSON.stringify(key)}`, expected: item.expected };
        entries[key] = item.value;
      }
      return { value: entries };
    }
    case 'object':
      return text.startsWith('{') ? json(type, text) : { at: '', expected: `${expectationOf(type)}, written as a JSON object` };
  }
}

/** A string, number or bool as a field or a comma-separated item holds it. */
function scalar(type: TypeConstraint, text: string): Parsed {
  if (type.kind === 'number') return NUMBER.test(text) && Number.isFinite(Number(text)) ? { value: Number(text) } : { at: '', expected: expectationOf(type) };
  if (type.kind === 'bool') {
    const lower = text.toLowerCase();
    return lower === 'true' || lower === 'false' ? { value: lower === 'true' } : { at: '', expected: expectationOf(type) };
  }
  return { value: text.startsWith('"') ? (jsonString(text) ?? text) : text };
}

function json(type: TypeConstraint, text: string): Parsed {
  const value = parseJson(text);
  // JSON.parse's own message quotes the text, which may be a secret: only say what to check.
  if (value === undefined) return { at: '', expected: `${expectationOf(type)}, as valid JSON (check the brackets, commas and double quotes)` };
  return { value };
}

function parseJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

function jsonString(text: string): string | undefined {
  const value = parseJson(text);
  return typeof value === 'string' ? value : undefined;
}

function plural(type: TypeConstraint): string {
  switch (type.kind) {
    case 'string':
      return 'strings';
    case 'number':
      return 'numbers';
    case 'bool':
      return 'bools';
    case 'any':
      return 'values';
    default:
      return `${formatType(type)} values`;
  }
}

function within(at: string, part: string): string {
  return at ? `${at}, ${part}` : part;
}

function firstOf<T>(items: Array<T | undefined>): T | undefined {
  return items.find((item) => item !== undefined);
}

function isObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
