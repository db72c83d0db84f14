import { describe, expect, it } from 'vitest';
import { engineLaunch } from '../src/engine/death-signal.js';
import { memoryLogger } from './support/engine-env.js';

describe('starting an engine that dies with the bot', () => {
  it('goes through setpriv --pdeathsig INT when setpriv is there, so the engine gets SIGINT if the bot dies', () => {
    expect(engineLaunch('/opt/bin/terraform', ['plan', '-json'], undefined, '/usr/bin/setpriv')).toEqual({
      file: '/usr/bin/setpriv',
      args: ['--pdeathsig', 'INT', '--', '/opt/bin/terraform', 'plan', '-json'],
      stopsWithBot: true,
    });
  });

  it('falls back to starting the engine directly, with one logged warning, when setpriv is missing', () => {
    const { logger, entries } = memoryLogger();
    expect(engineLaunch('/opt/bin/tofu', ['init'], logger, null)).toEqual({ file: '/opt/bin/tofu', args: ['init'], stopsWithBot: false });
    engineLaunch('/opt/bin/tofu', ['plan'], logger, null);
    const warnings = entries.filter((e) => e.level === 40);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.msg)).toMatch(/setpriv.*not available.*next start-up stops them/);
  });
});
