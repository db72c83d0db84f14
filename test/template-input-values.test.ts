import { describe, expect, it } from 'vitest';
import { inputSpecOf, readInput, toEnvironmentValue, type InputSpec, type Reading } from '../src/templates/input-values.js';
import { formatType, parseTypeConstraint, UnreadableType } from '../src/templates/type-constraint.js';

const spec = (type: string, extra: Partial<Omit<InputSpec, 'type'>> = {}): InputSpec => ({
  name: 'thing',
  type: parseTypeConstraint(type),
  nullable: true,
  sensitive: false,
  ...extra,
});
const value = (reading: Reading) => {
  if (!reading.given || 'problem' in reading) throw new Error(`no value: ${JSON.stringify(reading)}`);
  return reading.value;
};
const problem = (reading: Reading) => {
  if (!reading.given || !('problem' in reading)) throw new Error(`no problem: ${JSON.stringify(reading)}`);
  return reading.problem;
};

describe('Terraform type constraints', () => {
  it('reads every kind, nested, with optional attributes and their defaults', () => {
    const type = parseTypeConstraint(`object({
      name = string
      sizes = optional(list(number), [1, 2])
      tags: map(string),
      "odd-name" = optional(tuple([string, bool]), { a = "}" })
    })`);
    expect(formatType(type)).toBe('object({name = string, sizes = optional(list(number)), tags = map(string), odd-name = optional(tuple([string, bool]))})');
    expect(formatType(parseTypeConstraint('${list}'))).toBe('list(any)');
    expect(formatType(parseTypeConstraint(' set( string ) '))).toBe('set(string)');
  });

  it('refuses what it cannot read, saying where', () => {
    expect(() => parseTypeConstraint('list(strin)')).toThrow(UnreadableType);
    expect(() => parseTypeConstraint('map(string')).toThrow(/expected "\)"/);
    expect(() => parseTypeConstraint('object({a = string, a = number})')).toThrow(/declared twice/);
    expect(() => parseTypeConstraint('string extra')).toThrow(/end of the type/);
    expect(() => inputSpecOf({ name: 'bad name', type: 'string', nullable: true, sensitive: false })).toThrow(UnreadableType);
  });
});

describe('reading what a member typed, by the input’s type', () => {
  it('string: trimmed text, a JSON string decoded, empty means the default', () => {
    expect(value(readInput(spec('string'), '  web  '))).toBe('web');
    expect(value(readInput(spec('string'), '"  padded  "'))).toBe('  padded  ');
    expect(value(readInput(spec('string'), '${not.a.template}'))).toBe('${not.a.template}');
    expect(readInput(spec('string'), '   ')).toEqual({ given: false });
  });

  it('number and bool', () => {
    expect(value(readInput(spec('number'), ' -2.5e3 '))).toBe(-2500);
    expect(problem(readInput(spec('number'), '12abc'))).toEqual({ input: 'thing', at: '', expected: 'a number (such as 3 or 2.5)' });
    expect(problem(readInput(spec('number'), '0x10')).expected).toMatch(/number/);
    expect(value(readInput(spec('bool'), 'TRUE'))).toBe(true);
    expect(problem(readInput(spec('bool'), 'yes')).expected).toBe('true or false');
  });

  it('lists, sets and tuples: JSON arrays or comma lists of simple items', () => {
    expect(value(readInput(spec('list(string)'), 'a, b ,c'))).toEqual(['a', 'b', 'c']);
    expect(value(readInput(spec('list(number)'), '[1, 2]'))).toEqual([1, 2]);
    expect(value(readInput(spec('set(bool)'), 'true,false'))).toEqual([true, false]);
    expect(value(readInput(spec('tuple([string, number])'), 'x, 3'))).toEqual(['x', 3]);
    expect(problem(readInput(spec('list(number)'), '1, two'))).toEqual({ input: 'thing', at: 'item 2', expected: 'a number (such as 3 or 2.5)' });
    expect(problem(readInput(spec('list(number)'), '["1"]')).at).toBe('item 1');
    expect(problem(readInput(spec('list(string)'), 'a,,b')).expected).toMatch(/nothing is between two commas/);
    expect(problem(readInput(spec('tuple([string, number])'), '["x"]')).expected).toMatch(/exactly 2 items/);
    expect(problem(readInput(spec('list(map(string))'), 'a, b')).expected).toMatch(/written as a JSON array/);
    expect(problem(readInput(spec('list(string)'), '[a, b')).expected).toMatch(/valid JSON/);
  });

  it('maps: JSON objects or key=value pairs', () => {
    expect(value(readInput(spec('map(string)'), 'team=web, tier = 1'))).toEqual({ team: 'web', tier: '1' });
    expect(value(readInput(spec('map(number)'), '{"a": 1}'))).toEqual({ a: 1 });
    expect(problem(readInput(spec('map(number)'), 'a=1, a=2')).expected).toBe('each key once');
    expect(problem(readInput(spec('map(number)'), 'a=x'))).toEqual({ input: 'thing', at: 'key "a"', expected: 'a number (such as 3 or 2.5)' });
    expect(problem(readInput(spec('map(string)'), 'novalue')).expected).toMatch(/key=value/);
  });

  it('objects: JSON with the declared attributes, optional ones may be left out, no others', () => {
    const type = 'object({name = string, size = optional(number, 10)})';
    expect(value(readInput(spec(type), '{"name": "db"}'))).toEqual({ name: 'db' });
    expect(problem(readInput(spec(type), '{"size": 3}'))).toEqual({ input: 'thing', at: 'attribute name', expected: 'text (it is required)' });
    expect(problem(readInput(spec(type), '{"name": "db", "colour": "red"}')).expected).toMatch(/no such attribute \(it has name, size\)/);
    expect(problem(readInput(spec(type), '{"name": "db", "size": "big"}')).at).toBe('attribute size');
    expect(problem(readInput(spec(type), 'name=db')).expected).toMatch(/JSON object/);
  });

  it('any: JSON when it is JSON, else text', () => {
    expect(value(readInput(spec('any'), '[1, "a"]'))).toEqual([1, 'a']);
    expect(value(readInput(spec('any'), 'plain words'))).toBe('plain words');
  });

  it('null only where the input is nullable, never for a secret', () => {
    expect(value(readInput(spec('number'), 'null'))).toBeNull();
    expect(problem(readInput(spec('number', { nullable: false }), 'null')).expected).toMatch(/cannot be null/);
    expect(problem(readInput(spec('string', { sensitive: true }), 'null')).expected).toMatch(/secret input cannot be null/);
  });

  it('never repeats the value in a problem', () => {
    const secret = 'hunter2-{not json';
    const found = problem(readInput(spec('map(string)', { sensitive: true }), `{${secret}`));
    expect(JSON.stringify(found)).not.toContain('hunter2');
  });
});

describe('values for TF_VAR_<name>', () => {
  it('simple values literally, others as HCL with template sequences escaped', () => {
    expect(toEnvironmentValue(parseTypeConstraint('string'), 'p@ss ${x}')).toBe('p@ss ${x}');
    expect(toEnvironmentValue(parseTypeConstraint('number'), 4.5)).toBe('4.5');
    expect(toEnvironmentValue(parseTypeConstraint('bool'), false)).toBe('false');
    expect(toEnvironmentValue(parseTypeConstraint('map(string)'), { k: 'v${x}', j: '%{y}' })).toBe('{"k":"v$${x}","j":"%%{y}"}');
  });
});
