/**
 * Terminal rendering of what handlers say. Messages carry Discord markdown (`<t:1767272400:R>` timestamps,
 * `<@id>` mentions, `**bold**`); here they become local times with "in 29 min", `@name`, and plain text.
 */
import type { ButtonSpec, Message } from '../interaction/conversation.js';
import type { Notice } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import type { ConsoleDirectory } from './directory.js';

const INDENT = '  ';

export class ConsoleRenderer {
  constructor(
    private readonly clock: Clock,
    private readonly directory: ConsoleDirectory,
  ) {}

  /** Discord markdown → readable plain text. */
  text(markdown: string): string {
    return markdown
      .replace(/<t:(-?\d+)(?::([tTdDfFR]))?>/g, (_match, seconds: string, style: string | undefined) =>
        this.time(Number(seconds) * 1000, style ?? 'f'),
      )
      .replace(/<@!?(\d+)>/g, (_match, id: string) => `@${this.directory.memberById(id)?.name ?? id}`)
      .replace(/<@&(\d+)>/g, (_match, id: string) => `@role:${id}`)
      .replace(/<#(\d+)>/g, (_match, id: string) => `#${this.directory.channelById(id)?.name ?? id}`)
      .replace(/^```[a-z]*$/gm, '')
      .replace(/\*\*(.+?)\*\*/g, '$1')
      .replace(/__(.+?)__/g, '$1')
      // What escapeMarkdown (src/shared/member-text.ts) did to a member's text, undone: here it is plain text anyway.
      .replace(/\\([^0-9A-Za-z\s])/g, '$1')
      .replace(/@\u200b/g, '@')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  }

  /** A Discord timestamp as local time; relative styles also say how far away it is. */
  time(epochMs: number, style: string): string {
    const now = this.clock.now();
    const date = new Date(epochMs);
    const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
    const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
    const sameDay = day === localDay(now);
    switch (style) {
      case 't':
        return clock;
      case 'T':
        return `${clock}:${pad(date.getSeconds())}`;
      case 'd':
      case 'D':
        return day;
      case 'R':
        return `${sameDay ? clock : `${day} ${clock}`} (${relative(epochMs - now)})`;
      default:
        return `${day} ${clock}`;
    }
  }

  notice(notice: Notice): string[] {
    const lines = [`┌─ ${this.text(notice.title)}`];
    const body: string[] = [];
    if (notice.description) body.push(...this.text(notice.description).split('\n'));
    for (const field of notice.fields ?? []) {
      const name = this.text(field.name);
      const value = this.text(field.value);
      if (!value.includes('\n') && name.length + value.length < 100) body.push(`${name}: ${value}`);
      else body.push(`${name}:`, ...value.split('\n').map((line) => `${INDENT}${line}`));
    }
    lines.push(...body.map((line) => (line ? `│ ${line}` : '│')));
    lines.push('└─');
    return lines;
  }

  /** A whole message under a header line (who sees it and where), indented so conversations stay readable. */
  message(header: string, message: Message, buttons?: readonly ButtonSpec[]): string {
    const lines = [header];
    if (message.content) lines.push(...this.text(message.content).split('\n').map((line) => `${INDENT}${line}`));
    for (const notice of message.notices ?? []) lines.push(...this.notice(notice).map((line) => `${INDENT}${line}`));
    if (buttons?.length) lines.push(`${INDENT}${buttonRow(buttons)}`);
    return `${lines.join('\n')}\n`;
  }
}

export function buttonRow(buttons: readonly ButtonSpec[]): string {
  return buttons.map((button, index) => `[${index + 1}] ${button.label}`).join('  ');
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

function localDay(epochMs: number): string {
  const date = new Date(epochMs);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** "in 29 min", "3 h 5 min ago", "in 2 days", "now". */
export function relative(deltaMs: number): string {
  const future = deltaMs >= 0;
  const absolute = Math.abs(deltaMs);
  let amount: string;
  if (absolute < 45_000) return future ? 'in a few seconds' : 'a few seconds ago';
  const totalMinutes = Math.round(absolute / 60_000);
  if (totalMinutes < 60) amount = `${totalMinutes} min`;
  else if (totalMinutes < 48 * 60) {
    const hours = Math.floor(totalMinutes / 60);
    const minutes = totalMinutes % 60;
    amount = minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  } else amount = `${Math.round(totalMinutes / (24 * 60))} days`;
  return future ? `in ${amount}` : `${amount} ago`;
}
