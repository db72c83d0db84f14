import { SlashCommandBuilder } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand } from '../src/interaction/command.js';
import { startAppHarness } from './support/app-harness.js';
import { FakeClock } from './support/clock.js';
import type { Actor } from '../src/interaction/conversation.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const member: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };

const explode = defineCommand({
  data: new SlashCommandBuilder().setName('explode').setDescription('throws something unexpected'),
  options: z.object({ deferFirst: z.boolean().default(false) }),
  async execute({ conversation, options }) {
    if (options.deferFirst) await conversation.defer();
    throw new Error('internal detail: /srv/secret/path at line 42');
  },
});

/** Takes 1.5 s of the harness's fake clock, so the logged duration has something to measure. */
const TAKES_MS = 1500;
const takesTime = defineCommand({
  data: new SlashCommandBuilder().setName('takes-time').setDescription('lets time pass, then answers'),
  options: z.object({}),
  async execute({ conversation, app }) {
    if (app.clock instanceof FakeClock) app.clock.advance(TAKES_MS);
    await conversation.reply({ content: 'done' });
  },
});

describe('the command dispatcher', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(env: Record<string, string> = {}) {
    const harness = await startAppHarness(env, [explode, takesTime]);
    cleanups.push(() => harness.stop());
    return harness;
  }

  it('refuses an admin-only command to a member even though Discord would hide it, and audits the denial', async () => {
    const { say, core } = await setup();
    const reply = await say(member, 'cloud-jit-revoke', { user: { id: admin.id, displayName: admin.displayName, isBot: false } });
    expect(reply.text()).toMatch(/Manage Server/);
    expect((await core.app.audit.recent(GUILD_A)).map((e) => [e.action, e.outcome])).toContainEqual(['command.cloud-jit-revoke', 'denied']);
  });

  it('rejects bad options before the handler runs, naming each one', async () => {
    const { say, core } = await setup();
    const reply = await say(admin, 'cloud-guild-policy', { action: 'update', max_budget: -5, engine: 'pulumi' });
    expect(reply.text()).toMatch(/engine/);
    expect((await core.app.policies.get(GUILD_A)).maxBudgetMonthly).toBe(1000);
  });

  it('rate-limits a member and says when to retry, then lets them in once the window has passed', async () => {
    const { say, clock } = await setup({ RATE_LIMIT_MEMBER_PER_MINUTE: '2' });
    await say(member, 'cloud-projects');
    await say(member, 'cloud-projects');
    const third = await say(member, 'cloud-projects');
    expect(third.text()).toMatch(/too quickly\. Try again in \d+ s/);
    // Another member is not held back by bob's limit.
    expect((await say(admin, 'cloud-projects')).text()).not.toMatch(/too quickly/);
    clock.advance(61_000);
    expect((await say(member, 'cloud-projects')).text()).not.toMatch(/too quickly/);
  });

  it('rate-limits a whole guild without touching another guild', async () => {
    const { say } = await setup({ RATE_LIMIT_GUILD_PER_MINUTE: '2', RATE_LIMIT_MEMBER_PER_MINUTE: '100' });
    await say(admin, 'cloud-projects');
    await say(member, 'cloud-projects');
    expect((await say(admin, 'cloud-projects')).text()).toMatch(/This server is sending commands too quickly/);
    expect((await say(admin, 'cloud-projects', {}, GUILD_B)).text()).not.toMatch(/too quickly/);
  });

  it('turns an unexpected error into a short message with an error id that is also in the log, never the details', async () => {
    const { say, logs } = await setup();
    const reply = await say(admin, 'explode');
    const id = /error id `([0-9a-f]{8})`/.exec(reply.text())?.[1];
    expect(id).toBeDefined();
    expect(reply.text()).not.toMatch(/internal detail|secret|line 42/);
    expect(logs()).toContain(id);
    expect(logs()).toMatch(/"outcome":"error"/);
  });

  it('answers a deferred command by editing its response, not with a stray follow-up', async () => {
    const { say } = await setup();
    const reply = await say(admin, 'explode', { deferFirst: true });
    expect(reply.steps.map((s) => s.kind)).toEqual(['defer', 'edit']);
  });

  it('keeps one guild’s projects and vault sessions out of another guild’s view', async () => {
    const { say, core } = await setup();
    const init = await say(
      admin,
      'cloud-init',
      { provider: 'gcp', project_name: 'Shared Name', region: 'us-central1' },
      GUILD_A,
      { modal: { project_id: 'guild-a-proj-123' } },
    );
    expect(init.text()).toMatch(/initialised/);
    const inB = await say(admin, 'cloud-projects', {}, GUILD_B);
    expect(inB.text()).toMatch(/No projects yet/);
    const [session] = core.app.vault.list(GUILD_A);
    const closeFromB = await say(admin, 'cloud-vault', { subcommand: 'close', session: session!.sessionId }, GUILD_B);
    expect(closeFromB.text()).toMatch(/No open session/);
    expect(core.app.vault.list(GUILD_A)).toHaveLength(1);
  });

  it('logs one line per interaction with guild, member, command, outcome and duration', async () => {
    const { say, logs } = await setup();
    await say(member, 'takes-time');
    const line = logs()
      .split('\n')
      .find((l) => l.includes('interaction handled'));
    expect(JSON.parse(line!)).toMatchObject({ guildId: GUILD_A, userId: member.id, command: 'takes-time', outcome: 'success' });
    expect(JSON.parse(line!).durationMs).toBe(TAKES_MS);
  });
});
