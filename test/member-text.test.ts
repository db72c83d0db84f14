/**
 * Names that deceive: invisible and formatting characters are refused where a member gives a name, and markdown a
 * member typed is shown as typed (escaped in one place), never as formatting, links or mentions.
 */
import { sqliteDataAccess } from '../src/db/data-access.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toMarkdown } from '../src/discord/markdown.js';
import { renderMessage } from '../src/discord/render.js';
import type { Actor, Message } from '../src/interaction/conversation.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidPolicy } from '../src/policy/errors.js';
import { PolicyService } from '../src/policy/policy-service.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { escapeMarkdown, findInvisible } from '../src/shared/member-text.js';
import { StateLayout } from '../src/state/layout.js';
import { InvalidProjectName } from '../src/state/errors.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import type { RecordedStep } from './support/recording-conversation.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const carol: Actor = { id: '300000000000000003', displayName: 'carol', isBot: false, isGuildAdmin: true };

/** One character of every class that is refused, each in the middle of a name (trimming cannot remove it). */
const INVISIBLE = {
  'zero-width space': '\u200b',
  'zero-width non-joiner': '\u200c',
  'zero-width joiner': '\u200d',
  'word joiner': '\u2060',
  'zero-width no-break space (BOM)': '\ufeff',
  'left-to-right embedding': '\u202a',
  'right-to-left embedding': '\u202b',
  'pop directional formatting': '\u202c',
  'left-to-right override': '\u202d',
  'right-to-left override': '\u202e',
  'left-to-right isolate': '\u2066',
  'right-to-left isolate': '\u2067',
  'first strong isolate': '\u2068',
  'pop directional isolate': '\u2069',
  'left-to-right mark': '\u200e',
  'right-to-left mark': '\u200f',
  'arabic letter mark': '\u061c',
  'soft hyphen (another format character)': '\u00ad',
  'tag character (format, outside the BMP)': '\u{e0041}',
  'hangul filler (shows as blank)': '\u3164',
  'em space (not the ordinary space)': '\u2003',
} as const;

const MARKDOWN_NAME = '[Approve here](https://evil.example)';

describe('invisible characters in names are refused', () => {
  it.each(Object.entries(INVISIBLE))('finds a %s and names its code point', (_label, char) => {
    const found = findInvisible(`prod${char}api`);
    expect(found?.position).toBe(4);
    expect(found?.codePoint).toBe(`U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
  });

  it('lets ordinary names through, accents and emoji included', async () => {
    for (const name of ['Production API', 'Café prod', 'équipe-données', '🚀 launch', 'web_shop.v2']) expect(findInvisible(name)).toBeUndefined();
  });

  it('a wrong value quoted back in an error shows hidden characters as code points and is cut to 64 characters', async () => {
    const database = makeTestDatabase();
    try {
      const policies = new PolicyService(sqliteDataAccess(database), PriceCatalogue.load(), new FakeClock());
      const unknownSetting = () => policies.update(HARNESS_GUILD, { ['col\u202eruo' + 'x'.repeat(100)]: 1 }, alice.id);
      await expect(unknownSetting()).rejects.toThrow(InvalidPolicy);
      await expect(unknownSetting()).rejects.toThrow(`unknown setting "col{U+202E}ruo${'x'.repeat(57)}"`);
      await expect(policies.update(HARNESS_GUILD, { allowedInstanceTypes: ['e2\u200b-micro'] }, alice.id)).rejects.toThrow(/unknown instance type "e2\{U\+200B\}-micro"/);
    } finally {
      database.cleanup();
    }
    const layout = new StateLayout(join(tmpdir(), 'never-created'));
    expect(() => layout.workspaceDir(HARNESS_GUILD, 'web\u2066x')).toThrow(/"web\{U\+2066\}x" is not a project folder name/);
  });

  it('refuses such a project name in the domain too, not only at the command', async () => {
    expect(() => StateLayout.slugify('pay\u202eroll')).toThrow(InvalidProjectName);
    expect(() => StateLayout.slugify('pay\u202eroll')).toThrow(/bidirectional control.*U\+202E, at character 4/);
  });

  describe('through the commands', () => {
    let harness: Awaited<ReturnType<typeof startAppHarness>>;
    beforeAll(async () => {
      // Twenty-odd refusals in a row: lift the per-member limit, which is not what is tested here.
      harness = await startAppHarness({ RATE_LIMIT_MEMBER_PER_MINUTE: '1000', CREDENTIALS_MASTER_KEY: Buffer.alloc(32, 5).toString('base64') });
    });
    afterAll(() => harness?.stop());

    it.each(Object.entries(INVISIBLE))('/cloud-init refuses a project name with a %s before asking for any secret', async (_label, char) => {
      const reply = await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: `web${char}shop`, region: 'us-central1' }, HARNESS_GUILD, {
        modal: { project_id: 'never-asked-123' },
      });
      const code = `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      expect(reply.text()).toContain(code);
      expect(reply.text()).toMatch(/Type it again without it/);
      expect(reply.steps.map((s) => s.kind)).not.toContain('modal');
      expect(await harness.core.app.projects.list(HARNESS_GUILD)).toEqual([]);
    });

    it('/cloud-credentials add refuses a credential name with a zero-width space before the form', async () => {
      const reply = await harness.say(alice, 'cloud-credentials', { subcommand: 'add', name: 'prod\u200bkeys', provider: 'aws' });
      expect(reply.text()).toContain('U+200B');
      expect(reply.steps.map((s) => s.kind)).not.toContain('modal');
    });

    it('/cloud-jit-grant refuses a reason with a right-to-left override', async () => {
      const reply = await harness.say(alice, 'cloud-jit-grant', {
        user: { id: '300000000000000002', displayName: 'bob', isBot: false },
        provider: 'gcp',
        level: 'viewer',
        duration: 30,
        reason: 'on call \u202eesrever',
      });
      expect(reply.text()).toContain('U+202E');
      expect(await harness.core.app.jit.listActive(HARNESS_GUILD)).toEqual([]);
    });
  });
});

describe('markdown typed by a member is shown as typed', () => {
  it('escapes links, emphasis, spoilers, code, quotes, headings and mentions', async () => {
    expect(escapeMarkdown(MARKDOWN_NAME)).toBe('\\[Approve here\\]\\(https:\\/\\/evil.example\\)');
    expect(escapeMarkdown('**bold** __under__ ~~gone~~ ||spoiler|| `code`')).toBe(
      '\\*\\*bold\\*\\* \\_\\_under\\_\\_ \\~\\~gone\\~\\~ \\|\\|spoiler\\|\\| \\`code\\`',
    );
    expect(escapeMarkdown('# title')).toBe('\\# title');
    expect(escapeMarkdown('> quote')).toBe('\\> quote');
    expect(escapeMarkdown('- item')).toBe('\\- item');
    expect(escapeMarkdown('1. first')).toBe('1\\. first');
    expect(escapeMarkdown('hi <@123456789012345678> and <#1234> and @everyone / @here')).toBe(
      'hi \\<@123456789012345678\\> and \\<#1234\\> and @\u200beveryone / @\u200bhere',
    );
    expect(escapeMarkdown('Standard_B1s_v2')).toBe('Standard\\_B1s\\_v2');
    expect(escapeMarkdown('old\u202ename')).toBe('old{U+202E}name');
    expect(escapeMarkdown('web-shop 2')).toBe('web-shop 2');
    // A mention or a link alone is still caught; a line break is shown, so no later line can start a list.
    expect(escapeMarkdown('a\n- b')).toBe('a{U+000A}- b');
    expect(escapeMarkdown('ping @HERE')).toBe('ping @\u200bHERE');
    expect(escapeMarkdown('see http://x')).toBe('see http:\\/\\/x');
    expect(escapeMarkdown('mail a@b.example 3.5')).toBe('mail a@b.example 3.5');
  });

  it('never lets the bot ping: every rendered message allows no mentions', async () => {
    const message: Message = { content: escapeMarkdown('@everyone look'), notices: [{ title: 't', description: '@here' }] };
    expect(renderMessage(message).allowedMentions).toEqual({ parse: [] });
    expect(renderMessage(message).content).not.toContain('@everyone');
  });

  describe('in the public approval embed and in /cloud-projects', () => {
    let harness: Awaited<ReturnType<typeof startAppHarness>>;
    beforeAll(async () => {
      harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
      const init = await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: MARKDOWN_NAME, region: 'us-central1' }, HARNESS_GUILD, {
        modal: { project_id: 'markdown-project-1' },
      });
      expect(init.text()).toMatch(/initialised/);
      await harness.say(alice, 'cloud-guild-policy', { action: 'update', require_approval: true });
    });
    afterAll(() => harness?.stop());

    const shownTexts = (steps: RecordedStep[]): string[] =>
      steps.flatMap((s) =>
        'message' in s
          ? [s.message.content ?? '', ...(s.message.notices ?? []).flatMap((n) => [n.title, n.description ?? '', ...(n.fields ?? []).flatMap((f) => [f.name, f.value])])].map(toMarkdown)
          : [],
      );

    it('shows the project name escaped in the approval request posted to the channel', async () => {
      const reply = await harness.say(alice, 'cloud-deploy', { project: MARKDOWN_NAME, resource_type: 'bucket', disk_size: 1 }, HARNESS_GUILD, {
        buttons: [{ buttonId: 'apply', by: alice }],
      });
      const approval = harness.notifier.postsIn('400000000000000001').find((n) => JSON.stringify(n.title).includes('Approval needed'));
      expect(approval).toBeDefined();
      const shown = approval?.description;
      const description = shown === undefined ? undefined : toMarkdown(shown);
      expect(description).toContain('**\\[Approve here\\]\\(https:\\/\\/evil.example\\)**');
      for (const text of shownTexts(reply.steps)) expect(text).not.toContain(MARKDOWN_NAME);
      // The card a reviewer's press shows once decided, read back from the database, escapes it the same way.
      const rejected = await harness.press(carol, harness.durableButton('Reject'));
      const card = rejected.steps.find((step) => step.kind === 'update');
      const closed = card?.kind === 'update' ? card.message.notices?.[0]?.description : undefined;
      expect(closed && toMarkdown(closed)).toContain('**\\[Approve here\\]\\(https:\\/\\/evil.example\\)**');
      expect(closed && toMarkdown(closed)).toMatch(/Rejected by/);
    });

    it('shows the project name escaped in /cloud-projects', async () => {
      const reply = await harness.say(alice, 'cloud-projects');
      const field = reply.steps.flatMap((s) => ('message' in s ? (s.message.notices ?? []) : [])).flatMap((n) => n.fields ?? [])[0];
      expect(field && toMarkdown(field.name)).toBe('📋 \\[Approve here\\]\\(https:\\/\\/evil.example\\)');
      for (const text of shownTexts(reply.steps)) expect(text).not.toContain(MARKDOWN_NAME);
    });
  });
});

describe('which characters count as invisible', () => {
  it('exactly the documented kinds, over every Unicode code point, in a name of ordinary letters too', async () => {
    // The rules as documented (member-text.ts), written out independently of its one-pattern fast path.
    const zeroWidthBidiOrBlank = new Set([
      0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x180e, 0x200e, 0x200f, 0x061c, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
      0x2066, 0x2067, 0x2068, 0x2069, 0x115f, 0x1160, 0x3164, 0xffa0, 0x2800, 0x034f,
    ]);
    const documented = (char: string) =>
      zeroWidthBidiOrBlank.has(char.codePointAt(0) ?? 0) ||
      /[\p{Cf}\p{Cc}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]/u.test(char) ||
      (/\p{Zs}/u.test(char) && char !== ' ');
    const disagreements: string[] = [];
    for (let code = 0; code <= 0x10ffff; code++) {
      const char = String.fromCodePoint(code);
      if ((findInvisible(`web ${char}1`) !== undefined) !== documented(char)) disagreements.push(code.toString(16));
    }
    expect(disagreements).toEqual([]);
  });
});
