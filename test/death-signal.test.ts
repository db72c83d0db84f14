import { describe, expect, it } from 'vitest';
import { engineLaunch, findGuardianTools } from '../src/engine/death-signal.js';
import { memoryLogger } from './support/engine-env.js';

describe('starting an engine that dies with the bot', () => {
  it('goes through setpriv and a single-threaded guardian, so the engine gets exactly one SIGINT if the bot dies', () => {
    const launch = engineLaunch({ binary: '/opt/bin/terraform', args: ['plan', '-json'], env: {} }, undefined, { setpriv: '/usr/bin/setpriv', env: '/usr/bin/env' });
    expect(launch).toMatchObject({ file: '/usr/bin/setpriv', stopsWithBot: true, reportsEnginePid: true });
    expect(launch.args.slice(0, 5)).toEqual(['--pdeathsig', 'KILL', '--', '/bin/sh', '-c']);
    // The engine itself runs at a lower CPU priority than the bot (engine-priority.ts).
    expect(launch.args.slice(7)).toEqual(['/usr/bin/env', '-u', 'PWD', '--default-signal', '/usr/bin/setpriv', '--pdeathsig', 'INT', '--', '/usr/bin/nice', '-n', '10', '/opt/bin/terraform', 'plan', '-json']);
  });

  it('finds the tools on this host (util-linux and coreutils are installed here)', () => {
    expect(findGuardianTools()).toEqual({ setpriv: expect.stringMatching(/setpriv$/), env: expect.stringMatching(/env$/) });
  });

  it('falls back to starting the engine directly, with one logged warning, when the tools are missing', () => {
    const { logger, entries } = memoryLogger();
    expect(engineLaunch({ binary: '/opt/bin/tofu', args: ['init'], env: {} }, logger, null)).toEqual({ file: '/opt/bin/tofu', args: ['init'], stopsWithBot: false, reportsEnginePid: false });
    engineLaunch({ binary: '/opt/bin/tofu', args: ['plan'], env: {} }, logger, null);
    const warnings = entries.filter((e) => e.level === 40);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.msg)).toMatch(/setpriv.*not available.*next start-up stops them/);
  });
});
