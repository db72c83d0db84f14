/**
 * Text a member typed (a project, credential or resource name, a reason, an instance type) and then shows to others.
 *
 * Two rules. (1) Names must look like what they are: invisible and formatting characters (zero-width characters,
 * bidirectional controls, every Unicode "format" character, controls, odd spaces, blank fillers) are refused when
 * the name is given, with a message naming the character. (2) Whatever a member typed is shown inert: `escapeMarkdown`
 * is the one place that makes it so, used by every view and by every message that quotes a member's text.
 */

export interface InvisibleCharacter {
  /** e.g. "U+202E". */
  codePoint: string;
  /** What kind of character it is, for the member: "a bidirectional control". */
  kind: string;
  /** 0-based position in the text, counted in characters. */
  position: number;
}

const ZERO_WIDTH = new Set([0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x180e]);
const BIDI = new Set([0x200e, 0x200f, 0x061c, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]);
/** Letters and symbols that render as nothing: Hangul fillers, the braille blank, the combining grapheme joiner. */
const BLANK_LOOKING = new Set([0x115f, 0x1160, 0x3164, 0xffa0, 0x2800, 0x034f]);

function kindOf(char: string): string | undefined {
  const code = char.codePointAt(0)!;
  if (ZERO_WIDTH.has(code)) return 'a zero-width character';
  if (BIDI.has(code)) return 'a bidirectional control (it reorders the text around it)';
  if (BLANK_LOOKING.has(code)) return 'a character that shows as blank';
  if (/\p{Cf}/u.test(char)) return 'an invisible formatting character';
  if (/\p{Cc}/u.test(char)) return 'a control character';
  if (/[\p{Zl}\p{Zp}]/u.test(char)) return 'a line break';
  if (/\p{Zs}/u.test(char) && char !== ' ') return 'an unusual space (only the ordinary space is allowed)';
  if (/[\p{Co}\p{Cn}\p{Cs}]/u.test(char)) return 'a private-use, unassigned or broken character';
  return undefined;
}

/**
 * Every character kindOf names, in one pattern: most text has none, and one test of the whole string is far cheaper
 * than five per character (names are checked on every lookup, so this runs for most interactions).
 */
const ANY_SUSPECT =
  /[\u200b-\u200f\u2060\ufeff\u180e\u061c\u202a-\u202e\u2066-\u2069\u115f\u1160\u3164\uffa0\u2800\p{Cf}\p{Cc}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]|\u034f|[^\S ]/u;

/** The first character of `text` that would hide or disguise what the text says, if any. */
export function findInvisible(text: string): InvisibleCharacter | undefined {
  if (!ANY_SUSPECT.test(text)) return undefined;
  let position = 0;
  for (const char of text) {
    const kind = kindOf(char);
    if (kind) return { codePoint: codePointLabel(char), kind, position };
    position++;
  }
  return undefined;
}

/** Why `text` is refused as a name, phrased to follow "it" / "the name"; undefined when it is fine. */
export function invisibleCharacterProblem(text: string): string | undefined {
  const found = findInvisible(text);
  if (!found) return undefined;
  return (
    `contains ${found.kind}, ${found.codePoint}, at character ${found.position + 1}: such characters make text look ` +
    'like something it is not. Type it again without it (pasted text often carries them)'
  );
}

/** For zod: `.superRefine(refuseInvisible)` adds the problem as an issue. */
export function refuseInvisible(text: string, ctx: { addIssue(issue: { code: 'custom'; message: string }): void }): void {
  const problem = invisibleCharacterProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}

function codePointLabel(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Anything one of escapeMarkdown's replacements below would change: the union of their patterns. */
const NEEDS_ESCAPING = /[\\*_~`|[\]()<>]|^[-+#]|^\d+\.|@(?:everyone|here)|:\/\//im;

/**
 * A member's text, safe to put in a Discord message or embed: markdown (`**`, `_`, `~~`, `||spoilers||`, backticks,
 * masked links `[text](url)`, headings, quotes, lists) shows as typed, mentions (`<@id>`, `@everyone`, `@here`) and
 * links do not work, and invisible characters (in names stored before they were refused) show as `{U+202E}`.
 * Pings are also off for every message the bot sends (allowed_mentions), so this is about what people read.
 */
export function escapeMarkdown(text: string): string {
  const revealed = revealInvisible(text);
  // Most names need nothing escaped: one test instead of five passes over the text (every row of /cloud-projects).
  if (!NEEDS_ESCAPING.test(revealed)) return revealed;
  return (
    revealed
      .replace(/[\\*_~`|[\]()<>]/g, '\\$&')
      // Lists and headings only start a line; numbered lists are digits, a dot, a space.
      .replace(/^([-+#])/gm, '\\$1')
      .replace(/^(\d+)\./gm, '$1\\.')
      // `@everyone` and `@here` must not even look like a mention; a link must not be clickable.
      .replace(/@(everyone|here)/gi, '@\u200b$1')
      .replace(/:\/\//g, ':\\/\\/')
  );
}

/**
 * A value someone gave, fit to quote back in a message ("unknown setting …"): at most `max` characters, and every
 * invisible or control character shown as `{U+202E}`, so the quote cannot hide or reorder what it says. Markdown is
 * left as typed: a message in markdown passes the quote through escapeMarkdown too.
 */
export function printable(value: unknown, max = 64): string {
  return revealInvisible(Array.from(String(value)).slice(0, max).join(''));
}

/** Each character that would hide or disguise a text written as its code point, `{U+202E}`; front ends without markdown use it. */
export function revealInvisible(text: string): string {
  if (!ANY_SUSPECT.test(text)) return text;
  let out = '';
  for (const char of text) out += kindOf(char) ? `{${codePointLabel(char)}}` : char;
  return out;
}
