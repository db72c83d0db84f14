/**
 * The faster jsonTransformer gives discord.js exactly what its own default would: every key in snake_case, builders
 * turned into JSON, dates left alone, an emoji given as a string resolved, and Discord's JSON unchanged.
 */
import { ButtonBuilder, ButtonStyle, EmbedBuilder, Options } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { snakeCaseJson } from '../src/discord/json-transformer.js';

const discordDefault = Options.createDefault().jsonTransformer as (value: unknown) => unknown;

describe('discord.js json transformer', () => {
  const samples: Record<string, unknown> = {
    'an embed as Discord’s JSON': { title: 'Cloud projects', color: 0x5865f2, fields: [{ name: 'web', value: 'gcp · $1.00/mo', inline: false }] },
    'camelCase keys at any depth': { customId: 'a:b', nameLocalizations: { enUS: 'x' }, rows: [[{ minValues: 1, maxValues: 2 }]] },
    'a date and nulls': { when: new Date(0), nothing: null, list: [null, 1, 'two'] },
    builders: { embeds: [new EmbedBuilder().setTitle('t')], button: new ButtonBuilder().setCustomId('c').setLabel('l').setStyle(ButtonStyle.Primary) },
    'an emoji as a string': { type: 2, label: 'ok', emoji: '✅', nested: { emoji: '<:party:123456789012345678>' } },
    'an autocomplete choice': { name: 'web (gcp, us-central1)', value: 'web' },
    scalars: 'text',
  };
  for (const [what, value] of Object.entries(samples)) {
    it(`matches discord.js’s own transformer: ${what}`, () => {
      expect(snakeCaseJson(value)).toEqual(discordDefault(value));
      // Twice: the second answer comes from the remembered keys.
      expect(snakeCaseJson(value)).toEqual(discordDefault(value));
    });
  }

  it('keeps a key named __proto__ as data, as discord.js does', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as object;
    expect(snakeCaseJson(value)).toEqual(discordDefault(value));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
