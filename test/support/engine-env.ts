/**
 * Test environments for the IaC runner: a PATH holding the stand-in `terraform`, `tofu`, both or neither (plus
 * `node`, which the stand-in's `#!/usr/bin/env node` needs), and a ready runner built by the composition root.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { buildCore, type Core } from '../../src/app/bootstrap.js';
import type { AuditLog } from '../../src/audit/index.js';
import { parseConfig } from '../../src/config/index.js';
import type { MasterKey } from '../../src/credentials/master-keys.js';
import type { DatabaseHandle } from '../../src/db/index.js';
import type { EngineName, Provider, ResourceType } from '../../src/db/schema.js';
import type { IacRunner } from '../../src/engine/runner.js';
import type { Logger } from '../../src/logging/logger.js';
import type { Project, ProjectRepository, Resource, ResourceRepository } from '../../src/projects/index.js';
import type { StateLayout } from '../../src/state/index.js';
import { FakeClock } from './clock.js';
import { RecordingNotifier } from './recording-notifier.js';
import { makeTempDir } from './tmp.js';
import { STAND_IN_SANDBOX_ENV } from './sandbox-env.js';

export const FAKE_ENGINE_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../fake-engine/bin');

export type EngineSet = 'both' | 'terraform' | 'tofu' | 'none';

/**
 * A PATH with exactly the chosen stand-in engines and `node`, nothing else. Built from links in a temporary folder
 * (inside `root`), so no engine elsewhere on the machine can be found by accident.
 */
export function enginePath(root: string, engines: EngineSet, versions: Partial<Record<EngineName, string>> = {}): string {
  const suffix = Object.entries(versions).map(([name, version]) => `-${name}${version}`).join('');
  const dir = join(root, `path-${engines}${suffix}`);
  const engineDir = join(dir, 'engines');
  const nodeDir = join(dir, 'node');
  if (!existsSync(dir)) {
    mkdirSync(engineDir, { recursive: true });
    mkdirSync(nodeDir, { recursive: true });
    symlinkSync(process.execPath, join(nodeDir, 'node'));
    const chosen: EngineName[] = engines === 'both' ? ['terraform', 'tofu'] : engines === 'none' ? [] : [engines];
    for (const name of chosen) {
      const version = versions[name];
      if (version === undefined) {
        symlinkSync(join(FAKE_ENGINE_BIN, name), join(engineDir, name));
      } else {
        // Another version: a wrapper that tells the stand-in which one to report (its env is otherwise minimal).
        const variable = name === 'tofu' ? 'FAKE_TOFU_VERSION' : 'FAKE_TERRAFORM_VERSION';
        writeFileSync(join(engineDir, name), `#!/bin/sh\n${variable}='${version}' exec '${join(FAKE_ENGINE_BIN, name)}' "$@"\n`, { mode: 0o755 });
      }
    }
  }
  return [engineDir, nodeDir].join(delimiter);
}

/** A logger that keeps every entry, for asserting on warnings. */
export function memoryLogger(): { logger: Logger; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        entries.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, entries };
}

export interface RunnerFixture {
  /** The whole core, built by the production composition root. */
  core: Core;
  runner: IacRunner;
  db: DatabaseHandle & { path: string; dir: string };
  layout: StateLayout;
  projects: ProjectRepository;
  resources: ResourceRepository;
  audit: AuditLog;
  clock: FakeClock;
  notifier: RecordingNotifier;
  logEntries: Array<Record<string, unknown>>;
  root: string;
  pathEnv: string;
  /** A project (and its workspace folder, created). */
  project(guildId: string, name: string, provider?: Provider, region?: string): Promise<Project>;
  resource(project: Project, type?: ResourceType, extra?: { instanceType?: string; diskSizeGb?: number; name?: string }): Promise<Resource>;
  workspace(project: Project): string;
  /** Writes the stand-in's control file (see test/fake-engine/engine.mjs) into the project's workspace. */
  control(project: Project, knobs: Record<string, unknown>): void;
  /** Every invocation the stand-in recorded in the project's workspace. */
  invocations(project: Project): Invocation[];
  cleanup(): Promise<void>;
}

export interface Invocation {
  /** The pid the stand-in saw: in the engine sandbox, its pid inside its own PID namespace. */
  pid: number;
  /** `pid:[inode]` of that namespace. */
  pidNamespace?: string | null;
  engine?: string;
  argv?: string[];
  cwd?: string;
  env?: Record<string, string>;
  signal?: string;
}

export const DEFAULT_REGIONS: Record<Provider, string> = { gcp: 'us-central1', aws: 'us-east-1', azure: 'eastus' };

export interface RunnerFixtureOptions {
  engines?: EngineSet;
  /** Versions the stand-in engines report, when not their defaults (terraform 1.9.8, tofu 1.8.5). */
  engineVersions?: Partial<Record<EngineName, string>>;
  maxConcurrentRuns?: number;
  runTimeoutMs?: number;
  killGraceMs?: number;
  /** PATH for discovery and the child, instead of one holding `engines`. */
  pathEnv?: string;
  binDir?: string;
  /** Master keys, current first, given to the core as CREDENTIALS_MASTER_KEY and CREDENTIALS_PREVIOUS_MASTER_KEYS. */
  stateEncryptionKeys?: readonly MasterKey[];
}

/**
 * The runner as production builds it: `buildCore` over a temporary database and deployments folder, with a test
 * config. Only the edges are stand-ins: the clock, the notifier, the logger's sink and the PATH holding the engines.
 */
export async function makeRunnerFixture(options: RunnerFixtureOptions = {}): Promise<RunnerFixture> {
  const tmp = makeTempDir('chatops-engine-');
  const clock = new FakeClock();
  const notifier = new RecordingNotifier();
  const { logger, entries } = memoryLogger();
  const pathEnv = options.pathEnv ?? enginePath(tmp.dir, options.engines ?? 'both', options.engineVersions);
  const databaseDir = join(tmp.dir, 'database');
  const databasePath = join(databaseDir, 'test.db');
  const config = parseConfig({
    DATABASE_PATH: databasePath,
    DEPLOYMENTS_DIR: join(tmp.dir, 'deployments'),
    TF_PLUGIN_CACHE_DIR: join(tmp.dir, 'plugin-cache'),
    MAX_CONCURRENT_RUNS: String(options.maxConcurrentRuns ?? 2),
    LOG_LEVEL: 'debug',
    ...STAND_IN_SANDBOX_ENV,
    ...(options.binDir ? { IAC_BIN_DIR: options.binDir } : {}),
    ...masterKeyConfig(options.stateEncryptionKeys ?? []),
  });
  const core = await buildCore({
    config,
    clock,
    logger,
    notifier,
    engineHost: { pathEnv, runTimeoutMs: options.runTimeoutMs ?? 20_000, killGraceMs: options.killGraceMs ?? 300 },
  });
  // A live bot renews its leases all the while; minutes the test skips are no exception. On SQLite the renewal is
  // written within the call; a failure goes to the heartbeat's own error report, so nothing is left to await.
  clock.whenAdvanced(() => void core.heartbeat.beat());
  const { runner, layout, projects, resources, audit } = core.app;
  let counter = 0;
  return {
    core,
    runner,
    db: { ...core.database.sqlite!, path: databasePath, dir: databaseDir },
    layout,
    projects,
    resources,
    audit,
    clock,
    notifier,
    logEntries: entries,
    root: tmp.dir,
    pathEnv,
    project: (guildId, name, provider = 'gcp', region) =>
      projects.create({ guildId, name, provider, region: region ?? DEFAULT_REGIONS[provider], createdBy: '222222222222222222' }),
    resource: (project, type = 'vm', extra = {}) =>
      resources.create({
        projectId: project.id,
        guildId: project.guildId,
        name: extra.name ?? `${type}-${++counter}`,
        resourceType: type,
        ...(type === 'vm' ? { instanceType: extra.instanceType ?? defaultInstanceType(project.provider), diskSizeGb: extra.diskSizeGb ?? 20 } : {}),
        estimatedMonthlyCost: 12.5,
        createdBy: '222222222222222222',
      }),
    workspace: (project) => layout.workspaceDir(project.guildId, project.slug),
    control: (project, knobs) => {
      writeFileSync(join(layout.workspaceDir(project.guildId, project.slug), 'fake-engine.json'), JSON.stringify(knobs));
    },
    invocations: (project) => {
      const path = join(layout.workspaceDir(project.guildId, project.slug), '.fake-engine-invocations.jsonl');
      if (!existsSync(path)) return [];
      return readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Invocation);
    },
    cleanup: async () => {
      await core.shutdown();
      tmp.cleanup();
    },
  };
}

/** The config variables that give the core these master keys (the first is the current one). */
function masterKeyConfig(keys: readonly MasterKey[]): Record<string, string> {
  const [current, ...previous] = keys;
  if (!current) return {};
  return {
    CREDENTIALS_MASTER_KEY: current.key.toString('base64'),
    CREDENTIALS_MASTER_KEY_ID: current.id,
    ...(previous.length > 0 ? { CREDENTIALS_PREVIOUS_MASTER_KEYS: previous.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',') } : {}),
  };
}

function defaultInstanceType(provider: Provider): string {
  return provider === 'gcp' ? 'e2-micro' : provider === 'aws' ? 't3.micro' : 'Standard_B1s';
}

/** Whether a process with this pid still exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (ended, not yet collected by whoever adopted it) is gone for every purpose here.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '');
  } catch {
    return false;
  }
}

/**
 * The host pid of the stand-in process that wrote `entry`, found while it runs: its own pid where it ran in the
 * bot's PID namespace, and otherwise the process in its namespace that has that pid there (the engine sandbox makes
 * every engine a PID namespace of its own). Undefined when no such process runs any more.
 */
export function hostPidOf(entry: Pick<Invocation, 'pid' | 'pidNamespace'>): number | undefined {
  if (!entry.pidNamespace || entry.pidNamespace === readlinkSync('/proc/self/ns/pid')) return processExists(entry.pid) ? entry.pid : undefined;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/pid`) !== entry.pidNamespace) continue;
      const inside = /^NSpid:\s+(.+)$/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1]?.trim().split(/\s+/).at(-1);
      if (Number(inside) === entry.pid && processExists(Number(name))) return Number(name);
    } catch {
      // Ended while we looked.
    }
  }
  return undefined;
}

/** Whether the stand-in process that wrote `entry` still runs. */
export function stillRunning(entry: Pick<Invocation, 'pid' | 'pidNamespace'>): boolean {
  return hostPidOf(entry) !== undefined;
}

/** The signals the stand-in process that wrote `entry` received, in order. */
export function signalsReceived(entries: readonly Invocation[], entry: Pick<Invocation, 'pid' | 'pidNamespace'>): string[] {
  return entries.filter((e) => e.signal && e.pid === entry.pid && (e.pidNamespace ?? null) === (entry.pidNamespace ?? null)).map((e) => e.signal as string);
}

/** gcp secrets as the vault would hold them, and the env the runner gets for them. */
export const GCP_SECRET_PROJECT_ID = 'super-secret-project-4242';
