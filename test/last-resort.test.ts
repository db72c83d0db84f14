/**
 * The last resort (src/app/last-resort.ts) on the real core and the stand-in engine. `exit` is a recorder and the
 * process events come from a plain EventEmitter, so the test process is never the one that exits.
 */
import { EventEmitter } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LastResort, RUN_FAILED_INTERNAL_ERROR, type LastResortApp } from '../src/app/last-resort.js';
import { toMarkdown } from '../src/discord/markdown.js';
import { toText } from '../src/shared/text.js';
import { toEngineEnv } from '../src/engine/credential-env.js';
import type { RunEvent, RunRequest } from '../src/engine/runner.js';
import type { Notifier, PostedMessage } from '../src/notify/notifier.js';
import type { Project } from '../src/projects/index.js';
import { startAppHarness } from './support/app-harness.js';
import { FAKE_ENGINE_BIN, memoryLogger, signalsReceived, stillRunning, type Invocation } from './support/engine-env.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '333333333333333333';
const ALICE = '222222222222222222';
const BOB = '444444444444444444';
const ADMIN = '555555555555555555';
const NOTICES_B = '666666666666666666';

type Harness = Awaited<ReturnType<typeof startAppHarness>>;
let harness: Harness;

beforeEach(async () => {
  harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
});

afterEach(async () => {
  await harness.stop();
});

function request(project: Project, userId: string, extra: Partial<RunRequest> = {}): RunRequest {
  return {
    guildId: project.guildId,
    projectSlug: project.slug,
    userId,
    credentialEnv: toEngineEnv('gcp', { project_id: 'last-resort-project' }),
    enginePreference: 'terraform',
    ...extra,
  };
}

/** A project with a planned VM whose apply is now under way (the stand-in waits until it gets SIGINT). */
async function applyUnderWay(guildId: string, name: string, userId: string) {
  const { app } = harness.core;
  const project = await app.projects.create({ guildId, name, provider: 'gcp', region: 'us-central1', createdBy: userId });
  const resource = await app.resources.create({
    projectId: project.id,
    guildId,
    name: 'vm-1',
    resourceType: 'vm',
    instanceType: 'e2-micro',
    diskSizeGb: 10,
    estimatedMonthlyCost: 7,
    createdBy: userId,
  });
  const plan = await app.runner.plan({ ...request(project, userId), resourceId: resource.id });
  writeFileSync(join(app.layout.workspaceDir(guildId, project.slug), 'fake-engine.json'), JSON.stringify({ sleepMs: 60_000 }));
  let runId = 0;
  let started: () => void = () => undefined;
  const applying = new Promise<void>((resolve) => (started = resolve));
  const outcome = app.runner
    .apply({
      ...request(project, userId),
      planRunId: plan.runId,
      onEvent: (e: RunEvent) => {
        if (e.type === 'run_created') runId = e.runId;
        if (e.type === 'apply_start') started();
      },
    })
    .catch((error: unknown) => error);
  await applying;
  return { project, resource, runId: () => runId, outcome, planRunId: plan.runId };
}

/** The signals the stand-in's apply process received, and whether it is still alive. */
function applyProcess(project: Project): { signals: string[]; alive: boolean } {
  const log = join(harness.core.app.layout.workspaceDir(project.guildId, project.slug), '.fake-engine-invocations.jsonl');
  const entries = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Invocation);
  const apply = entries.find((e) => e.argv?.[0] === 'apply');
  if (!apply) return { signals: [], alive: false };
  return { signals: signalsReceived(entries, apply), alive: stillRunning(apply) };
}

function recordingExit(): { exit: (code: number) => void; exited: Promise<number> } {
  let exit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  return { exit, exited };
}

describe('the last resort after an error nothing caught', () => {
  it('stops running engines, tells each member (by DM, or in the notification channel), marks the runs failed and exits non-zero', async () => {
    const { app } = harness.core;
    await app.policies.update(GUILD_B, { notificationChannelId: NOTICES_B }, ADMIN);
    harness.notifier.closeDms(BOB);
    const alice = await applyUnderWay(GUILD_A, 'Alpha', ALICE);
    const bob = await applyUnderWay(GUILD_B, 'Bravo', BOB);
    const { logger, entries } = memoryLogger();
    const { exit, exited } = recordingExit();
    const events = new EventEmitter();
    const lastResort = new LastResort({ logger, exit }).install(events);
    lastResort.attach(app);

    events.emit('uncaughtException', new RangeError('Invalid string length'));
    expect(await exited).toBe(1);

    for (const run of [alice, bob]) {
      expect(await app.runner.getRun(run.project.guildId, run.runId())).toMatchObject({ status: 'failed', error: RUN_FAILED_INTERNAL_ERROR });
      // The engine got its SIGINT and is gone; the plan run before it keeps its own outcome.
      expect(applyProcess(run.project)).toEqual({ signals: ['SIGINT'], alive: false });
      expect((await app.runner.getRun(run.project.guildId, run.planRunId))?.status).toBe('succeeded');
      expect(await run.outcome).toBeInstanceOf(Error);
      expect((await app.resources.get(run.project.guildId, run.resource.id)).status).toBe('interrupted');
    }
    const [dm] = harness.notifier.dmsTo(ALICE);
    expect(dm).toMatchObject({ tone: 'danger' });
    expect(dm && toMarkdown(toText(dm.title))).toBe(`❌ Your apply of Alpha (run #${alice.runId()}) failed`);
    expect(dm?.description && toMarkdown(toText(dm.description))).toMatch(/internal error/);
    expect(harness.notifier.dmsTo(BOB)).toEqual([]);
    const [post] = harness.notifier.postsIn(NOTICES_B);
    expect(post?.description && toMarkdown(toText(post.description))).toMatch(new RegExp(`^<@${BOB}>: .*internal error`));
    expect(entries.some((e) => e.level === 60 && (e.err as { message?: string } | undefined)?.message === 'Invalid string length')).toBe(true);
  }, 30_000);

  it('treats an unhandled rejection the same way, and handles a second error without exiting twice', async () => {
    const { app } = harness.core;
    const alice = await applyUnderWay(GUILD_A, 'Alpha', ALICE);
    const { logger, entries } = memoryLogger();
    const codes: number[] = [];
    const { exit, exited } = recordingExit();
    const events = new EventEmitter();
    new LastResort({ logger, exit: (code) => (codes.push(code), exit(code)) }).install(events).attach(app);

    events.emit('unhandledRejection', new Error('nobody awaited this'));
    events.emit('uncaughtException', new Error('and then this'));
    await exited;
    expect(codes).toEqual([1]);
    expect((await app.runner.getRun(GUILD_A, alice.runId()))?.status).toBe('failed');
    expect(harness.notifier.dmsTo(ALICE)).toHaveLength(1);
    expect(entries.some((e) => e.msg === 'another internal error while stopping after the first')).toBe(true);
  }, 30_000);

  it('exits within its time limit when telling members hangs', async () => {
    const { app } = harness.core;
    const alice = await applyUnderWay(GUILD_A, 'Alpha', ALICE);
    const hanging: Notifier = {
      sendDirect: () => new Promise<void>(() => undefined),
      sendToChannel: () => new Promise<PostedMessage>(() => undefined),
      editChannelMessage: () => new Promise<void>(() => undefined),
      channelInGuild: async () => true,
      guildName: async () => undefined,
    };
    const appWithHangingNotifier: LastResortApp = { ...app, notifier: hanging };
    const { exit, exited } = recordingExit();
    const lastResort = new LastResort({ logger: memoryLogger().logger, exit, notifyMs: 300 });
    lastResort.attach(appWithHangingNotifier);
    void lastResort.handle(new Error('boom'), 'uncaughtException');
    expect(await exited).toBe(1);
    expect((await app.runner.getRun(GUILD_A, alice.runId()))?.status).toBe('failed');
  }, 30_000);

  it('before the app is built, logs the error and exits non-zero', async () => {
    const { logger, entries } = memoryLogger();
    const { exit, exited } = recordingExit();
    void new LastResort({ logger, exit }).handle(new Error('too early'), 'uncaughtException');
    expect(await exited).toBe(1);
    expect(entries.some((e) => e.level === 60)).toBe(true);
  });
});
