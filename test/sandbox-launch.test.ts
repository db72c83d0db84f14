/**
 * The chain of processes a sandboxed engine is started through (sandbox-launch.ts), as argv: nothing is spawned
 * here. That it stops the way it should is proved with real processes in engine-runner, bot-lifecycle and
 * engine-sandbox.
 */
import { describe, expect, it } from 'vitest';
import { sandboxedEngineLaunch } from '../src/engine/sandbox-launch.js';

const launch = sandboxedEngineLaunch(
  { binary: '/usr/local/bin/terraform', args: ['apply', '-json'], env: { TF_VAR_project_id: 'secret-project-9' } },
  { bwrap: '/usr/bin/bwrap', options: ['--unshare-pid', '--bind', '/srv/ws', '/ws'] },
  { setpriv: '/usr/bin/setpriv', env: '/usr/bin/env' },
);
const args = launch.args.join(' ');

describe('starting a sandboxed engine', () => {
  it('goes through the guardian, which dies with the bot, and reports the pid bubblewrap writes on descriptor 3', () => {
    expect(launch).toMatchObject({ file: '/usr/bin/setpriv', stopsWithBot: true, reportsEnginePid: true });
    expect(launch.args.slice(0, 5)).toEqual(['--pdeathsig', 'KILL', '--', '/bin/sh', '-c']);
    expect(args).toContain('--as-pid-1 --die-with-parent --info-fd 3 --');
  });

  it('kills bubblewrap with the guardian and lowers its priority, which everything inside inherits', () => {
    expect(args).toContain('engine-guardian /usr/bin/setpriv --pdeathsig KILL -- /usr/bin/nice -n 10 /usr/bin/bwrap --unshare-pid --bind /srv/ws /ws');
  });

  it('has a keeper as PID 1, which turns its own parent-death signal into the engine’s one SIGINT', () => {
    expect(args).toContain('-- /usr/bin/setpriv --pdeathsig USR1 -- /bin/sh -c');
    expect(args).toMatch(/trap 'kill -INT "\$pid" 2>\/dev\/null' USR1/);
    // The engine itself gets its signals back (a background job starts with SIGINT ignored) and only its own env.
    expect(args).toMatch(/engine-keeper \/usr\/bin\/env -u PWD --default-signal \/usr\/local\/bin\/terraform apply -json$/);
  });

  it('never puts the environment (the credentials) on a command line', () => {
    expect(args).not.toContain('secret-project-9');
    expect(launch.args).not.toContain('--setenv');
  });
});
