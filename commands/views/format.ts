/** Small text helpers shared by the command views. Discord markdown; the console renders it as plain text. */

export { formatUsd as usd } from '../../src/shared/money.js';
/** The one escape for text a member typed (names, reasons, instance types): see src/shared/member-text.ts. */
export { escapeMarkdown } from '../../src/shared/member-text.js';

/** A Discord timestamp: `R` renders "in 30 minutes", `f` a full date; the console prints an absolute time. */
export function timestamp(epochMs: number, style: 'R' | 'f' | 't' = 'R'): string {
  return `<t:${Math.floor(epochMs / 1000)}:${style}>`;
}

export function mention(userId: string): string {
  return `<@${userId}>`;
}

export function minutes(ms: number): string {
  const total = Math.max(0, Math.round(ms / 60_000));
  if (total < 60) return `${total} min`;
  const hours = Math.floor(total / 60);
  const rest = total % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

export function list(items: readonly string[], empty = 'none'): string {
  return items.length ? items.join(', ') : empty;
}

export function bullets(items: readonly string[]): string {
  return items.map((item) => `• ${item}`).join('\n');
}
