/**
 * Turning what an engine said into something a person can read: error diagnostics first, otherwise the `Error:`
 * lines of its text output (init does not speak JSON everywhere), never raw output, never a secret.
 */
import type { EngineEvent } from './json-stream.js';

type Diagnostic = Extract<EngineEvent, { type: 'diagnostic' }>;

const MAX_SUMMARY = 300;
const MAX_DETAIL = 1500;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** Replaces every secret value (and every string inside a JSON secret, such as a key file) with [redacted]. */
export function makeRedactor(secretValues: Iterable<string>): (text: string) => string {
  const needles = new Set<string>();
  for (const value of secretValues) {
    if (value.length >= 4) needles.add(value);
    for (const inner of jsonStrings(value)) if (inner.length >= 8) needles.add(inner);
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const needle of sorted) out = out.split(needle).join('[redacted]');
    return out;
  };
}

function jsonStrings(value: string): string[] {
  if (!value.trimStart().startsWith('{')) return [];
  try {
    const found: string[] = [];
    const walk = (node: unknown): void => {
      if (typeof node === 'string') found.push(node);
      else if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') Object.values(node).forEach(walk);
    };
    walk(JSON.parse(value));
    return found;
  } catch {
    return [];
  }
}

export function cleanText(text: string, max: number): string {
  const cleaned = text.replace(ANSI, '').replace(CONTROL, '').trim();
  return cleaned.length > max ? `${cleaned.slice(0, max - 1)}…` : cleaned;
}

/**
 * Summary and detail of a failed command, from its error diagnostics or, failing that, its stderr. `errorCount`
 * is how many errors there were in all, when only the first few were kept.
 */
export function describeFailure(
  diagnostics: readonly Diagnostic[],
  stderrTail: string,
  fallback: string,
  redact: (text: string) => string,
  errorCount?: number,
): { summary: string; detail: string } {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const first = errors[0];
  if (first) {
    const total = Math.max(errorCount ?? 0, errors.length);
    const more = total > 1 ? `\n(and ${total - 1} more error${total > 2 ? 's' : ''}: ${errors
      .slice(1, 4)
      .map((e) => e.summary)
      .join('; ')})` : '';
    const where = first.address ? `${first.address}: ` : '';
    return {
      summary: redact(cleanText(`${where}${first.summary}`, MAX_SUMMARY)),
      detail: redact(cleanText(`${first.detail}${more}`, MAX_DETAIL)),
    };
  }
  const lines = stderrTail.replace(ANSI, '').split('\n').map((l) => l.trim());
  const errorAt = lines.findIndex((l) => /^(│\s*)?Error:/.test(l));
  if (errorAt !== -1) {
    const summary = (lines[errorAt] ?? '').replace(/^(│\s*)?Error:\s*/, '');
    const detail = lines
      .slice(errorAt + 1)
      .map((l) => l.replace(/^[│╷╵]\s?/, ''))
      .filter((l) => l !== '')
      .join('\n');
    return { summary: redact(cleanText(summary || fallback, MAX_SUMMARY)), detail: redact(cleanText(detail, MAX_DETAIL)) };
  }
  return { summary: fallback, detail: '' };
}
