/**
 * The runner is given its executor, stores, locks and resource transitions; reading outputs holds the workspace
 * like a run does; and how a run ended maps one way to what is recorded.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResourceStatusTransitions } from '../src/deploy/resource-transitions.js';
import { toEngineEnv } from '../src/engine/credential-env.js';
import { RunCancelled, RunnerShuttingDown, RunTimedOut, WorkspaceBusy } from '../src/engine/errors.js';
import { LocalEngineExecutor, type EngineExecutor } from '../src/engine/executor.js';
import type { EngineCommand, EngineCommandResult } from '../src/engine/process.js';
import { IacRunner, type RunRequest } from '../src/engine/runner.js';
import { RunScheduler } from '../src/engine/scheduler.js';
import { WorkspaceLeases } from '../src/engine/workspace-leases.js';
import { runStoreFor } from '../src/engine/run-store.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { meaningOf, stopError } from '../src/engine/stop-reasons.js';
import type { Project } from '../src/projects/index.js';
import { makeRunnerFixture, type RunnerFixture } from './support/engine-env.js';

const GUILD = '111111111111111111';
const USER = '222222222222222222';

function request(project: Project): RunRequest {
  return { guildId: project.guildId, projectSlug: project.slug, userId: USER, credentialEnv: toEngineEnv('gcp', { project_id: 'p-1' }), enginePreference: 'terraform' };
}

let fixture: RunnerFixture;
beforeEach(async () => {
  fixture = await makeRunnerFixture({ maxConcurrentRuns: 2 });
});
afterEach(async () => {
  await fixture.cleanup();
});

/** Passes every command on to the local executor and remembers its argv. */
class RecordingExecutor implements EngineExecutor {
  readonly commands: string[][] = [];
  readonly #local = new LocalEngineExecutor();
  run(command: EngineCommand): Promise<EngineCommandResult> {
    this.commands.push(command.args);
    return this.#local.run(command);
  }
}

function runnerWith(executor: EngineExecutor): IacRunner {
  const logger = pino({ level: 'silent' });
  return new IacRunner({
    runs: runStoreFor(sqliteDataAccess(fixture.db), fixture.clock),
    scheduler: new RunScheduler(1),
    leases: new WorkspaceLeases(sqliteDataAccess(fixture.db), fixture.clock, 'this-process'),
    projects: fixture.projects,
    resources: fixture.resources,
    transitions: new ResourceStatusTransitions(fixture.resources, logger),
    executor,
    layout: fixture.layout,
    clock: fixture.clock,
    logger,
    runTimeoutMs: 20_000,
    pluginCacheDir: `${fixture.root}/plugin-cache`,
    pathEnv: fixture.pathEnv,
    audit: fixture.audit,
  });
}

describe('the runner and what it is given', () => {
  it('runs every engine command of a plan, apply and destroy through the executor it is given', async () => {
    const executor = new RecordingExecutor();
    const runner = runnerWith(executor);
    const project = await fixture.project(GUILD, 'Injected');
    const vm = await fixture.resource(project, 'vm');
    const plan = await runner.plan({ ...request(project), resourceId: vm.id });
    await runner.apply({ ...request(project), planRunId: plan.runId });
    await runner.destroy({ ...request(project), resourceId: vm.id });
    await runner.shutdown();
    expect(executor.commands.map((argv) => argv[0])).toEqual(['init', 'plan', 'show', 'apply', 'init', 'destroy']);
    expect(fixture.invocations(project).map((call) => call.argv?.[0])).toEqual(['init', 'plan', 'show', 'apply', 'init', 'destroy']);
  });

  it('moves resources through the deploy domain transitions: applying → active, destroying → destroyed', async () => {
    const project = await fixture.project(GUILD, 'Moments');
    const vm = await fixture.resource(project, 'vm');
    const plan = await fixture.runner.plan({ ...request(project), resourceId: vm.id });
    await fixture.runner.apply({ ...request(project), planRunId: plan.runId });
    expect((await fixture.resources.get(GUILD, vm.id)).status).toBe('active');
    await fixture.runner.destroy({ ...request(project), resourceId: vm.id });
    expect((await fixture.resources.get(GUILD, vm.id)).status).toBe('destroyed');
  });
});

describe('reading outputs holds the workspace', () => {
  it('refuses to read outputs while a run holds the workspace, and runs no engine command for it', async () => {
    const project = await fixture.project(GUILD, 'Held');
    fixture.control(project, { sleepMs: 150 });
    const resource = await fixture.resource(project);
    // The plan asks for its project and resource before it takes the workspace: outputs are asked for once it holds it.
    let holding: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const plan = fixture.runner.plan({
      ...request(project),
      resourceId: resource.id,
      onEvent: (e) => {
        if (e.type === 'run_created') holding();
      },
    });
    await Promise.race([held, plan]);
    const outputs = fixture.runner.outputs(request(project));
    const error = (await outputs.catch((e: unknown) => e)) as WorkspaceBusy;
    expect(error).toBeInstanceOf(WorkspaceBusy);
    expect(error.holder.kind).toBe('plan');
    await plan;
    expect(fixture.invocations(project).map((call) => call.argv?.[0])).toEqual(['init', 'plan', 'show']);
    // Once the plan is over, outputs are read as before.
    await expect(fixture.runner.outputs(request(project))).resolves.toMatchObject({ outputs: {} });
  });

  it('refuses a run while outputs are being read in its workspace', async () => {
    const project = await fixture.project(GUILD, 'Reading');
    // A workspace never initialised: outputs configure and initialise it first, holding the workspace throughout.
    const resource = await fixture.resource(project);
    const outputs = fixture.runner.outputs(request(project));
    const plan = fixture.runner.plan({ ...request(project), resourceId: resource.id });
    const error = (await plan.catch((e: unknown) => e)) as WorkspaceBusy;
    expect(error).toBeInstanceOf(WorkspaceBusy);
    expect(error.holder.kind).toBe('outputs');
    expect(error.message).toContain('started reading its outputs');
    expect(error.message).not.toContain('run #0');
    await outputs;
    expect(await fixture.runner.recentRuns(GUILD, 10)).toEqual([]);
  });
});

describe('one mapping of how a run ended', () => {
  it('maps each stop to its run status, its resource outcome and the error the member reads', () => {
    expect(meaningOf('shutdown')).toMatchObject({ status: 'interrupted', resourceStatus: 'interrupted' });
    expect(meaningOf('cancelled')).toMatchObject({ status: 'cancelled', resourceStatus: 'failed' });
    expect(meaningOf('timed_out')).toMatchObject({ status: 'timed_out', resourceStatus: 'failed' });
    expect(meaningOf('failed')).toMatchObject({ status: 'failed', resourceStatus: 'failed' });
    expect(stopError('timed_out', 3, 'apply', 60_000, true)).toBeInstanceOf(RunTimedOut);
    expect(stopError('cancelled', 3, 'apply', 60_000, true)).toBeInstanceOf(RunCancelled);
    expect(stopError('shutdown', 3, 'apply', 60_000, true).message).toContain('run #3');
    expect(stopError('shutdown', 3, 'apply', 60_000, false)).toBeInstanceOf(RunnerShuttingDown);
    expect(stopError('shutdown', 3, 'apply', 60_000, false).message).not.toContain('run #3');
  });
});
