/**
 * Where a text stops being JSON, as a line and column, without quoting any of it: the file an operator names may
 * be something else entirely (PRICING_OVERRIDES_FILE=/etc/passwd), and its content must not reach a log.
 * JSON.parse's own message quotes the text around the error, and in Node 20 often gives no position at all.
 */

/**
 * The offset of the first character that breaks JSON syntax, `text.length` when the text ends too early, or -1 when
 * no place can be named (the text is valid, or nested deeper than this scanner follows).
 */
export function firstSyntaxError(text: string): number {
  let at = 0;
  const fail = (): never => {
    throw at;
  };
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text.charAt(at))) at += 1;
  };
  const literal = (word: string) => {
    for (const char of word) {
      if (text.charAt(at) !== char) fail();
      at += 1;
    }
  };
  const string = () => {
    at += 1;
    while (at < text.length && text.charAt(at) !== '"') {
      const code = text.charCodeAt(at);
      if (code < 0x20) fail();
      if (text.charAt(at) === '\\') {
        at += 1;
        if (text.charAt(at) === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) fail();
          at += 4;
        } else if (!'"\\/bfnrt'.includes(text.charAt(at)) || at >= text.length) fail();
      }
      at += 1;
    }
    if (at >= text.length) fail();
    at += 1;
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at, at + 400));
    if (!match || match[0] === '' || match[0] === '-') fail();
    at += (match as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    space();
    const char = text.charAt(at);
    if (char === '{') return members('}', () => {
      space();
      if (text.charAt(at) !== '"') fail();
      string();
      space();
      literal(':');
      value();
    });
    if (char === '[') return members(']', value);
    if (char === '"') return string();
    if (char === 't') return literal('true');
    if (char === 'f') return literal('false');
    if (char === 'n') return literal('null');
    if (char === '-' || (char >= '0' && char <= '9')) return number();
    fail();
  };
  const members = (close: string, member: () => void) => {
    at += 1;
    space();
    if (text.charAt(at) === close) {
      at += 1;
      return;
    }
    for (;;) {
      member();
      space();
      if (text.charAt(at) === ',') at += 1;
      else if (text.charAt(at) === close) {
        at += 1;
        return;
      } else fail();
    }
  };
  try {
    value();
    space();
    if (at < text.length) fail();
  } catch (offset) {
    // Anything but an offset is a stack overflow on absurd nesting: no place to name.
    return typeof offset === 'number' ? Math.min(offset, text.length) : -1;
  }
  return -1;
}

/** "line 3, column 9" for where `text` is not valid JSON (1-based), or "the end of the file…". */
export function jsonErrorLocation(text: string): string {
  const offset = firstSyntaxError(text);
  if (offset < 0) return 'a place the bot cannot point to';
  if (offset >= text.length) return 'the end of the file (it stops too early)';
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}
