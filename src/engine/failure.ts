/**
 * Turning what an engine said into something a person can read: error diagnostics first, otherwise the `Error:`
 * lines of its text output (init does not speak JSON everywhere), never raw output, never a secret.
 */
import type { Redactor } from '../shared/redaction.js';
import { explainProviderDownload } from './provider-download.js';
import type { EngineEvent } from './json-stream.js';
import type { Warning } from './run-types.js';

type Diagnostic = Extract<EngineEvent, { type: 'diagnostic' }>;

const MAX_SUMMARY = 300;
const MAX_DETAIL = 1500;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** Engine text fit to show: colour codes and control characters gone, secrets blanked, then cut to `max`. */
export function cleanText(text: string, max: number, redactor: Redactor): string {
  return redactor.clip(text.replace(ANSI, '').replace(CONTROL, '').trim(), max);
}

/** A warning diagnostic as the member reads it. */
export function describeWarning(warning: Diagnostic, redactor: Redactor): Warning {
  return {
    summary: cleanText(warning.summary, MAX_SUMMARY, redactor),
    detail: cleanText(warning.detail, MAX_DETAIL, redactor),
    ...(warning.address ? { address: redactor.text(warning.address) } : {}),
  };
}

/**
 * Summary and detail of a failed command, from its error diagnostics or, failing that, its stderr. `errorCount`
 * is how many errors there were in all, when only the first few were kept.
 */
export function describeFailure(
  diagnostics: readonly Diagnostic[],
  stderrTail: string,
  fallback: string,
  redactor: Redactor,
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
      summary: cleanText(`${where}${first.summary}`, MAX_SUMMARY, redactor),
      detail: cleanText(`${first.detail}${more}`, MAX_DETAIL, redactor),
    };
  }
  // The tail may begin in the middle of a secret: that piece is blanked too.
  const lines = redactor.cutAtStart(stderrTail).replace(ANSI, '').split('\n').map((l) => l.trim());
  const errorAt = lines.findIndex((l) => /^(│\s*)?Error:/.test(l));
  if (errorAt !== -1) {
    const summary = (lines[errorAt] ?? '').replace(/^(│\s*)?Error:\s*/, '');
    const detail = lines
      .slice(errorAt + 1)
      .map((l) => l.replace(/^[│╷╵]\s?/, ''))
      .filter((l) => l !== '')
      .join('\n');
    const explained = explainProviderDownload(summary, detail);
    if (explained) return { summary: cleanText(explained.summary, MAX_SUMMARY, redactor), detail: explained.detail };
    return { summary: cleanText(summary || fallback, MAX_SUMMARY, redactor), detail: cleanText(detail, MAX_DETAIL, redactor) };
  }
  return { summary: fallback, detail: '' };
}
