/**
 * At start-up: which executor runs the engines. With ENGINE_SANDBOX=bwrap (the default) bubblewrap must be
 * installed and work on this host, or the bot does not start: it is tried once, with the very command line a run
 * would use and a harmless command, and anything that fails (not installed, too old, namespaces refused by the
 * kernel or a container) stops the start-up with what to install or change. Only ENGINE_SANDBOX=off runs engines
 * without it, and that is logged as a warning at every start.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { findGuardianTools, type GuardianTools } from './death-signal.js';
import { sandboxedEngineLaunch } from './sandbox-launch.js';
import { findExecutable, searchDirs } from './discovery.js';
import { LocalEngineExecutor, type EngineExecutor } from './executor.js';
import { RunStopper } from './process.js';
import { SandboxedEngineExecutor, type SandboxSettings } from './sandbox.js';
import { bwrapOptions, systemPaths } from './sandbox-mounts.js';
import { overlapWithPrivate, sandboxViewOf, type SandboxBoundaries } from './sandbox-view.js';

const TURN_OFF = 'To run engines without a sandbox instead (a template could then read every guild’s files, the database and the bot’s secrets), set ENGINE_SANDBOX=off.';
const PROBE_TIMEOUT_MS = 30_000;

/** The start-up refused to run engines unsandboxed; the message says what to install or set. */
export class EngineSandboxUnavailable extends Error {
  constructor(problem: string) {
    super(`${problem} ${TURN_OFF}`);
    this.name = 'EngineSandboxUnavailable';
  }
}

export interface SandboxStartupOptions {
  sandbox: 'bwrap' | 'off';
  /** BWRAP_PATH; otherwise bwrap is looked for on `pathEnv` and in /usr/bin. */
  bwrapPath?: string | undefined;
  /** ENGINE_SANDBOX_READ_ONLY_PATHS, absolute. */
  readOnlyPaths: readonly string[];
  deploymentsRoot: string;
  /** The SQLite file, whose folder engines must not see; undefined on PostgreSQL (the data is the server's). */
  databasePath: string | undefined;
  /** More folders engines must never see any part of (the template store, with every guild's modules). */
  privateFolders?: readonly string[];
  /** The PATH engines are found on and run with. */
  pathEnv: string;
  logger: Logger;
}

/** The executor for this host's engines, or EngineSandboxUnavailable. */
export function engineExecutorFor(options: SandboxStartupOptions): EngineExecutor {
  if (options.sandbox === 'off') {
    options.logger.warn(
      { setting: 'ENGINE_SANDBOX=off' },
      'engines run without a sandbox: a template’s provisioners or providers can read every guild’s workspace, the database and the bot’s environment; remove ENGINE_SANDBOX=off to sandbox them',
    );
    return new LocalEngineExecutor();
  }
  const settings = sandboxSettings(options);
  probe(settings);
  options.logger.info({ bwrap: settings.bwrap }, 'engines run in a bubblewrap sandbox');
  return new SandboxedEngineExecutor(settings);
}

function sandboxSettings(options: SandboxStartupOptions): SandboxSettings {
  if (process.platform !== 'linux') {
    throw new EngineSandboxUnavailable(`The engine sandbox (bubblewrap) needs Linux, and this host runs ${process.platform}.`);
  }
  const bwrap = findBwrap(options);
  const guardian: GuardianTools | null = findGuardianTools();
  if (!guardian) {
    throw new EngineSandboxUnavailable(
      'The engine sandbox needs setpriv with --pdeathsig (util-linux 2.33 or newer) and env with --default-signal (coreutils 8.31 or newer), which were not found or do not work here. Install them (Debian/Ubuntu: apt-get install util-linux coreutils).',
    );
  }
  const boundaries = boundariesOf(options);
  for (const system of systemPaths()) {
    const hidden = existsSync(system) ? overlapWithPrivate(realOrResolved(system), boundaries) : undefined;
    if (hidden !== undefined) {
      throw new EngineSandboxUnavailable(`${hidden} is under ${system}, which every sandboxed engine can read. Move the bot’s folder, DEPLOYMENTS_DIR and DATABASE_PATH out of it.`);
    }
  }
  for (const folder of options.readOnlyPaths) {
    if (!existsSync(folder)) throw new EngineSandboxUnavailable(`ENGINE_SANDBOX_READ_ONLY_PATHS names ${folder}, which does not exist.`);
    const hidden = overlapWithPrivate(realOrResolved(folder), boundaries);
    if (hidden !== undefined) {
      throw new EngineSandboxUnavailable(`ENGINE_SANDBOX_READ_ONLY_PATHS names ${folder}, which would show engines ${hidden}. Name a folder that holds only what engines need.`);
    }
  }
  return { bwrap, guardian, readOnlyPaths: options.readOnlyPaths.map(realOrResolved), ...boundaries };
}

function findBwrap(options: SandboxStartupOptions): string {
  if (options.bwrapPath !== undefined) {
    if (!existsSync(options.bwrapPath)) throw new EngineSandboxUnavailable(`BWRAP_PATH is ${options.bwrapPath}, which does not exist. Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) or correct BWRAP_PATH.`);
    return options.bwrapPath;
  }
  const found = findExecutable('bwrap', [...searchDirs({ pathEnv: options.pathEnv }), '/usr/bin', '/bin']);
  if (!found) {
    throw new EngineSandboxUnavailable(
      'Engines run in a bubblewrap sandbox, and bubblewrap (bwrap) is not installed. Install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap), or set BWRAP_PATH to where it is.',
    );
  }
  return found;
}

/**
 * What engines must never see: every workspace (the deployments root), the database's folder, the template store;
 * and never whole: the bot's own folder (its `.env`) and its user's home (cloud CLIs keep keys there).
 */
function boundariesOf(options: SandboxStartupOptions): SandboxBoundaries {
  const trees = [options.deploymentsRoot, ...(options.databasePath === undefined || options.databasePath === ':memory:' ? [] : [dirname(resolve(options.databasePath))]), ...(options.privateFolders ?? [])];
  const wholes = [process.cwd(), homedir()];
  const both = (paths: string[]): string[] => [...new Set(paths.flatMap((path) => [resolve(path), realOrResolved(path)]))];
  return { hiddenTrees: both(trees), hiddenWholes: both(wholes) };
}

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Runs `sh -c 'exit 0'` exactly as an engine would be run, in a throwaway workspace. */
function probe(settings: SandboxSettings): void {
  const workspace = mkdtempSync(join(tmpdir(), 'chatops-sandbox-probe-'));
  try {
    const command = { binary: '/bin/sh', args: ['-c', 'exit 0'], cwd: workspace, env: { PATH: '/usr/bin:/bin' }, stopper: new RunStopper(0) };
    const view = sandboxViewOf(command, settings);
    const launch = sandboxedEngineLaunch({ binary: view.binary, args: view.args, env: view.env }, { bwrap: settings.bwrap, options: bwrapOptions(view.mounts) }, settings.guardian);
    const result = spawnSync(launch.file, launch.args, { cwd: workspace, env: view.env, stdio: ['ignore', 'ignore', 'pipe', 'pipe'], timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' });
    if (result.status === 0) return;
    const said = (result.stderr ?? '').trim().split('\n').slice(-1)[0]?.slice(0, 300);
    throw new EngineSandboxUnavailable(
      `bubblewrap (${settings.bwrap}) is installed but could not start a sandbox here${said ? ` ("${said}")` : result.error ? ` (${result.error.message})` : ''}. ` +
        'It needs user namespaces (or to run as root) and may not work inside an unprivileged container; on Ubuntu 24.04 and later, AppArmor must allow bwrap to create them.',
    );
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}
