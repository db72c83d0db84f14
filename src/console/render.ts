/**
 * Terminal rendering of what handlers say. Rich text (src/shared/text.ts) becomes plain text: members `@name`, times
 * local ("21:01 (in 29 min)"), commands by the slash-command names the console accepts, member-typed text as typed.
 */
import { COMMAND_NAMES } from '../discord/command-names.js';
import type { ButtonSpec, Message } from '../interaction/conversation.js';
import type { Notice } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import { formatDuration } from '../shared/duration.js';
import { revealInvisible } from '../shared/member-text.js';
import { formatUsd } from '../shared/money.js';
import { isSnowflake } from '../shared/snowflake.js';
import { render, type RichText, type SegmentRenderer, type TimeStyle } from '../shared/text.js';
import type { ConsoleDirectory } from './directory.js';

const INDENT = '  ';

export class ConsoleRenderer {
  private readonly segments: SegmentRenderer;

  constructor(
    private readonly clock: Clock,
    private readonly directory: ConsoleDirectory,
  ) {
    this.segments = {
      prose: (words) => words,
      literal: (value) => revealInvisible(value),
      strong: (rendered) => rendered,
      code: (value) => `\`${revealInvisible(value)}\``,
      member: (userId) => (isSnowflake(userId) ? `@${this.directory.memberById(userId)?.name ?? userId}` : userId),
      channel: (channelId) => `#${this.directory.channelById(channelId)?.name ?? channelId}`,
      time: (epochMs, style) => this.time(epochMs, style),
      duration: (ms) => formatDuration(ms),
      money: (usd) => formatUsd(usd),
      command: (key, options) =>
        `${COMMAND_NAMES[key]}${options.length ? ` (${options.map(([name, value]) => `${name}: ${value}`).join(', ')})` : ''}`,
    };
  }

  /** Rich text as plain text. A bare string is prose; the markdown views may still write in it is dropped. */
  text(rich: RichText): string {
    const plain = typeof rich === 'string' ? withoutMarkdown(rich) : render(rich, this.segments);
    return plain.replace(/\n{3,}/g, '\n\n').trim();
  }

  /** Local time; relative times also say how far away they are. */
  time(epochMs: number, style: TimeStyle): string {
    const now = this.clock.now();
    const date = new Date(epochMs);
    const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
    const day = localDay(epochMs);
    switch (style) {
      case 'clock':
        return clock;
      case 'relative':
        return `${day === localDay(now) ? clock : `${day} ${clock}`} (${relative(epochMs - now)})`;
      case 'datetime':
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

/** Bold markers and code fences out of a string a view wrote as markdown; what escapeMarkdown did, undone. */
function withoutMarkdown(markdown: string): string {
  return markdown
    .replace(/^```[a-z]*$/gm, '')
    .replace(/\*\*(.+?)\*\*/g, '$1')
    .replace(/\\([^0-9A-Za-z\s])/g, '$1')
    .replace(/@\u200b/g, '@');
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

/** "in 29 min", "3 h 5 min ago", "in 3 days", "in a few seconds". */
export function relative(deltaMs: number): string {
  const future = deltaMs >= 0;
  if (Math.abs(deltaMs) < 45_000) return future ? 'in a few seconds' : 'a few seconds ago';
  const amount = formatDuration(Math.abs(deltaMs));
  return future ? `in ${amount}` : `${amount} ago`;
}
