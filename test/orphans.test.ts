/**
 * Start-up after a crash: engines the dead bot left running are found by pid and start time, stopped the graceful
 * way (or harder), and their runs and resources marked interrupted; their members are told. Real engine processes
 * (the stand-in), real SQLite.
 */
import { execa, type ResultPromise } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteDataAccess, type DataAccess } from '../src/db/data-access.js';
import { iacRuns } from '../src/db/schema.js';
import { toEngineEnv } from '../src/engine/credential-env.js';
import { toMarkdown } from '../src/discord/markdown.js';
import { toText } from '../src/shared/text.js';
import { interruptedRunNotice, tellInterruptedMembers } from '../src/engine/crash-notices.js';
import { recoverUnfinishedRuns, type InterruptedRun } from '../src/engine/orphans.js';
import { currentBootId, identify } from '../src/engine/process-identity.js';
import { runStoreFor, type RunStore } from '../src/engine/run-store.js';
import { shardOfGuild } from '../src/sharding/shard-scope.js';
import type { Project } from '../src/projects/index.js';
import { FAKE_ENGINE_BIN, makeRunnerFixture, memoryLogger, processExists, type RunnerFixture } from './support/engine-env.js';
import { RecordingNotifier } from './support/recording-notifier.js';

const GUILD = '111111111111111111';
const USER = '222222222222222222';
const CHANNEL = '444444444444444444';

let fixture: RunnerFixture;
let data: DataAccess;
let store: RunStore;
const children: ResultPromise[] = [];

beforeEach(async () => {
  fixture = await makeRunnerFixture({ killGraceMs: 300 });
  data = sqliteDataAccess(fixture.db);
  store = runStoreFor(data, fixture.clock);
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null) child.kill('SIGKILL');
    await child.catch(() => undefined);
  }
  await fixture.cleanup();
});

/**
 * What a bot killed mid-apply leaves behind: a run row `running` with its engine recorded, the resource `applying`,
 * and the engine itself still applying the plan (spawned here, in its own process group as the runner does).
 */
async function crashedApply(knobs: Record<string, unknown>, stopsWithBot = false): Promise<{ project: Project; resourceId: number; pid: number; child: ResultPromise }> {
  const project = await fixture.project(GUILD, `Crashed ${children.length}`);
  const resource = await fixture.resource(project);
  const credentialEnv = toEngineEnv('gcp', { project_id: 'orphan-project-1' });
  const plan = await fixture.runner.plan({ guildId: GUILD, projectSlug: project.slug, userId: USER, credentialEnv, enginePreference: 'terraform', resourceId: resource.id });
  fixture.control(project, { sleepMs: 60_000, ...knobs });
  const run = await store.create({ guildId: GUILD, projectId: project.id, resourceId: resource.id, kind: 'apply', startedBy: USER, channelId: CHANNEL });
  await store.markRunning(GUILD, run.guild_run_number, 'terraform', '1.9.8');
  await fixture.resources.setStatus(GUILD, resource.id, 'applying');
  const child = execa(join(FAKE_ENGINE_BIN, 'terraform'), ['apply', '-input=false', '-no-color', '-json', `.plans/run-${plan.runId}.tfplan`], {
    cwd: fixture.workspace(project),
    env: { PATH: fixture.pathEnv, ...credentialEnv },
    extendEnv: false,
    detached: true,
    reject: false,
    buffer: false,
  });
  children.push(child);
  const pid = child.pid as number;
  const identity = identify(pid);
  await store.recordEngineProcess(GUILD, run.guild_run_number, { pid, startTicks: identity?.startTicks ?? null, bootId: identity?.bootId ?? null, stopsWithBot });
  // Wait until it is really applying (it holds the state lock by then).
  await new Promise<void>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('"apply_start"')) resolve();
    });
  });
  return { project, resourceId: resource.id, pid, child };
}

function signalsOf(project: Project, pid: number): string[] {
  return fixture.invocations(project).filter((i) => i.pid === pid && i.signal).map((i) => i.signal as string);
}

const { logger } = memoryLogger();
/** A short grace where the engine is expected to ignore the signal; a long one (never waited out) where it should obey. */
const recover = (graceMs = 300) => recoverUnfinishedRuns({ data, resources: fixture.resources, clock: fixture.clock, logger, graceMs });

describe('start-up after a crash', () => {
  it('stops an engine a killed bot left applying with SIGINT, so it saves its state and releases its lock, and marks the run and resource interrupted', async () => {
    const { project, resourceId, pid, child } = await crashedApply({});
    const { runs, resources } = await recover(20_000);

    expect(processExists(pid)).toBe(false);
    expect(signalsOf(project, pid)).toEqual(['SIGINT']);
    expect((await child).exitCode).toBe(1);
    // The stand-in writes its state when interrupted, as the real engine does, and drops its lock.
    expect(existsSync(join(fixture.workspace(project), 'terraform.tfstate'))).toBe(true);
    expect(readdirSync(fixture.workspace(project))).not.toContain('.terraform.tfstate.lock.info');
    expect(runs).toEqual([expect.objectContaining({ guildId: GUILD, runNumber: 2, kind: 'apply', resourceId, startedBy: USER, channelId: CHANNEL, engine: 'stopped' })]);
    expect(resources).toBe(1);
    expect(await store.get(GUILD, 2)).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/stopped cleanly/) });
    expect((await fixture.resources.get(GUILD, resourceId)).status).toBe('interrupted');
  });

  it('escalates to SIGTERM when the engine ignores SIGINT, and reports it was forced', async () => {
    const { project, pid } = await crashedApply({ ignoreSigint: true });
    const { runs } = await recover();
    expect(processExists(pid)).toBe(false);
    expect(signalsOf(project, pid)).toEqual(['SIGINT', 'SIGTERM']);
    expect(runs[0]?.engine).toBe('forced');
  });

  it('does not send a second SIGINT to an engine that got one from the kernel when the bot died (it would abort at once)', async () => {
    // Still busy finishing its graceful stop: it ignores further SIGINTs here, and ends on SIGTERM.
    const { project, pid } = await crashedApply({ ignoreSigint: true }, true);
    const { runs } = await recover();
    expect(processExists(pid)).toBe(false);
    expect(signalsOf(project, pid)).toEqual(['SIGTERM']);
    expect(runs[0]?.engine).toBe('forced');
  });

  it('leaves alone a process that now has the recorded pid but started at another time (a reused pid)', async () => {
    const project = await fixture.project(GUILD, 'Reused');
    const stranger = execa(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { reject: false, detached: true });
    children.push(stranger);
    const pid = stranger.pid as number;
    const run = await store.create({ guildId: GUILD, projectId: project.id, resourceId: null, kind: 'destroy', startedBy: USER });
    await store.markRunning(GUILD, run.guild_run_number, 'terraform', '1.9.8');
    const real = identify(pid);
    await store.recordEngineProcess(GUILD, run.guild_run_number, { pid, startTicks: (real?.startTicks ?? 0) - 1, bootId: currentBootId(), stopsWithBot: false });

    const { runs } = await recover();
    expect(runs[0]?.engine).toBe('gone');
    expect(processExists(pid)).toBe(true);
    expect(stranger.exitCode).toBeNull();
  });

  it('marks queued runs (never started) and resources left applying or destroying interrupted, once', async () => {
    const project = await fixture.project(GUILD, 'Queued');
    const applying = await fixture.resource(project);
    await fixture.resources.setStatus(GUILD, applying.id, 'applying');
    const untouched = await fixture.resource(project);
    await store.create({ guildId: GUILD, projectId: project.id, resourceId: untouched.id, kind: 'plan', startedBy: USER });
    const done = await store.create({ guildId: GUILD, projectId: project.id, resourceId: null, kind: 'plan', startedBy: USER });
    await store.finish(GUILD, done.guild_run_number, 'succeeded');

    const first = await recover();
    expect(first.runs.map((r) => [r.runNumber, r.engine])).toEqual([[1, 'not_started']]);
    expect(first.resources).toBe(1);
    expect(fixture.db.db.select().from(iacRuns).all().map((r) => r.status)).toEqual(['interrupted', 'succeeded']);
    expect((await fixture.resources.get(GUILD, applying.id)).status).toBe('interrupted');
    expect((await fixture.resources.get(GUILD, untouched.id)).status).toBe('planned');
    expect(await recover()).toEqual({ runs: [], resources: 0 });
  });
});

describe('telling members about interrupted runs', () => {
  const run: InterruptedRun = { guildId: GUILD, runNumber: 7, kind: 'apply', projectId: 0, resourceId: 12, startedBy: USER, channelId: CHANNEL, engine: 'stopped' };

  it('posts in the channel the run was started from, naming the run by its guild number and what to do', async () => {
    const project = await fixture.project(GUILD, 'Web Shop');
    const notifier = new RecordingNotifier();
    await tellInterruptedMembers([{ ...run, projectId: project.id }], { notifier, projects: fixture.projects, logger });
    const [notice] = notifier.postsIn(CHANNEL);
    expect(notice?.title).toBe('⚠️ Run #7 (apply) was interrupted');
    const shown = toMarkdown(toText(notice?.description ?? ''));
    expect(shown).toContain(`<@${USER}>`);
    expect(shown).toContain('**Web Shop**');
    expect(shown).toMatch(/stopped cleanly and saved its state/);
    expect(shown).toContain('`/cloud-destroy` (project: Web Shop, resource: 12) removes what was made');
  });

  it('falls back to a DM when the channel cannot be reached, or when the run has no channel', async () => {
    const notifier = new RecordingNotifier().breakChannels();
    await tellInterruptedMembers([run, { ...run, runNumber: 8, channelId: null }], { notifier, projects: fixture.projects, logger });
    expect(notifier.dmsTo(USER).map((n) => n.title)).toEqual(['⚠️ Run #7 (apply) was interrupted', '⚠️ Run #8 (apply) was interrupted']);
  });

  it('says a forced stop may have left the state locked, and that a queued run changed nothing', () => {
    expect(toMarkdown(toText(interruptedRunNotice({ ...run, engine: 'forced' }, 'p').description ?? ''))).toMatch(/may still be locked/);
    expect(toMarkdown(toText(interruptedRunNotice({ ...run, engine: 'not_started' }, 'p').description ?? ''))).toMatch(/nothing was changed/);
  });
});

describe('recovery in one shard of several', () => {
  /** Guilds served by shard 0 and shard 1 of two. */
  const MINE = '320000000000000002';
  const THEIRS = '310000000000000001';

  it('settles only the runs and resources of the guilds its shard serves; the other shard’s stay as they are', async () => {
    expect([shardOfGuild(MINE, 2), shardOfGuild(THEIRS, 2)]).toEqual([0, 1]);
    const left = [];
    for (const guildId of [MINE, THEIRS]) {
      const project = await fixture.project(guildId, `Left ${guildId}`);
      const resource = await fixture.resource(project);
      const run = await store.create({ guildId, projectId: project.id, resourceId: resource.id, kind: 'apply', startedBy: USER, channelId: CHANNEL });
      await fixture.resources.setStatus(guildId, resource.id, 'applying');
      left.push({ guildId, run, resource });
    }
    const recovered = await recoverUnfinishedRuns({ data, resources: fixture.resources, clock: fixture.clock, logger, graceMs: 300, shard: { id: 0, count: 2 } });
    expect(recovered.runs.map((run) => run.guildId)).toEqual([MINE]);
    expect(recovered.resources).toBe(1);
    const statusOf = (guildId: string) => fixture.db.db.select().from(iacRuns).all().find((row) => row.guild_id === guildId)?.status;
    expect(statusOf(MINE)).toBe('interrupted');
    // Shard 1's run may be running right now in its own process: shard 0 must not touch it.
    expect(statusOf(THEIRS)).toBe('queued');
    expect((await fixture.resources.get(THEIRS, left[1]!.resource.id))?.status).toBe('applying');
  });
});
