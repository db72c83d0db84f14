import { describe, expect, it } from 'vitest';
import { discordTimestamp, toMarkdown } from '../src/discord/markdown.js';
import { renderMessage } from '../src/discord/render.js';
import { UserError } from '../src/shared/errors.js';
import { formatDuration } from '../src/shared/duration.js';
import { code, command, duration, join, member, money, plain, strong, text, time } from '../src/shared/text.js';

const BOB = '123456789012345678';
const AT = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('rich text in Discord', () => {
  it('shows members as mentions, times as relative timestamps and commands by their slash-command names', () => {
    const said = text`${member(BOB)}, ask for ${command('jit.grant', { provider: 'aws', level: 'admin' })}; it expires ${time(AT)}.`;
    expect(toMarkdown(said)).toBe(
      `<@${BOB}>, ask for \`/cloud-jit-grant\` (provider: aws, level: admin); it expires <t:${AT / 1000}:R>.`,
    );
    expect(toMarkdown(time(AT, 'datetime'))).toBe(`<t:${AT / 1000}:f>`);
    expect(discordTimestamp(AT, 'clock')).toBe(`<t:${AT / 1000}:t>`);
  });

  it('escapes what a member typed, wherever it is interpolated, and keeps the code’s own emphasis', () => {
    const name = '**[Approve here](https://evil.example)** <@everyone>';
    expect(toMarkdown(text`Project ${strong(name)} by ${name}`)).toBe(
      'Project **\\*\\*\\[Approve here\\]\\(https:\\/\\/evil.example\\)\\*\\* \\<@\u200beveryone\\>** by ' +
        '\\*\\*\\[Approve here\\]\\(https:\\/\\/evil.example\\)\\*\\* \\<@\u200beveryone\\>',
    );
    expect(toMarkdown(code('a`b'))).toBe('`` a`b ``');
  });

  it('never writes a mention for an id that is not a Discord id (the janitor is "system")', () => {
    expect(toMarkdown(member('system'))).toBe('system');
  });

  it('renders rich text in contents, embed titles, descriptions and fields', () => {
    const body = renderMessage({
      content: text`for ${member(BOB)}`,
      notices: [{ title: text`Plan ${strong('x_y')}`, description: text`costs ${money(3)}`, fields: [{ name: 'Lasts', value: duration(90 * 60_000) }] }],
    });
    expect(body.content).toBe(`for <@${BOB}>`);
    expect(body.embeds[0]).toMatchObject({ title: 'Plan **x\\_y**', description: 'costs $3.00', fields: [{ name: 'Lasts', value: '1 h 30 min' }] });
  });
});

describe('rich text for logs', () => {
  it('UserError keeps its code and text; its message is a plain rendering without chat markup', () => {
    const error = new UserError('demo.code', text`${member(BOB)} needs ${command('init')} by ${time(AT)}`);
    expect(error.code).toBe('demo.code');
    expect(error.message).toBe(`@${BOB} needs [command init] by 2026-01-01T12:00:00.000Z`);
    expect(error.message).not.toMatch(/<@|<t:|\/cloud-/);
  });

  it('join puts a prose separator between parts and drops empty ones', () => {
    expect(plain(join([text`a`, undefined, 'b*', false, text`c`], ', '))).toBe('a, b*, c');
  });
});

describe('one duration formatter', () => {
  it('rounds to the minute and grows units with the length', () => {
    expect([0, 45 * 60_000, 60 * 60_000, 90 * 60_000, 47 * 3_600_000, 72 * 3_600_000].map(formatDuration)).toEqual([
      '0 min',
      '45 min',
      '1 h',
      '1 h 30 min',
      '47 h',
      '3 days',
    ]);
  });
});
