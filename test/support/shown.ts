import { toMarkdown } from '../../src/discord/markdown.js';
import { isText } from '../../src/shared/text.js';

/** A value (a notice, a message, a step) as JSON, its rich text rendered as Discord shows it: for "contains" checks. */
export function shownInDiscord(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => (isText(inner) ? toMarkdown(inner) : inner));
}
