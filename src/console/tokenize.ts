/**
 * Splits a typed line into words the way a shell would: spaces separate, double or single quotes keep spaces
 * (`project_name:"my demo"` is one word, `project_name:my demo`), a backslash escapes the next character.
 */

export interface Word {
  /** The word with quotes and escapes removed. */
  text: string;
  /** Where the word starts in the line. */
  start: number;
}

export interface Tokenized {
  words: Word[];
  /** The line ends inside a quote (only while typing: the completer sees it, a submitted line is refused). */
  unterminatedQuote: boolean;
  /** The line ends with a space: the word being typed is a new, empty one. */
  endsWithSpace: boolean;
}

export function tokenize(line: string): Tokenized {
  const words: Word[] = [];
  let current: Word | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const char = line.charAt(i);
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && i + 1 < line.length) {
        i += 1;
        current = appendTo(current, line.charAt(i), i);
      } else current = appendTo(current, char, i);
      continue;
    }
    if (/\s/.test(char)) {
      if (current) words.push(current);
      current = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
      current ??= { text: '', start: i };
    } else if (char === '\\' && i + 1 < line.length) {
      current ??= { text: '', start: i };
      i += 1;
      current.text += line.charAt(i);
    } else current = appendTo(current, char, i);
  }
  if (current) words.push(current);
  const last = line.charAt(line.length - 1);
  return { words, unterminatedQuote: quote !== undefined, endsWithSpace: quote === undefined && /\s/.test(last) };
}

function appendTo(word: Word | undefined, char: string, at: number): Word {
  if (!word) return { text: char, start: at };
  word.text += char;
  return word;
}

/** Quotes a value for the command line when it needs it, so completions can be typed back as they are. */
export function quoteIfNeeded(value: string): string {
  if (value !== '' && !/[\s"'\\]/.test(value)) return value;
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}
