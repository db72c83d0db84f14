import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/index.js';
import type { Actor } from '../src/interaction/conversation.js';
import { startAppHarness } from './support/app-harness.js';

const ENABLED = '111111111111111111';
const STRANGER = '222222222222222222';
const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const member: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };
const NOT_ENABLED = /This server is not enabled for Cloud ChatOps\. Ask the bot's operator/;

describe('tenant admission (ALLOWED_GUILDS)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(env: Record<string, string>) {
    const harness = await startAppHarness(env);
    cleanups.push(() => harness.stop());
    return harness;
  }

  it('answers every command in a server not on the list with "not enabled" and runs nothing', async () => {
    const { say, core } = await setup({ ALLOWED_GUILDS: ENABLED });
    const update = await say(admin, 'cloud-guild-policy', { action: 'update', max_budget: 5 }, STRANGER);
    expect(update.text()).toMatch(NOT_ENABLED);
    expect((await core.app.policies.get(STRANGER)).maxBudgetMonthly).toBe(1000);
    const init = await say(member, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, STRANGER, {
      modal: { project_id: 'stranger-proj-123' },
    });
    expect(init.text()).toMatch(NOT_ENABLED);
    // Nothing ran: no form was asked for, no session opened, no project, not even an audit row in that server.
    expect(init.steps.map((step) => step.kind)).toEqual(['reply']);
    expect(core.app.vault.list(STRANGER)).toEqual([]);
    expect(await core.app.projects.list(STRANGER)).toEqual([]);
    expect((await core.app.audit.recent(STRANGER))).toEqual([]);
  });

  it('still serves a server on the list', async () => {
    const { say, core } = await setup({ ALLOWED_GUILDS: ` ${ENABLED} , 333333333333333333` });
    const update = await say(admin, 'cloud-guild-policy', { action: 'update', max_budget: 5 }, ENABLED);
    expect(update.text()).not.toMatch(NOT_ENABLED);
    expect((await core.app.policies.get(ENABLED)).maxBudgetMonthly).toBe(5);
  });

  it('serves every server when ALLOWED_GUILDS is empty or unset', async () => {
    const { say } = await setup({ ALLOWED_GUILDS: '' });
    expect((await say(member, 'cloud-projects', {}, STRANGER)).text()).toMatch(/No projects yet/);
  });

  it('logs a refused server once, however many interactions it sends', async () => {
    const { say, dispatcher, logs } = await setup({ ALLOWED_GUILDS: ENABLED, RATE_LIMIT_MEMBER_PER_MINUTE: '100' });
    for (let i = 0; i < 3; i += 1) await say(member, 'cloud-projects', {}, STRANGER);
    expect(dispatcher.admits(STRANGER)).toBe(false);
    const lines = logs().split('\n').filter((line) => line.includes('not in ALLOWED_GUILDS'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ guildId: STRANGER });
  });

  it('refuses autocomplete and button presses in a server not on the list', async () => {
    const { say, dispatcher, core } = await setup({ ALLOWED_GUILDS: ENABLED });
    await say(admin, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, ENABLED, {
      modal: { project_id: 'enabled-proj-123' },
    });
    const request = { actor: admin, commandName: 'cloud-vault', focused: { name: 'session', value: '' }, options: { subcommand: 'close' } };
    const [session] = core.app.vault.list(ENABLED);
    expect(await dispatcher.complete({ ...request, guildId: ENABLED })).toEqual([{ name: session!.sessionId, value: session!.sessionId }]);
    const refused = await dispatcher.complete({ ...request, guildId: STRANGER });
    expect(refused).toHaveLength(1);
    expect(refused[0]!.name).toMatch(NOT_ENABLED);
    // What the Discord front end asks before routing a press or a form submission.
    expect(dispatcher.admits(ENABLED)).toBe(true);
    expect(dispatcher.admits(STRANGER)).toBe(false);
    expect(dispatcher.notEnabledText).toMatch(NOT_ENABLED);
  });

  it('refuses a malformed ALLOWED_GUILDS at start-up, naming the variable', () => {
    expect(() => parseConfig({ ALLOWED_GUILDS: `${ENABLED},my-server` })).toThrow(ConfigError);
    expect(() => parseConfig({ ALLOWED_GUILDS: `${ENABLED},my-server` })).toThrow(/ALLOWED_GUILDS/);
  });
});
