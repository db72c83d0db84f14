/**
 * Where a JSON text stops being JSON. `JSON.parse` says so only in its message, in words that change between Node
 * versions (and often without a position), so a `*.tf.json` refusal could not name its line. This walks the text by
 * the JSON grammar (RFC 8259) and returns the offset of the first character that breaks it.
 */

class Stop extends Error {
  constructor(readonly offset: number) {
    super('invalid JSON');
  }
}

/** The offset of the first syntax error, or undefined when the text is valid JSON. */
export function jsonErrorOffset(source: string): number | undefined {
  let at = 0;
  const fail = (): never => {
    throw new Stop(at);
  };
  const space = () => {
    while (at < source.length && ' \t\n\r'.includes(source.charAt(at))) at += 1;
  };
  const expect = (word: string) => {
    for (const character of word) {
      if (source.charAt(at) !== character) fail();
      at += 1;
    }
  };
  const digits = () => {
    const start = at;
    while (source.charAt(at) >= '0' && source.charAt(at) <= '9') at += 1;
    if (at === start) fail();
  };
  const string = () => {
    expect('"');
    for (;;) {
      if (at >= source.length) fail();
      const character = source.charAt(at);
      if (character === '"') {
        at += 1;
        return;
      }
      if (character < ' ') fail();
      if (character === '\\') {
        at += 1;
        const escaped = source.charAt(at);
        if (escaped === 'u') {
          for (let index = 1; index <= 4; index += 1) if (!/[0-9a-fA-F]/.test(source.charAt(at + index))) fail();
          at += 5;
        } else if ('"\\/bfnrt'.includes(escaped) && escaped !== '') at += 1;
        else fail();
      } else at += 1;
    }
  };
  const number = () => {
    if (source.charAt(at) === '-') at += 1;
    if (source.charAt(at) === '0') at += 1;
    else digits();
    if (source.charAt(at) === '.') {
      at += 1;
      digits();
    }
    if (source.charAt(at) === 'e' || source.charAt(at) === 'E') {
      at += 1;
      if (source.charAt(at) === '+' || source.charAt(at) === '-') at += 1;
      digits();
    }
  };
  const value = (depth: number): void => {
    if (depth > 512) fail();
    space();
    const character = source.charAt(at);
    if (character === '{') {
      at += 1;
      space();
      if (source.charAt(at) === '}') {
        at += 1;
        return;
      }
      for (;;) {
        space();
        string();
        space();
        expect(':');
        value(depth + 1);
        space();
        if (source.charAt(at) === ',') at += 1;
        else return expect('}');
      }
    }
    if (character === '[') {
      at += 1;
      space();
      if (source.charAt(at) === ']') {
        at += 1;
        return;
      }
      for (;;) {
        value(depth + 1);
        space();
        if (source.charAt(at) === ',') at += 1;
        else return expect(']');
      }
    }
    if (character === '"') return string();
    if (character === 't') return expect('true');
    if (character === 'f') return expect('false');
    if (character === 'n') return expect('null');
    if (character === '-' || (character >= '0' && character <= '9')) return number();
    fail();
  };
  try {
    value(0);
    space();
    if (at < source.length) fail();
    return undefined;
  } catch (error) {
    if (error instanceof Stop) return Math.min(error.offset, source.length);
    throw error;
  }
}
