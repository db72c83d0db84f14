import { describe, expect, it } from 'vitest';
import { engineLaunch, findGuardianTools, sandboxedEngineLaunch } from '../src/engine/death-signal.js';
import { memoryLogger } from './support/engine-env.js';

describe('starting an engine that dies with the bot', () => {
  it('goes through setpriv and a single-threaded guardian, so the engine gets exactly one SIGINT if the bot dies', () => {
    const launch = engineLaunch({ binary: '/opt/bin/terraform', args: ['plan', '-json'], env: {} }, undefined, { setpriv: '/usr/bin/setpriv', env: '/usr/bin/env' });
    expect(launch).toMatchObject({ file: '/usr/bin/setpriv', stopsWithBot: true, reportsEnginePid: true });
    expect(launch.args.slice(0, 5)).toEqual(['--pdeathsig', 'KILL', '--', '/bin/sh', '-c']);
    // The engine itself runs at a lower CPU priority than the bot (engine-priority.ts).
    expect(launch.args.slice(7)).toEqual(['/usr/bin/env', '-u', 'PWD', '--default-signal', '/usr/bin/setpriv', '--pdeathsig', 'INT', '--', '/usr/bin/nice', '-n', '10', '/opt/bin/terraform', 'plan', '-json']);
  });

  it('in the sandbox, puts bubblewrap between the guardian and the engine, which keeps the SIGINT-on-death and is PID 1 inside', () => {
    const launch = sandboxedEngineLaunch(
      { binary: '/usr/local/bin/terraform', args: ['apply', '-json'], env: {} },
      { bwrap: '/usr/bin/bwrap', options: ['--unshare-pid', '--bind', '/srv/ws', '/ws'] },
      { setpriv: '/usr/bin/setpriv', env: '/usr/bin/env' },
    );
    expect(launch).toMatchObject({ file: '/usr/bin/setpriv', stopsWithBot: true, reportsEnginePid: true });
    const args = launch.args.join(' ');
    // bubblewrap dies with the guardian (so the engine, its child, gets its parent-death SIGINT) and is niced...
    expect(args).toContain('engine-guardian /usr/bin/setpriv --pdeathsig KILL -- /usr/bin/nice -n 10 /usr/bin/bwrap --unshare-pid --bind /srv/ws /ws');
    // ...reports the engine's host pid on descriptor 3, and starts it with its signals back and SIGINT on death.
    expect(args).toContain('--as-pid-1 --die-with-parent --info-fd 3 -- /usr/bin/env -u PWD --default-signal /usr/bin/setpriv --pdeathsig INT -- /usr/local/bin/terraform apply -json');
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
