/**
 * Small text helpers shared by the command views. Views say what they mean in rich text (src/shared/text.ts):
 * members, times, money and commands are typed segments each front end renders; a string interpolated with `text`
 * is a member's (or an engine's) text and shows as typed.
 */
import { join, text, toText, type RichText, type Text } from '../../src/shared/text.js';

export { formatUsd as usd } from '../../src/shared/money.js';
/** The one escape for text a member typed, for views still written as markdown strings: see src/shared/member-text.ts. */
export { escapeMarkdown } from '../../src/shared/member-text.js';
export { channel, code, command, duration, join, literal, member, money, strong, text, time, toText, type RichText, type Text } from '../../src/shared/text.js';

export function list(items: readonly string[], empty = 'none'): string {
  return items.length ? items.join(', ') : empty;
}

/** One line per item, each after a bullet; a bare string item is prose, as everywhere rich text is expected. */
export function bullets(items: readonly RichText[]): Text {
  return join(items.map((item) => text`• ${toText(item)}`), '\n');
}
