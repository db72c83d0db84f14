/**
 * What one engine command looks like from inside the sandbox (no process is started here): which host folders are
 * mounted and where, and how every host path the runner passes is turned into the path the engine sees.
 */
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sandboxedEngineLaunch } from '../src/engine/sandbox-launch.js';
import { RunStopper, type EngineCommand } from '../src/engine/process.js';
import { bwrapOptions } from '../src/engine/sandbox-mounts.js';
import { SandboxPathHidden, sandboxViewOf, type SandboxPolicy } from '../src/engine/sandbox-view.js';
import { makeTempDir } from './support/tmp.js';

const tmp = makeTempDir('chatops-sandbox-view-');
afterAll(() => tmp.cleanup());

const GUILD = '111111111111111111';
const deployments = join(tmp.dir, 'deployments');
const workspace = join(deployments, `guild_${GUILD}`, 'web');
const otherWorkspace = join(deployments, 'guild_222222222222222222', 'web');
const cache = join(tmp.dir, 'plugin-cache');
const botFolder = join(tmp.dir, 'bot');
const tools = join(botFolder, 'tools');
const engine = join(tmp.dir, 'engines', 'terraform');
for (const folder of [workspace, join(workspace, 'bin'), otherWorkspace, tools, join(tmp.dir, 'engines'), join(tmp.dir, 'data')]) mkdirSync(folder, { recursive: true });
writeFileSync(engine, '#!/bin/sh\n', { mode: 0o755 });

const policy: SandboxPolicy = { hiddenTrees: [deployments, join(tmp.dir, 'data')], hiddenWholes: [botFolder], readOnlyPaths: [] };

function command(extra: Partial<EngineCommand> = {}): EngineCommand {
  return {
    binary: engine,
    args: ['plan', '-json', '-out=.plans/run-1.tfplan'],
    cwd: workspace,
    env: { PATH: '/usr/bin:/bin', HOME: join(workspace, '.home'), TF_PLUGIN_CACHE_DIR: cache, TF_VAR_project_id: 'secret-project-7' },
    stopper: new RunStopper(0),
    guildId: GUILD,
    ...extra,
  };
}

describe('the paths an engine is given, as it sees them', () => {
  it('the workspace is /ws: the working folder, HOME, TF_DATA_DIR and absolute paths in arguments', () => {
    const view = sandboxViewOf(
      command({
        args: [`-chdir=${join(workspace, 'module')}`, 'apply', `${workspace}/.plans/run-3.tfplan.applying`],
        env: { ...command().env, TF_DATA_DIR: join(workspace, '.terraform') },
      }),
      policy,
    );
    expect(view.args).toEqual(['-chdir=/ws/module', 'apply', '/ws/.plans/run-3.tfplan.applying']);
    expect(view.env).toMatchObject({ HOME: '/ws/.home', TF_DATA_DIR: '/ws/.terraform' });
    expect(view.mounts).toContainEqual({ host: workspace, inside: '/ws', writable: true });
    // Relative paths are already right: the engine starts in /ws.
    expect(sandboxViewOf(command(), policy).args).toEqual(['plan', '-json', '-out=.plans/run-1.tfplan']);
  });

  it('each guild gets a provider cache of its own, writable, at its own path (provider links stay valid on the host)', () => {
    const mine = sandboxViewOf(command(), policy);
    const theirs = sandboxViewOf(command({ guildId: '222222222222222222' }), policy);
    const own = join(cache, 'by-guild', GUILD);
    expect(mine.env.TF_PLUGIN_CACHE_DIR).toBe(own);
    expect(mine.mounts).toContainEqual({ host: own, inside: own, writable: true });
    expect(theirs.env.TF_PLUGIN_CACHE_DIR).toBe(join(cache, 'by-guild', '222222222222222222'));
    expect(statSync(own).mode & 0o077).toBe(0);
    expect(() => sandboxViewOf(command({ guildId: '../x' }), policy)).toThrow(RangeError);
  });

  it('refuses a host path the engine would not see (another guild’s workspace, a host file) instead of passing it on', () => {
    expect(() => sandboxViewOf(command({ args: ['plan', `-out=${otherWorkspace}/x.tfplan`] }), policy)).toThrow(SandboxPathHidden);
    expect(() => sandboxViewOf(command({ args: ['show', '/root/.terraformrc'] }), policy)).toThrow(SandboxPathHidden);
    expect(() => sandboxViewOf(command({ env: { ...command().env, TF_CLI_CONFIG_FILE: '/root/.terraformrc' } }), policy)).toThrow(/TF_CLI_CONFIG_FILE/);
    // An engine binary kept among the workspaces would be one any module could replace.
    const planted = join(otherWorkspace, 'terraform');
    writeFileSync(planted, '#!/bin/sh\n', { mode: 0o755 });
    expect(() => sandboxViewOf(command({ binary: planted }), policy)).toThrow(/engine binary/);
  });

  it('passes credentials on unchanged, even when they look like paths, and never on bubblewrap’s command line', () => {
    const view = sandboxViewOf(command({ env: { ...command().env, TF_VAR_key_path: '/srv/keys/prod.json' } }), policy);
    expect(view.env).toMatchObject({ TF_VAR_project_id: 'secret-project-7', TF_VAR_key_path: '/srv/keys/prod.json' });
    const launch = sandboxedEngineLaunch(view, { bwrap: '/usr/bin/bwrap', options: bwrapOptions(view.mounts) }, { setpriv: '/usr/bin/setpriv', env: '/usr/bin/env' });
    expect(launch.args.join(' ')).not.toMatch(/secret-project-7|prod\.json/);
    expect(launch.args).not.toContain('--setenv');
  });

  it('shows PATH folders read-only, but leaves out any that would show a workspace, the database or the whole bot folder', () => {
    const view = sandboxViewOf(command({ env: { ...command().env, PATH: [tools, join(workspace, 'bin'), join(tmp.dir, 'data'), tmp.dir, botFolder, '/usr/bin', 'relative/bin'].join(':') } }), policy);
    expect(view.env.PATH).toBe([tools, '/usr/bin'].join(':'));
    expect(view.mounts).toContainEqual({ host: tools, inside: tools, writable: false });
    expect(view.mounts.map((m) => m.host)).not.toContain(tmp.dir);
    // The engine itself, read-only at its own path.
    expect(view.mounts).toContainEqual({ host: engine, inside: engine, writable: false });
  });

  it('judges a PATH folder by what it really is: a link to the deployments root is left out', () => {
    const link = join(tmp.dir, 'innocent-bin');
    symlinkSync(deployments, link);
    const view = sandboxViewOf(command({ env: { ...command().env, PATH: `${link}:/usr/bin` } }), policy);
    expect(view.env.PATH).toBe('/usr/bin');
    expect(view.mounts.map((m) => m.host)).not.toContain(deployments);
  });

  it('refuses a guild cache folder that is a link (left by an engine that once ran without the sandbox)', () => {
    mkdirSync(join(cache, 'by-guild'), { recursive: true });
    symlinkSync(otherWorkspace, join(cache, 'by-guild', '333333333333333333'));
    expect(() => sandboxViewOf(command({ guildId: '333333333333333333' }), policy)).toThrow(/symbolic link/);
  });
});

describe('the sandbox bubblewrap builds', () => {
  const options = bwrapOptions(sandboxViewOf(command(), policy).mounts);
  const joined = options.join(' ');

  it('has its own PID, IPC and UTS namespaces, no capabilities, and shares the network', () => {
    expect(options).toEqual(expect.arrayContaining(['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--cap-drop', 'ALL']));
    expect(joined).not.toMatch(/--unshare-net|--unshare-all|--share-net/);
  });

  it('shows the system read-only, only chosen /etc entries, a private /proc, /dev and /tmp, and a read-only root', () => {
    expect(joined).toMatch(/--(ro-bind \/usr \/usr|symlink \S+ \/usr)/);
    expect(joined).toContain('--ro-bind-try /etc/ssl /etc/ssl');
    expect(joined).toContain('--ro-bind-try /etc/resolv.conf /etc/resolv.conf');
    expect(joined).not.toMatch(/--ro-bind \/etc \/etc|\/etc\/shadow|\/etc\/environment|\/etc\/systemd/);
    expect(joined).toContain('--proc /proc --dev /dev --tmpfs /tmp');
    expect(options.slice(-2)).toEqual(['--remount-ro', '/']);
    // Binds come after /tmp, so one under /tmp is not hidden by the tmpfs; the workspace is bound read-write.
    expect(options.indexOf('--tmpfs')).toBeLessThan(options.indexOf(workspace));
    expect(joined).toContain(`--bind ${workspace} /ws`);
    expect(joined).not.toContain(`${otherWorkspace}`);
  });
});
