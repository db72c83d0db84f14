import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toEngineEnv } from '../src/engine/credential-env.js';
import { PlanNotApplicable, RunCancelled, RunFailed, RunTimedOut, WorkspaceBusy } from '../src/engine/errors.js';
import type { RunEvent, RunRequest } from '../src/engine/runner.js';
import type { Project } from '../src/projects/index.js';
import { makeRunnerFixture, signalsReceived, stillRunning, type Invocation, type RunnerFixture } from './support/engine-env.js';
import { toMarkdown } from '../src/discord/markdown.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '333333333333333333';
const USER = '222222222222222222';
const SECRET_PROJECT_ID = 'super-secret-gcp-project-4242';
const BOT_TOKEN = 'discord-bot-token-should-never-leak-0001';
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

function request(project: Project, extra: Partial<RunRequest> = {}): RunRequest {
  return {
    guildId: project.guildId,
    projectSlug: project.slug,
    userId: USER,
    credentialEnv: toEngineEnv('gcp', { project_id: SECRET_PROJECT_ID }),
    enginePreference: 'terraform',
    ...extra,
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

let fixture: RunnerFixture;
const savedEnv = { DISCORD_TOKEN: process.env.DISCORD_TOKEN, CREDENTIALS_MASTER_KEY: process.env.CREDENTIALS_MASTER_KEY };

beforeEach(async () => {
  // The bot's own secrets are in its environment, as in production.
  process.env.DISCORD_TOKEN = BOT_TOKEN;
  process.env.CREDENTIALS_MASTER_KEY = MASTER_KEY;
  fixture = await makeRunnerFixture({ maxConcurrentRuns: 2 });
});

afterEach(async () => {
  await fixture.cleanup();
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('plan, apply and destroy', () => {
  it('plans a new resource into a summary, applies exactly that plan with live progress in order, then destroys it', async () => {
    const project = await fixture.project(GUILD, 'Web Shop');
    const resource = await fixture.resource(project, 'vm');
    const planEvents: RunEvent[] = [];
    const plan = await fixture.runner.plan({ ...request(project), resourceId: resource.id, onEvent: (e) => planEvents.push(e) });

    expect(plan.summary.create).toEqual([`google_compute_instance.vm_${resource.id}`]);
    expect(plan.summary.counts).toEqual({ create: 1, update: 0, replace: 0, delete: 0 });
    expect(plan.resourceAddresses).toEqual([`google_compute_instance.vm_${resource.id}`]);
    expect(plan.engine).toEqual({ name: 'terraform', version: '1.9.8' });
    expect(planEvents.map((e) => e.type)).toEqual(['run_created', 'run_started', 'phase', 'phase', 'version', 'planned_change', 'change_summary', 'phase']);
    expect(await fixture.runner.getRun(GUILD, plan.runId)).toMatchObject({ kind: 'plan', status: 'succeeded', applicable: true, startedBy: USER });
    expect((await fixture.resources.get(GUILD, resource.id)).status).toBe('planned');

    const applyEvents: RunEvent[] = [];
    const applied = await fixture.runner.apply({ ...request(project), planRunId: plan.runId, onEvent: (e) => applyEvents.push(e) });
    const address = `google_compute_instance.vm_${resource.id}`;
    expect(applyEvents.map((e) => e.type)).toEqual([
      'run_created',
      'run_started',
      'phase',
      'version',
      'apply_start',
      'apply_progress',
      'apply_complete',
      'change_summary',
      'outputs',
    ]);
    expect(applyEvents.filter((e) => 'address' in e).every((e) => (e as { address: string }).address === address)).toBe(true);
    expect(applied.changes).toEqual({ add: 1, change: 0, remove: 0 });
    expect(applied.applied).toEqual([address]);
    expect(applied.outputs[`vm_${resource.id}_ip`]).toEqual({ sensitive: false, value: expect.stringMatching(/^198\.51\.100\./) });
    expect(await fixture.resources.get(GUILD, resource.id)).toMatchObject({ status: 'active', addresses: [address] });

    // The apply used the saved plan file, and a plan applies only once.
    const applyCall = fixture.invocations(project).find((i) => i.argv?.[0] === 'apply');
    expect(applyCall?.argv).toEqual(['apply', '-input=false', '-no-color', '-json', `.plans/run-${plan.runId}.tfplan.applying`]);
    expect((await fixture.runner.getRun(GUILD, plan.runId))?.applicable).toBe(false);
    await expect(fixture.runner.apply({ ...request(project), planRunId: plan.runId })).rejects.toThrow(PlanNotApplicable);

    const outputs = await fixture.runner.outputs(request(project));
    expect(outputs.outputs[`vm_${resource.id}_id`]?.value).toMatch(/^fake-/);

    const destroyed = await fixture.runner.destroy({ ...request(project), resourceId: resource.id });
    expect(destroyed.destroyed).toEqual([address]);
    expect(destroyed.resourceIds).toEqual([resource.id]);
    expect((await fixture.resources.get(GUILD, resource.id)).status).toBe('destroyed');
    const destroyCall = fixture.invocations(project).find((i) => i.argv?.[0] === 'destroy');
    expect(destroyCall?.argv).toEqual(['destroy', '-input=false', '-no-color', '-json', '-auto-approve', `-target=${address}`]);
    const state = JSON.parse(readFileSync(join(fixture.workspace(project), 'terraform.tfstate'), 'utf8')) as { version: number; resources: unknown[] };
    expect(state.version).toBe(4);
    expect(state.resources).toEqual([]);
  });

  it('refuses to apply a plan of another guild or another project', async () => {
    const project = await fixture.project(GUILD, 'Mine');
    const other = await fixture.project(OTHER_GUILD, 'Mine');
    const sibling = await fixture.project(GUILD, 'Sibling');
    const plan = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    await expect(fixture.runner.apply({ ...request(other), planRunId: plan.runId })).rejects.toThrow(PlanNotApplicable);
    await expect(fixture.runner.apply({ ...request(sibling), planRunId: plan.runId })).rejects.toThrow(PlanNotApplicable);
    expect(await fixture.runner.getRun(OTHER_GUILD, plan.runId)).toBeUndefined();
    expect(await fixture.runner.discardPlan(GUILD, plan.runId)).toBe(true);
    await expect(fixture.runner.apply({ ...request(project), planRunId: plan.runId })).rejects.toThrow(/already applied or discarded/);
  });

  it('refuses a plan older than a day and removes its file at the next plan', async () => {
    const project = await fixture.project(GUILD, 'Old Plans');
    const first = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    fixture.clock.advanceMinutes(24 * 60 + 1);
    await expect(fixture.runner.apply({ ...request(project), planRunId: first.runId })).rejects.toThrow(/older than 24 hours/);
    const second = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    expect(readdirSync(join(fixture.workspace(project), '.plans'))).toEqual([`run-${second.runId}.tfplan`]);
    expect((await fixture.runner.getRun(GUILD, first.runId))?.applicable).toBe(false);
  });

  it('destroys a whole project and marks every live resource destroyed', async () => {
    const project = await fixture.project(GUILD, 'Everything');
    const vm = await fixture.resource(project, 'vm');
    const plan = await fixture.runner.plan({ ...request(project), resourceId: vm.id });
    await fixture.runner.apply({ ...request(project), planRunId: plan.runId });
    const bucket = await fixture.resource(project, 'bucket');
    const plan2 = await fixture.runner.plan({ ...request(project), resourceId: bucket.id });
    // The existing VM is unchanged; only the bucket is new.
    expect(plan2.summary.create).toEqual([`google_storage_bucket.bucket_${bucket.id}`]);
    expect(plan2.summary.unchanged).toBe(1);
    await fixture.runner.apply({ ...request(project), planRunId: plan2.runId });
    const result = await fixture.runner.destroy(request(project));
    expect(result.resourceIds.sort()).toEqual([vm.id, bucket.id].sort());
    expect(result.changes.remove).toBe(2);
    expect((await fixture.resources.listByProject(GUILD, project.id)).map((r) => r.status)).toEqual(['destroyed', 'destroyed']);
  });

  it('surfaces a failing apply as a readable error from its diagnostic and marks the resource failed', async () => {
    const project = await fixture.project(GUILD, 'Broken');
    const resource = await fixture.resource(project);
    const plan = await fixture.runner.plan({ ...request(project), resourceId: resource.id });
    fixture.control(project, {
      failApply: { summary: 'Error creating instance: quota exceeded', detail: `Quota 'CPUS' exceeded in project ${SECRET_PROJECT_ID}.` },
    });
    const events: RunEvent[] = [];
    const error = await fixture.runner.apply({ ...request(project), planRunId: plan.runId, onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailed);
    const failure = error as RunFailed;
    expect(failure.summary).toBe(`google_compute_instance.vm_${resource.id}: Error creating instance: quota exceeded`);
    // The engine quoted the secret project id; the user never sees it.
    expect(failure.detail).toBe("Quota 'CPUS' exceeded in project [redacted].");
    expect(failure.message).not.toContain(SECRET_PROJECT_ID);
    expect(events.map((e) => e.type)).toContain('apply_errored');
    const row = await fixture.resources.get(GUILD, resource.id);
    expect(row.status).toBe('failed');
    expect(row.lastError).toMatch(/engine reported an error/);
    const run = await fixture.runner.getRun(GUILD, failure.runId);
    expect(run).toMatchObject({ kind: 'apply', status: 'failed' });
    expect(run?.error).toContain('quota exceeded');
    expect(run?.error).not.toContain(SECRET_PROJECT_ID);
    expect((await fixture.audit.recent(GUILD, { action: 'iac.apply' }))[0]).toMatchObject({ outcome: 'failed' });
  });

  it('reports an engine that crashes mid-apply without diagnostics as a failure, not raw output', async () => {
    const project = await fixture.project(GUILD, 'Crashy');
    const resource = await fixture.resource(project);
    const plan = await fixture.runner.plan({ ...request(project), resourceId: resource.id });
    fixture.control(project, { crashMidApply: true });
    const error = (await fixture.runner.apply({ ...request(project), planRunId: plan.runId }).catch((e: unknown) => e)) as RunFailed;
    expect(error).toBeInstanceOf(RunFailed);
    expect(error.summary).toBe('Terraform apply stopped unexpectedly (exit 2)');
    expect(error.message).not.toContain('panic');
    expect((await fixture.resources.get(GUILD, resource.id)).status).toBe('failed');
  });

  it('ignores malformed lines and unknown message types in a real run', async () => {
    const project = await fixture.project(GUILD, 'Noisy');
    fixture.control(project, { emitGarbage: true, warnings: [{ summary: 'Deprecated attribute', detail: 'use something else' }] });
    const events: RunEvent[] = [];
    const plan = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id, onEvent: (e) => events.push(e) });
    expect(plan.summary.counts.create).toBe(1);
    expect(plan.warnings).toEqual([
      { summary: 'State is stored unencrypted on the bot host.', detail: expect.stringContaining('Terraform 1.9.8 cannot encrypt') },
      { summary: 'Deprecated attribute', detail: 'use something else' },
    ]);
    const known = new Set(['run_created', 'run_started', 'phase', 'version', 'planned_change', 'change_summary', 'diagnostic']);
    expect(events.every((e) => known.has(e.type))).toBe(true);
    expect(fixture.logEntries.some((e) => e.malformed === 4 && e.ignored === 1)).toBe(true);
  });

  it('plans AWS and Azure projects with their own credentials variables', async () => {
    const aws = await fixture.project(GUILD, 'On AWS', 'aws');
    const awsVm = await fixture.resource(aws, 'vm');
    const awsEnv = toEngineEnv('aws', { access_key_id: 'AKIAEXAMPLE0001', secret_access_key: 'aws-secret-value-0001' });
    const awsPlan = await fixture.runner.plan({ ...request(aws), credentialEnv: awsEnv, resourceId: awsVm.id });
    expect(awsPlan.summary.create).toEqual([`aws_instance.vm_${awsVm.id}`]);
    expect(fixture.invocations(aws).find((i) => i.argv?.[0] === 'plan')?.env).toMatchObject(awsEnv);

    const azure = await fixture.project(GUILD, 'On Azure', 'azure');
    const storage = await fixture.resource(azure, 'bucket');
    const azureEnv = toEngineEnv('azure', { subscription_id: 'sub-1', tenant_id: 'ten-1', client_id: 'cli-1', client_secret: 'azure-secret-0001' });
    const azurePlan = await fixture.runner.plan({ ...request(azure), credentialEnv: azureEnv, enginePreference: 'tofu', resourceId: storage.id });
    expect(azurePlan.engine.name).toBe('tofu');
    expect(azurePlan.summary.create.sort()).toEqual(
      ['azurerm_resource_group.project', `azurerm_storage_account.bucket_${storage.id}`, `azurerm_storage_container.bucket_${storage.id}`].sort(),
    );
    expect(azurePlan.resourceAddresses).toEqual([`azurerm_storage_account.bucket_${storage.id}`, `azurerm_storage_container.bucket_${storage.id}`]);
  });

  it('refuses to plan a resource of another project or guild', async () => {
    const project = await fixture.project(GUILD, 'Here');
    const elsewhere = await fixture.project(OTHER_GUILD, 'There');
    const foreign = await fixture.resource(elsewhere);
    await expect(fixture.runner.plan({ ...request(project), resourceId: foreign.id })).rejects.toThrow(/no resource/);
  });
});

describe('what the engine process receives', () => {
  it('gets a minimal environment with the run credentials and never the bot secrets', async () => {
    const project = await fixture.project(GUILD, 'Env Check');
    const plan = await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id });
    await fixture.runner.apply({ ...request(project), planRunId: plan.runId });
    const calls = fixture.invocations(project).filter((i) => i.argv);
    expect(calls.map((c) => c.argv?.[0])).toEqual(['init', 'plan', 'show', 'apply']);
    for (const call of calls) {
      const env = call.env ?? {};
      expect(Object.keys(env).sort()).toEqual(
        ['CHECKPOINT_DISABLE', 'HOME', 'PATH', 'TF_INPUT', 'TF_IN_AUTOMATION', 'TF_PLUGIN_CACHE_DIR', 'TF_VAR_project_id'].sort(),
      );
      expect(env).toMatchObject({ TF_IN_AUTOMATION: '1', TF_INPUT: '0', TF_VAR_project_id: SECRET_PROJECT_ID, PATH: fixture.pathEnv });
      // In the sandbox the workspace is /ws, and HOME a folder of its own in it.
      expect(call.cwd).toBe('/ws');
      expect(env.HOME).toBe('/ws/.home');
      expect(JSON.stringify(env)).not.toContain(BOT_TOKEN);
      expect(JSON.stringify(env)).not.toContain(MASTER_KEY);
    }
    expect(calls[0]?.argv).toEqual(['init', '-input=false', '-no-color']);
    expect(calls[1]?.argv).toEqual(['plan', '-input=false', '-no-color', '-json', `-out=.plans/run-${plan.runId}.tfplan`]);
    expect(calls[2]?.argv).toEqual(['show', '-json', '-no-color', `.plans/run-${plan.runId}.tfplan`]);
  });

  it('writes no secret into any file: configuration, plan, state, database', async () => {
    const project = await fixture.project(GUILD, 'No Leaks');
    // The stand-in's own invocation log records env values by design: it is left out of the search.
    const invocationLog = join(fixture.workspace(project), '.fake-engine-invocations.jsonl');
    const vm = await fixture.resource(project, 'vm');
    const plan = await fixture.runner.plan({ ...request(project), resourceId: vm.id });
    await fixture.runner.apply({ ...request(project), planRunId: plan.runId });
    await fixture.runner.outputs(request(project));
    await fixture.runner.destroy({ ...request(project), resourceId: vm.id });

    const files = filesUnder(fixture.layout.rootDir).filter((file) => file !== invocationLog);
    expect(files.map((f) => f.slice(fixture.workspace(project).length + 1))).toEqual(
      expect.arrayContaining(['main.tf.json', 'backend.tf.json', 'terraform.tfstate', '.terraform.lock.hcl']),
    );
    for (const file of [...files, ...filesUnder(fixture.db.dir)]) {
      expect(readFileSync(file).includes(SECRET_PROJECT_ID), file).toBe(false);
      expect(readFileSync(file).includes(BOT_TOKEN), file).toBe(false);
    }
    const main = readFileSync(join(fixture.workspace(project), 'main.tf.json'), 'utf8');
    expect(main).toContain('${var.project_id}');
    expect(statSync(join(fixture.workspace(project), 'main.tf.json')).mode & 0o077).toBe(0);
    // The run did see the secret: through its environment only.
    expect(readFileSync(invocationLog, 'utf8')).toContain(SECRET_PROJECT_ID);
  });
});

describe('one run at a time per workspace, and a global limit', () => {
  it('refuses a second run on a busy workspace at once, naming the run that holds it', async () => {
    const project = await fixture.project(GUILD, 'Busy');
    fixture.control(project, { sleepMs: 150 });
    const resource = await fixture.resource(project);
    // The plan asks for its project and resource before it takes the workspace: the second run comes once it holds it.
    let holding: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const first = fixture.runner.plan({
      ...request(project),
      resourceId: resource.id,
      onEvent: (e) => {
        if (e.type === 'run_created') holding();
      },
    });
    await Promise.race([held, first]);
    const second = fixture.runner.destroy({ ...request(project), userId: '444444444444444444' });
    const error = (await second.catch((e: unknown) => e)) as WorkspaceBusy;
    expect(error).toBeInstanceOf(WorkspaceBusy);
    expect(error.holder).toMatchObject({ kind: 'plan', startedBy: USER, since: fixture.clock.now() });
    expect(error.message).toContain(`run #${error.holder.runId} (plan)`);
    expect(toMarkdown(error.text)).toContain(`<@${USER}>`);
    expect(error.message).toContain(new Date(fixture.clock.now()).toISOString());
    const plan = await first;
    expect(plan.runId).toBe(error.holder.runId);
    // The refused run left no record: its row is written in the lease's transaction, and rolled back with it.
    expect((await fixture.runner.recentRuns(GUILD, 50)).filter((run) => run.projectId === project.id).map((run) => run.number)).toEqual([plan.runId]);
    // Free again once the first has ended.
    await expect(fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id })).resolves.toMatchObject({ summary: { counts: { create: 1 } } });
  });

  it('numbers runs per guild, so a guild sees only its own count and another guild cannot address them', async () => {
    const mine = await fixture.project(GUILD, 'Mine');
    const theirs = await fixture.project(OTHER_GUILD, 'Theirs');
    const first = await fixture.runner.plan({ ...request(mine), resourceId: (await fixture.resource(mine)).id });
    const second = await fixture.runner.plan({ ...request(mine), resourceId: (await fixture.resource(mine)).id });
    const other = await fixture.runner.plan({ ...request(theirs), resourceId: (await fixture.resource(theirs)).id });
    expect([first.runId, second.runId, other.runId]).toEqual([1, 2, 1]);
    expect((await fixture.runner.recentRuns(GUILD)).map((r) => r.number)).toEqual([2, 1]);
    expect((await fixture.runner.recentRuns(OTHER_GUILD)).map((r) => r.number)).toEqual([1]);
    // Run #1 of each guild is its own: the other guild's #1 is not this one.
    expect((await fixture.runner.getRun(OTHER_GUILD, 1))?.projectId).toBe(theirs.id);
    expect(await fixture.runner.getRun(OTHER_GUILD, 2)).toBeUndefined();
    // The audit trail names the guild's number too.
    expect((await fixture.audit.recent(OTHER_GUILD)).map((e) => e.target)).toContain(`${theirs.slug}#1`);
  });

  it('queues runs past the limit and serves guilds round-robin, reporting positions', async () => {
    fixture = (await fixture.cleanup(), await makeRunnerFixture({ maxConcurrentRuns: 1 }));
    const started: string[] = [];
    const positions: Record<string, number[]> = {};
    // The projects and resources first, so the runs below are asked for one after another in the same instant.
    const prepare = async (guild: string, name: string, slow = false) => {
      const project = await fixture.project(guild, name);
      if (slow) fixture.control(project, { sleepMs: 200 });
      return { name, project, resource: await fixture.resource(project) };
    };
    const prepared = [await prepare(GUILD, 'a1', true), await prepare(GUILD, 'a2'), await prepare(GUILD, 'a3'), await prepare(OTHER_GUILD, 'b1')];
    const run = ({ name, project, resource }: (typeof prepared)[number]) => {
      return fixture.runner.plan({
        ...request(project),
        resourceId: resource.id,
        onEvent: (e) => {
          if (e.type === 'run_started') started.push(name);
        },
        onQueued: (p) => (positions[name] ??= []).push(p),
      });
    };
    const [a1, a2, a3, b1] = prepared.map(run);
    // Each takes its workspace's lease (a unit of work) before it joins the queue.
    await vi.waitFor(() => expect(fixture.runner.load).toEqual({ running: 1, queued: 3 }), { interval: 5 });
    // Positions count the guild's own waiting runs: b1 is first of its guild, and a3 hears nothing of b1.
    expect(positions).toEqual({ a2: [1], a3: [2], b1: [1] });
    await Promise.all([a1, a2, a3, b1]);
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3']);
    expect(positions.a3).toEqual([2, 1]);
  });
});

describe('cancellation, timeouts and shutdown', () => {
  /** The stand-in's record of `command` once it has started (its pid is its own namespace's in the sandbox). */
  function started(project: Project, command: string): Invocation | undefined {
    return fixture.invocations(project).find((i) => i.argv?.[0] === command);
  }

  it('cancels a stubborn apply with SIGINT, then SIGTERM, then SIGKILL, and the child is gone', async () => {
    const project = await fixture.project(GUILD, 'Stubborn');
    const resource = await fixture.resource(project);
    const plan = await fixture.runner.plan({ ...request(project), resourceId: resource.id });
    fixture.control(project, { sleepMs: 30_000, ignoreSigint: true, ignoreSigterm: true });
    const controller = new AbortController();
    const applying = fixture.runner.apply({ ...request(project), planRunId: plan.runId, signal: controller.signal });
    const apply = await waitFor(() => started(project, 'apply'), 'apply to start');
    await waitFor(async () => ((await fixture.resources.get(GUILD, resource.id)).status === 'applying' ? true : undefined), 'applying');
    controller.abort();
    const error = await applying.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunCancelled);
    // The run ends when the engine's guardian has exited; the SIGKILL sent to the whole group reaches the engine in
    // the same instant, but the kernel may take a moment longer to finish it off on a loaded machine (bounded: 10 s).
    await waitFor(() => (stillRunning(apply) ? undefined : true), 'the engine to be gone after SIGKILL');
    expect(signalsReceived(fixture.invocations(project), apply)).toEqual(['SIGINT', 'SIGTERM']);
    expect((await fixture.runner.getRun(GUILD, (error as RunCancelled).runId))?.status).toBe('cancelled');
    expect(await fixture.resources.get(GUILD, resource.id)).toMatchObject({ status: 'failed', lastError: 'The run was cancelled.' });
  });

  it('stops a run that exceeds the timeout with SIGINT, which the engine honours, and records it timed out', async () => {
    fixture = (await fixture.cleanup(), await makeRunnerFixture({ runTimeoutMs: 1_500 }));
    const project = await fixture.project(GUILD, 'Slow');
    fixture.control(project, { sleepMs: 30_000 });
    const error = (await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id }).catch((e: unknown) => e)) as RunTimedOut;
    expect(error).toBeInstanceOf(RunTimedOut);
    const calls = fixture.invocations(project).filter((i) => i.argv);
    for (const call of calls) expect(stillRunning(call)).toBe(false);
    expect(fixture.invocations(project).filter((i) => i.signal).map((i) => i.signal)).toEqual(['SIGINT']);
    expect((await fixture.runner.getRun(GUILD, error.runId))?.status).toBe('timed_out');
    // The engine released its state lock on the graceful stop.
    expect(readdirSync(fixture.workspace(project))).not.toContain('.terraform.tfstate.lock.info');
  });

  it('cancels a run still waiting in the queue without starting an engine', async () => {
    fixture = (await fixture.cleanup(), await makeRunnerFixture({ maxConcurrentRuns: 1 }));
    const busy = await fixture.project(GUILD, 'Holder');
    fixture.control(busy, { sleepMs: 200 });
    const waiting = await fixture.project(OTHER_GUILD, 'Waiter');
    const [busyResource, waitingResource] = [await fixture.resource(busy), await fixture.resource(waiting)];
    const holder = fixture.runner.plan({ ...request(busy), resourceId: busyResource.id });
    const controller = new AbortController();
    const queued = fixture.runner.plan({ ...request(waiting), resourceId: waitingResource.id, signal: controller.signal });
    controller.abort();
    const error = (await queued.catch((e: unknown) => e)) as RunCancelled;
    expect(error).toBeInstanceOf(RunCancelled);
    expect((await fixture.runner.getRun(OTHER_GUILD, error.runId))?.status).toBe('cancelled');
    expect(fixture.invocations(waiting)).toEqual([]);
    await holder;
  });

  it('on shutdown stops every running engine and resolves once they have ended', async () => {
    const project = await fixture.project(GUILD, 'Shutdown');
    const resource = await fixture.resource(project);
    const plan = await fixture.runner.plan({ ...request(project), resourceId: resource.id });
    fixture.control(project, { sleepMs: 30_000, ignoreSigint: true });
    const applying = fixture.runner.apply({ ...request(project), planRunId: plan.runId }).catch((e: unknown) => e);
    const apply = await waitFor(() => started(project, 'apply'), 'apply to start');
    await fixture.runner.shutdown();
    expect(stillRunning(apply)).toBe(false);
    expect(await applying).toBeInstanceOf(Error);
    expect((await fixture.resources.get(GUILD, resource.id)).status).toBe('interrupted');
    await expect(fixture.runner.plan({ ...request(project), resourceId: resource.id })).rejects.toThrow(/shutting down/);
  });
});

describe('a run whose engine finished is recorded as finished, whatever stop came late', () => {
  it('records an apply whose engine exited 0 as succeeded and its resource active, though a cancel came as it exited', async () => {
    // A long grace: on a loaded machine the engine may take a while to exit after its last line.
    fixture = (await fixture.cleanup(), await makeRunnerFixture({ killGraceMs: 15_000 }));
    const project = await fixture.project(GUILD, 'Late Cancel');
    const resource = await fixture.resource(project);
    const plan = await fixture.runner.plan({ ...request(project), resourceId: resource.id });
    // The SIGINT may reach the engine before it exits (a loaded machine): it finishes anyway, as a real one would.
    fixture.control(project, { ignoreSigint: true });
    let runId = 0;
    const applied = await fixture.runner.apply({
      ...request(project),
      planRunId: plan.runId,
      onEvent: (e) => {
        if (e.type === 'run_created') runId = e.runId;
        // The engine's last line: everything is applied, and the member presses Cancel.
        if (e.type === 'outputs') expect(fixture.runner.cancel(GUILD, runId)).toBe(true);
      },
    });
    expect(applied.applied).toEqual([`google_compute_instance.vm_${resource.id}`]);
    expect(await fixture.runner.getRun(GUILD, runId)).toMatchObject({ kind: 'apply', status: 'succeeded', error: null });
    expect(await fixture.resources.get(GUILD, resource.id)).toMatchObject({ status: 'active', lastError: null });
    expect((await fixture.audit.recent(GUILD, { action: 'iac.apply' }))[0]).toMatchObject({ outcome: 'success' });
  });

  it('records an apply as succeeded when the engine finishes its work after the SIGINT of a cancel', async () => {
    fixture = (await fixture.cleanup(), await makeRunnerFixture({ killGraceMs: 15_000 }));
    const project = await fixture.project(GUILD, 'Finishes Anyway');
    const resource = await fixture.resource(project);
    const plan = await fixture.runner.plan({ ...request(project), resourceId: resource.id });
    // As the real engine does with resources already in flight: it finishes them, then exits 0.
    fixture.control(project, { sleepMs: 150, ignoreSigint: true });
    let runId = 0;
    const applied = await fixture.runner.apply({
      ...request(project),
      planRunId: plan.runId,
      onEvent: (e) => {
        if (e.type === 'run_created') runId = e.runId;
        if (e.type === 'apply_start') fixture.runner.cancel(GUILD, runId);
      },
    });
    expect(fixture.invocations(project).filter((i) => i.signal).map((i) => i.signal)).toEqual(['SIGINT']);
    expect(applied.changes).toEqual({ add: 1, change: 0, remove: 0 });
    expect((await fixture.runner.getRun(GUILD, runId))?.status).toBe('succeeded');
    expect((await fixture.resources.get(GUILD, resource.id)).status).toBe('active');
  });

  it('records a destroy whose engine exited 0 as succeeded and its resource destroyed, though a shutdown came as it exited', async () => {
    // A long grace: on a loaded machine the engine may take a while to exit after its last line.
    fixture = (await fixture.cleanup(), await makeRunnerFixture({ killGraceMs: 15_000 }));
    const project = await fixture.project(GUILD, 'Late Shutdown');
    const resource = await fixture.resource(project);
    await fixture.runner.apply({ ...request(project), planRunId: (await fixture.runner.plan({ ...request(project), resourceId: resource.id })).runId });
    fixture.control(project, { ignoreSigint: true });
    let shutdown: Promise<void> | undefined;
    const destroyed = await fixture.runner.destroy({
      ...request(project),
      resourceId: resource.id,
      onEvent: (e) => {
        if (e.type === 'change_summary' && e.operation === 'destroy') shutdown = fixture.runner.shutdown();
      },
    });
    await shutdown;
    expect(shutdown).toBeDefined();
    expect(destroyed.destroyed).toEqual([`google_compute_instance.vm_${resource.id}`]);
    expect((await fixture.runner.getRun(GUILD, destroyed.runId))?.status).toBe('succeeded');
    expect((await fixture.resources.get(GUILD, resource.id)).status).toBe('destroyed');
    expect((await fixture.audit.recent(GUILD, { action: 'iac.destroy' }))[0]).toMatchObject({ outcome: 'success' });
  });
});
