/**
 * Rich text: what the domain says to a member, without the markup of any chat. A member, a time, a duration, a money
 * amount or a command is a typed segment; each front end renders it its own way (Discord: `<@id>`, `<t:…:R>`, slash
 * command names, markdown escaping; the console: `@name`, "21:01 (in 30 min)", plain text). The domain never spells a
 * command's name: it names a CommandKey, and the front end's table (src/discord/command-names.ts) knows the name.
 *
 * Write it with the `text` tag: literal parts are prose written by the code; an interpolated string is data (a name,
 * a reason, an engine message) and is shown inert, exactly as typed; an interpolated Text is spliced in.
 *
 *     text`Ask a server admin for ${command('jit.grant', { provider: 'aws' })}; it expires ${time(expiresAt)}.`
 */
import { formatDuration } from './duration.js';
import { formatUsd } from './money.js';

/** Every command the domain may point a member to; the front end maps each to what the member types. */
export const COMMAND_KEYS = [
  'init',
  'projects',
  'outputs',
  'deploy',
  'destroy',
  'runs.list',
  'runs.cancel',
  'vault.list',
  'vault.close',
  'vault.status',
  'policy',
  'jit.grant',
  'jit.request',
  'jit.list',
  'jit.revoke',
  'audit',
  'credentials',
  'credentials.add',
  'credentials.list',
  'credentials.remove',
  'credentials.default',
  'credentials.get',
  'credentials.update',
  'credentials.validate',
  'credentials.rotate',
  'storage',
  'templates.add',
  'templates.list',
  'templates.show',
  'templates.update',
  'templates.remove',
  'templates.enable',
  'templates.disable',
  'drift.enable',
  'drift.list',
] as const;
export type CommandKey = (typeof COMMAND_KEYS)[number];

/** `relative`: "in 30 minutes"; `datetime`: date and time; `clock`: the time of day only. */
export type TimeStyle = 'relative' | 'datetime' | 'clock';

export type Segment =
  /** Words written by the code: no markup, shown as they are. */
  | { kind: 'prose'; text: string }
  /** Data (a name a member typed, an engine message): shown exactly as written, never interpreted as markup. */
  | { kind: 'literal'; text: string }
  | { kind: 'strong'; content: readonly Segment[] }
  /** Code-like data (an address, an id, an option name): monospace where the front end has it. */
  | { kind: 'code'; text: string }
  | { kind: 'member'; userId: string }
  | { kind: 'channel'; channelId: string }
  | { kind: 'time'; epochMs: number; style: TimeStyle }
  | { kind: 'duration'; ms: number }
  | { kind: 'money'; usd: number }
  /** A command to run, with hints for its options (`provider: aws`). */
  | { kind: 'command'; key: CommandKey; options: ReadonlyArray<readonly [string, readonly Segment[]]> };

export interface Text {
  readonly kind: 'text';
  readonly segments: readonly Segment[];
}

/**
 * What messages, notices and errors carry. A bare string is prose written by the code; views that still build their
 * text as strings may use `**bold**` in it, which front ends without markdown strip.
 */
export type RichText = string | Text;

export type Interpolation = RichText | number | null | undefined | false;

export function isText(value: unknown): value is Text {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'text' && Array.isArray((value as Text).segments);
}

function of(segments: readonly Segment[]): Text {
  return { kind: 'text', segments };
}

/** The segments of an interpolated value: a string is data, a number is prose, nothing is nothing. */
function segmentsOf(value: Interpolation): readonly Segment[] {
  if (value === null || value === undefined || value === false || value === '') return [];
  if (typeof value === 'number') return [{ kind: 'prose', text: String(value) }];
  if (typeof value === 'string') return [{ kind: 'literal', text: value }];
  return value.segments;
}

/** The tagged template: `text\`…${value}…\``. */
export function text(strings: TemplateStringsArray, ...values: Interpolation[]): Text {
  const segments: Segment[] = [];
  strings.forEach((part, index) => {
    if (part) segments.push({ kind: 'prose', text: part });
    if (index < values.length) segments.push(...segmentsOf(values[index]));
  });
  return of(segments);
}

/** Prose held in a variable (a sentence a caller passed in), as opposed to data. */
export function prose(words: string): Text {
  return of(words ? [{ kind: 'prose', text: words }] : []);
}

/** Data shown as written. */
export function literal(value: string): Text {
  return of(segmentsOf(value));
}

/** Rich text as Text: a bare string is prose. */
export function toText(rich: RichText): Text {
  return typeof rich === 'string' ? prose(rich) : rich;
}

/** Emphasis: a string is data (a member's project name), a Text is prose with its segments. */
export function strong(content: Interpolation): Text {
  return of([{ kind: 'strong', content: segmentsOf(content) }]);
}

export function code(value: string | number): Text {
  return of([{ kind: 'code', text: String(value) }]);
}

export function member(userId: string): Text {
  return of([{ kind: 'member', userId }]);
}

export function channel(channelId: string): Text {
  return of([{ kind: 'channel', channelId }]);
}

export function time(epochMs: number, style: TimeStyle = 'relative'): Text {
  return of([{ kind: 'time', epochMs, style }]);
}

export function duration(ms: number): Text {
  return of([{ kind: 'duration', ms }]);
}

export function money(usd: number): Text {
  return of([{ kind: 'money', usd }]);
}

/** A command to point a member to, with option hints: `command('jit.grant', { provider: 'aws', level: 'admin' })`. */
export function command(key: CommandKey, options: Record<string, Interpolation> = {}): Text {
  const hints = Object.entries(options)
    .filter(([, value]) => value !== undefined && value !== null && value !== false && value !== '')
    .map(([name, value]) => [name, segmentsOf(value)] as const);
  return of([{ kind: 'command', key, options: hints }]);
}

/** Parts joined by a prose separator, like Array.join; as in `text`, a string part is data. */
export function join(parts: readonly Interpolation[], separator: string): Text {
  const segments: Segment[] = [];
  parts
    .filter((part) => part !== null && part !== undefined && part !== false && part !== '')
    .forEach((part, index) => {
      if (index > 0 && separator) segments.push({ kind: 'prose', text: separator });
      segments.push(...segmentsOf(part));
    });
  return of(segments);
}

/** Whether there is anything to show. */
export function isEmpty(rich: RichText | undefined): boolean {
  if (rich === undefined) return true;
  return typeof rich === 'string' ? rich.length === 0 : rich.segments.length === 0;
}

/**
 * A front end's way of showing each kind of segment. `render` walks the segments and joins what the renderer returns;
 * `strong` gets its content already rendered.
 */
export interface SegmentRenderer {
  prose(words: string): string;
  literal(value: string): string;
  strong(rendered: string): string;
  code(value: string): string;
  member(userId: string): string;
  channel(channelId: string): string;
  time(epochMs: number, style: TimeStyle): string;
  duration(ms: number): string;
  money(usd: number): string;
  command(key: CommandKey, options: ReadonlyArray<readonly [string, string]>): string;
}

export function render(rich: RichText, renderer: SegmentRenderer): string {
  return renderSegments(toText(rich).segments, renderer);
}

function renderSegments(segments: readonly Segment[], renderer: SegmentRenderer): string {
  return segments.map((segment) => renderSegment(segment, renderer)).join('');
}

function renderSegment(segment: Segment, renderer: SegmentRenderer): string {
  switch (segment.kind) {
    case 'prose':
      return renderer.prose(segment.text);
    case 'literal':
      return renderer.literal(segment.text);
    case 'strong':
      return renderer.strong(renderSegments(segment.content, renderer));
    case 'code':
      return renderer.code(segment.text);
    case 'member':
      return renderer.member(segment.userId);
    case 'channel':
      return renderer.channel(segment.channelId);
    case 'time':
      return renderer.time(segment.epochMs, segment.style);
    case 'duration':
      return renderer.duration(segment.ms);
    case 'money':
      return renderer.money(segment.usd);
    case 'command':
      return renderer.command(
        segment.key,
        segment.options.map(([name, value]) => [name, renderSegments(value, renderer)] as const),
      );
  }
}

/** For logs and `Error.message`: no markup, members as ids, times in ISO, commands by key. */
export const plainRenderer: SegmentRenderer = {
  prose: (words) => words,
  literal: (value) => value,
  strong: (rendered) => rendered,
  code: (value) => value,
  member: (userId) => `@${userId}`,
  channel: (channelId) => `#${channelId}`,
  time: (epochMs) => new Date(epochMs).toISOString(),
  duration: (ms) => formatDuration(ms),
  money: (usd) => formatUsd(usd),
  command: (key, options) => `[command ${key}]${options.length ? ` (${options.map(([n, v]) => `${n}: ${v}`).join(', ')})` : ''}`,
};

export function plain(rich: RichText): string {
  return render(rich, plainRenderer);
}
