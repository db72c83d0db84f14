/**
 * Test environments for the IaC runner: a PATH holding the stand-in `terraform`, `tofu`, both or neither (plus
 * `node`, which the stand-in's `#!/usr/bin/env node` needs), and a ready runner over a real database and folder.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { AuditLog } from '../../src/audit/index.js';
import type { EngineName, Provider, ResourceType } from '../../src/db/schema.js';
import { IacRunner, type IacRunnerOptions } from '../../src/engine/runner.js';
import type { Logger } from '../../src/logging/logger.js';
import { ProjectRepository, ResourceRepository, type Project, type Resource } from '../../src/projects/index.js';
import { StateLayout } from '../../src/state/index.js';
import { FakeClock } from './clock.js';
import { makeTempDir, makeTestDatabase } from './tmp.js';

export const FAKE_ENGINE_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../fake-engine/bin');

export type EngineSet = 'both' | 'terraform' | 'tofu' | 'none';

/**
 * A PATH with exactly the chosen stand-in engines and `node`, nothing else. Built from links in a temporary folder
 * (inside `root`), so no engine elsewhere on the machine can be found by accident.
 */
export function enginePath(root: string, engines: EngineSet): string {
  const dir = join(root, `path-${engines}`);
  const engineDir = join(dir, 'engines');
  const nodeDir = join(dir, 'node');
  if (!existsSync(dir)) {
    mkdirSync(engineDir, { recursive: true });
    mkdirSync(nodeDir, { recursive: true });
    symlinkSync(process.execPath, join(nodeDir, 'node'));
    const chosen: EngineName[] = engines === 'both' ? ['terraform', 'tofu'] : engines === 'none' ? [] : [engines];
    for (const name of chosen) symlinkSync(join(FAKE_ENGINE_BIN, name), join(engineDir, name));
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
  runner: IacRunner;
  db: ReturnType<typeof makeTestDatabase>;
  layout: StateLayout;
  projects: ProjectRepository;
  resources: ResourceRepository;
  audit: AuditLog;
  clock: FakeClock;
  logEntries: Array<Record<string, unknown>>;
  root: string;
  pathEnv: string;
  /** A project (and its workspace folder, created). */
  project(guildId: string, name: string, provider?: Provider, region?: string): Project;
  resource(project: Project, type?: ResourceType, extra?: { instanceType?: string; diskSizeGb?: number; name?: string }): Resource;
  workspace(project: Project): string;
  /** Writes the stand-in's control file (see test/fake-engine/engine.mjs) into the project's workspace. */
  control(project: Project, knobs: Record<string, unknown>): void;
  /** Every invocation the stand-in recorded in the project's workspace. */
  invocations(project: Project): Invocation[];
  cleanup(): Promise<void>;
}

export interface Invocation {
  pid: number;
  engine?: string;
  argv?: string[];
  env?: Record<string, string>;
  signal?: string;
}

export const DEFAULT_REGIONS: Record<Provider, string> = { gcp: 'us-central1', aws: 'us-east-1', azure: 'eastus' };

export function makeRunnerFixture(
  options: { engines?: EngineSet; maxConcurrentRuns?: number; runTimeoutMs?: number; killGraceMs?: number } & Partial<IacRunnerOptions> = {},
): RunnerFixture {
  const tmp = makeTempDir('chatops-engine-');
  const db = makeTestDatabase();
  const clock = new FakeClock();
  const layout = new StateLayout(join(tmp.dir, 'deployments'));
  const { logger, entries } = memoryLogger();
  const pathEnv = options.pathEnv ?? enginePath(tmp.dir, options.engines ?? 'both');
  const audit = new AuditLog(db.db, clock);
  const runner = new IacRunner({
    db: db.db,
    layout,
    clock,
    logger,
    maxConcurrentRuns: options.maxConcurrentRuns ?? 2,
    runTimeoutMs: options.runTimeoutMs ?? 20_000,
    killGraceMs: options.killGraceMs ?? 300,
    pluginCacheDir: join(tmp.dir, 'plugin-cache'),
    pathEnv,
    audit,
    ...(options.binDir ? { binDir: options.binDir } : {}),
  });
  const projects = new ProjectRepository(db.db, clock);
  const resources = new ResourceRepository(db.db, clock);
  let counter = 0;
  return {
    runner,
    db,
    layout,
    projects,
    resources,
    audit,
    clock,
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
      await runner.shutdown();
      db.cleanup();
      tmp.cleanup();
    },
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

/** gcp secrets as the vault would hold them, and the env the runner gets for them. */
export const GCP_SECRET_PROJECT_ID = 'super-secret-project-4242';
