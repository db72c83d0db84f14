/**
 * Rich text (src/shared/text.ts) as Discord shows it: members as mentions (they never ping: allowed_mentions is off),
 * times as `<t:…>` timestamps each reader sees in their own time zone, commands by their slash-command names,
 * member-typed text escaped so it shows as typed.
 */
import { formatDuration } from '../shared/duration.js';
import { escapeMarkdown } from '../shared/member-text.js';
import { formatUsd } from '../shared/money.js';
import { isSnowflake } from '../shared/snowflake.js';
import { render, type RichText, type SegmentRenderer, type TimeStyle } from '../shared/text.js';
import { COMMAND_NAMES } from './command-names.js';

const TIME_STYLES: Record<TimeStyle, string> = { relative: 'R', datetime: 'f', clock: 't' };

/** `<t:UNIX:R>` renders "in 2 hours" in each reader's own terms; `f` a full date, `t` the time of day. */
export function discordTimestamp(epochMs: number, style: TimeStyle): string {
  return `<t:${Math.floor(epochMs / 1000)}:${TIME_STYLES[style]}>`;
}

function inlineCode(value: string): string {
  // A backtick inside would end the span early; a double-backtick span with padding holds one.
  return value.includes('`') ? `\`\` ${value.replace(/``+/g, '`\u200b`')} \`\`` : `\`${value}\``;
}

const discordRenderer: SegmentRenderer = {
  prose: (words) => words,
  literal: (value) => escapeMarkdown(value),
  strong: (rendered) => (rendered ? `**${rendered}**` : ''),
  code: (value) => inlineCode(value),
  // Only a Discord id makes a mention; anything else ("system") is shown as the word it is.
  member: (userId) => (isSnowflake(userId) ? `<@${userId}>` : escapeMarkdown(userId)),
  channel: (channelId) => (isSnowflake(channelId) ? `<#${channelId}>` : escapeMarkdown(channelId)),
  time: (epochMs, style) => discordTimestamp(epochMs, style),
  duration: (ms) => formatDuration(ms),
  money: (usd) => formatUsd(usd),
  command: (key, options) =>
    `\`${COMMAND_NAMES[key]}\`${options.length ? ` (${options.map(([name, value]) => `${name}: ${value}`).join(', ')})` : ''}`,
};

/** Discord markdown for rich text; a bare string is passed through (views that still write markdown themselves). */
export function toMarkdown(rich: RichText): string {
  return typeof rich === 'string' ? rich : render(rich, discordRenderer);
}
