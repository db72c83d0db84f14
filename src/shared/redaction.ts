/**
 * The one redaction path for what a run shows, stores or logs: results, outputs, progress events, errors, warnings,
 * `iac_runs.error` and log entries all go through a Redactor built from the run's secret values.
 *
 * A secret is blanked however the text spells it: as given, in another case, JSON-escaped (`\n`, `\"`, `\u002f`,
 * escaped twice), URL-encoded (`%2F`, `+` for a space), and cut at an edge (a text truncated before it reached us,
 * or by us: `clip` redacts first, then truncates, then blanks a trailing piece of a secret).
 *
 * Minimum length: a value shorter than MIN_SECRET_LENGTH characters is not treated as a secret. Six is the shortest
 * secret a supported provider issues (a GCP project id is 6 to 30 characters; AWS key ids are 16 or more, Azure
 * ids are 36-character GUIDs). Anything shorter ("us", "true", "1") occurs in ordinary text, so blanking it would
 * shred every message while protecting nothing a guess would not find.
 */

export const MIN_SECRET_LENGTH = 6;
/** A piece of a secret cut at an edge of a text is blanked from this many characters on. */
export const MIN_PARTIAL_LENGTH = 6;
export const REDACTED = '[redacted]';

/** Fields of a Google service-account key file that are the same in every key file, hence not secret. */
const PUBLIC_KEY_FILE_FIELDS = new Set(['type', 'auth_uri', 'token_uri', 'auth_provider_x509_cert_url', 'universe_domain']);
/** A line of a multi-line secret (a PEM key) long enough to identify it on its own. */
const MIN_LINE_LENGTH = 16;
/** The longest escape sequence (`\u002f`) that a cut can leave half at an edge of a text. */
const EDGE_SLACK = 5;
/** How many decodings are stacked (JSON in JSON in a URL...). */
const MAX_DECODE_DEPTH = 3;

type Span = [start: number, end: number];

/** A text with none of these characters has no decoding other than itself (see DECODERS). */
const ENCODED = /[\\%+]/;

/** A decoded reading of a text; `origin[i]` is where decoded character i starts in the original text. */
interface View {
  text: string;
  origin: number[];
}

export class Redactor {
  /** For runs without secrets, and for tests. */
  static readonly none = new Redactor([]);

  readonly #needles: string[];
  readonly #lowerNeedles: string[];
  readonly #patterns: RegExp[];
  readonly #longest: number;

  constructor(secretValues: Iterable<string>) {
    const needles = new Set<string>();
    for (const value of secretValues) addNeedles(value, needles);
    this.#needles = [...needles].sort((a, b) => b.length - a.length);
    this.#lowerNeedles = this.#needles.map((needle) => needle.toLowerCase());
    this.#patterns = this.#needles.map((needle) => new RegExp(escapeRegExp(needle), 'gi'));
    this.#longest = this.#needles[0]?.length ?? 0;
  }

  /** The text with every whole secret, in any of the spellings above, replaced by [redacted]. */
  text(text: string): string {
    if (this.#needles.length === 0 || text.length < MIN_SECRET_LENGTH) return text;
    // The common case, on every progress line of a chatty engine: nothing encoded and no secret in sight.
    if (!ENCODED.test(text)) {
      const lower = text.toLowerCase();
      if (!this.#lowerNeedles.some((needle) => lower.includes(needle))) return text;
    }
    return replaceSpans(text, this.#wholeMatches(text));
  }

  /**
   * At most `max` characters (plus a marker): redacted first, then cut, then a trailing piece of a secret blanked,
   * whether the cut was ours or the text came cut.
   */
  clip(text: string, max: number): string {
    const redacted = this.text(text);
    if (redacted.length <= max) return this.#trailingPiece(redacted);
    return `${this.#trailingPiece(redacted.slice(0, max - 1))}…`;
  }

  /** For a text whose start may have been cut off (the tail of an engine's stderr). */
  cutAtStart(text: string): string {
    return this.#leadingPiece(this.text(text));
  }

  /** Every string in a value (object keys too), for results and events; other values are kept as they are. */
  deep<T>(value: T): T {
    return this.#deep(value) as T;
  }

  /** The error itself, its message redacted: a user error's message is what the member reads and what is stored. */
  scrub<E extends Error>(error: E): E {
    error.message = this.text(error.message);
    return error;
  }

  /** An error as a log entry can carry it: its class, and its message and stack redacted. */
  error(error: unknown): { type: string; message: string; stack?: string } {
    if (!(error instanceof Error)) return { type: typeof error, message: this.text(String(error)) };
    return { type: error.name, message: this.text(error.message), ...(error.stack ? { stack: this.text(error.stack) } : {}) };
  }

  #deep(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.#deep(item));
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.text(key), this.#deep(item)]));
    }
    return value;
  }

  #wholeMatches(text: string): Span[] {
    const spans: Span[] = [];
    for (const view of views(text)) {
      for (const pattern of this.#patterns) {
        pattern.lastIndex = 0;
        for (let m = pattern.exec(view.text); m !== null; m = pattern.exec(view.text)) {
          spans.push([view.origin[m.index]!, view.origin[m.index + m[0].length]!]);
        }
      }
    }
    return spans;
  }

  /** Blanks the end of `text` when it is the beginning of a secret (in any spelling), possibly cut mid-escape. */
  #trailingPiece(text: string): string {
    if (this.#needles.length === 0) return text;
    // An escaped secret is at most six times its length; looking further back cannot find its beginning.
    const windowStart = Math.max(0, text.length - this.#longest * 6 - EDGE_SLACK);
    const window = text.slice(windowStart);
    let cutFrom = window.length;
    for (const view of views(window)) {
      for (const needle of this.#needles) {
        const at = pieceAtEnd(view.text, needle);
        if (at !== undefined) cutFrom = Math.min(cutFrom, view.origin[at]!);
      }
    }
    return cutFrom === window.length ? text : `${text.slice(0, windowStart + cutFrom)}${REDACTED}`;
  }

  /** Blanks the start of `text` when it is the end of a secret (in any spelling), possibly cut mid-escape. */
  #leadingPiece(text: string): string {
    if (this.#needles.length === 0) return text;
    const window = text.slice(0, this.#longest * 6 + EDGE_SLACK);
    let cutTo = 0;
    for (const view of views(window)) {
      for (const needle of this.#needles) {
        const at = pieceAtStart(view.text, needle);
        if (at !== undefined) cutTo = Math.max(cutTo, view.origin[at]!);
      }
    }
    return cutTo === 0 ? text : `${REDACTED}${text.slice(cutTo)}`;
  }
}

/** The value itself, each identifying line of a multi-line value, and every non-public string inside a JSON value. */
function addNeedles(value: string, into: Set<string>): void {
  const trimmed = value.trim();
  if (trimmed.length < MIN_SECRET_LENGTH) return;
  into.add(trimmed);
  if (trimmed.includes('\n')) {
    const lines = trimmed
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length >= MIN_LINE_LENGTH && !line.startsWith('-----'));
    for (const line of lines) into.add(line);
    // A PEM body printed without its line breaks.
    if (lines.length > 1) into.add(lines.join(''));
  }
  for (const inner of jsonStrings(trimmed)) addNeedles(inner, into);
}

function jsonStrings(value: string): string[] {
  if (!value.startsWith('{') && !value.startsWith('[')) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [];
  }
  const found: string[] = [];
  const walk = (node: unknown, key?: string): void => {
    if (typeof node === 'string') {
      if (key === undefined || !PUBLIC_KEY_FILE_FIELDS.has(key)) found.push(node);
    } else if (Array.isArray(node)) node.forEach((item) => walk(item));
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, k);
  };
  walk(parsed);
  return found;
}

/** The text and every distinct decoding of it (JSON escapes, percent-encoding, form encoding), stacked. */
function views(text: string): View[] {
  const identity: View = { text, origin: Array.from({ length: text.length + 1 }, (_, i) => i) };
  const all: View[] = [identity];
  const seen = new Set([text]);
  let frontier = [identity];
  for (let depth = 0; depth < MAX_DECODE_DEPTH && frontier.length > 0; depth++) {
    const next: View[] = [];
    for (const view of frontier) {
      for (const decode of DECODERS) {
        const decoded = decode(view.text);
        if (!decoded || seen.has(decoded.text)) continue;
        seen.add(decoded.text);
        const composed = { text: decoded.text, origin: decoded.origin.map((i) => view.origin[i]!) };
        all.push(composed);
        next.push(composed);
      }
    }
    frontier = next;
  }
  return all;
}

const JSON_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Undoes JSON string escapes wherever they are; undefined when there is none. */
function jsonUnescape(text: string): View | undefined {
  if (!text.includes('\\')) return undefined;
  let out = '';
  const origin: number[] = [];
  for (let i = 0; i < text.length; ) {
    const next = text[i + 1];
    if (text[i] === '\\' && next !== undefined && next in JSON_ESCAPES) {
      origin.push(i);
      out += JSON_ESCAPES[next];
      i += 2;
    } else if (text[i] === '\\' && next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
      origin.push(i);
      out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      origin.push(i);
      out += text[i];
      i += 1;
    }
  }
  origin.push(text.length);
  return out === text ? undefined : { text: out, origin };
}

/** Undoes percent-encoding (UTF-8), and with `plusIsSpace` also form encoding; undefined when nothing changes. */
function percentDecode(text: string, plusIsSpace: boolean): View | undefined {
  if (!text.includes('%') && !(plusIsSpace && text.includes('+'))) return undefined;
  let out = '';
  const origin: number[] = [];
  for (let i = 0; i < text.length; ) {
    const bytes: number[] = [];
    let j = i;
    while (text[j] === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(j + 1, j + 3))) {
      bytes.push(parseInt(text.slice(j + 1, j + 3), 16));
      j += 3;
    }
    if (bytes.length === 0) {
      origin.push(i);
      out += plusIsSpace && text[i] === '+' ? ' ' : text[i];
      i += 1;
      continue;
    }
    // One UTF-8 sequence at a time, so each decoded character maps to where its first byte was written.
    for (let b = 0; b < bytes.length; ) {
      const lead = bytes[b]!;
      const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      const chunk = Buffer.from(bytes.slice(b, b + size)).toString('utf8');
      for (let c = 0; c < chunk.length; c++) origin.push(i + b * 3);
      out += chunk;
      b += size;
    }
    i = j;
  }
  origin.push(text.length);
  return out === text ? undefined : { text: out, origin };
}

const DECODERS: Array<(text: string) => View | undefined> = [
  jsonUnescape,
  (text) => percentDecode(text, false),
  (text) => percentDecode(text, true),
];

/**
 * Where a beginning of `needle` (at least MIN_PARTIAL_LENGTH characters, not all of it) starts in `text` and runs to
 * its end, give or take EDGE_SLACK characters left of an escape cut in half; case-insensitive. Undefined if nowhere.
 */
function pieceAtEnd(text: string, needle: string): number | undefined {
  const hay = text.toLowerCase();
  const pin = needle.toLowerCase();
  if (hay.length !== text.length || pin.length !== needle.length) return undefined;
  const head = pin.slice(0, MIN_PARTIAL_LENGTH);
  for (let p = hay.indexOf(head, Math.max(0, hay.length - pin.length - EDGE_SLACK)); p !== -1; p = hay.indexOf(head, p + 1)) {
    let common = 0;
    while (p + common < hay.length && common < pin.length && hay[p + common] === pin[common]) common++;
    if (common < pin.length && p + common >= hay.length - EDGE_SLACK) return p;
  }
  return undefined;
}

/** The mirror of pieceAtEnd: where an end of `needle` that starts (give or take EDGE_SLACK) at 0 in `text` ends. */
function pieceAtStart(text: string, needle: string): number | undefined {
  const hay = text.toLowerCase();
  const pin = needle.toLowerCase();
  if (hay.length !== text.length || pin.length !== needle.length) return undefined;
  const tail = pin.slice(pin.length - MIN_PARTIAL_LENGTH);
  const limit = pin.length + EDGE_SLACK;
  let best: number | undefined;
  for (let p = hay.indexOf(tail); p !== -1 && p + MIN_PARTIAL_LENGTH <= limit; p = hay.indexOf(tail, p + 1)) {
    const end = p + MIN_PARTIAL_LENGTH;
    let common = 0;
    while (end - common > 0 && common < pin.length && hay[end - 1 - common] === pin[pin.length - 1 - common]) common++;
    if (common < pin.length && end - common <= EDGE_SLACK) best = end;
  }
  return best;
}

function replaceSpans(text: string, spans: Span[]): string {
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [start, end] of spans) {
    if (end <= at) continue;
    if (start > at) out += text.slice(at, start);
    if (start >= at) out += REDACTED;
    at = end;
  }
  return out + text.slice(at);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
