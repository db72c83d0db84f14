/**
 * What only the production composition root (`buildCore`) can get wrong: every collaborator it wires. The harness
 * builds the core exactly as `src/main.ts` does; only the edges (clock, notifier, engine binaries) are stand-ins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { FAKE_ENGINE_BIN } from './support/engine-env.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };

describe('a deployment through the production composition root', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  const engineEntries = async () =>
    (await harness.core.app.audit.recent(HARNESS_GUILD, {}))
      .filter((entry) => entry.action.startsWith('iac.'))
      .map((entry) => ({ action: entry.action, outcome: entry.outcome, userId: entry.userId }));

  beforeAll(async () => {
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    const init = await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, {
      modal: { project_id: 'web-project-123' },
    });
    expect(init.text()).toMatch(/initialised/);
  });
  afterAll(() => harness?.stop());

  it('writes an iac.plan and an iac.apply audit entry for a deploy, and an iac.destroy for its destroy', async () => {
    const deploy = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'bucket', disk_size: 5 }, HARNESS_GUILD, {
      buttons: [{ buttonId: 'apply', by: alice }],
    });
    expect(deploy.text()).toMatch(/Deployed bucket/);
    expect((await engineEntries()).reverse()).toEqual([
      { action: 'iac.plan', outcome: 'success', userId: alice.id },
      { action: 'iac.apply', outcome: 'success', userId: alice.id },
    ]);

    const destroy = await harness.say(alice, 'cloud-destroy', { project: 'web' }, HARNESS_GUILD, { buttons: [{ buttonId: 'destroy', by: alice }] });
    expect(destroy.text()).toMatch(/[Dd]estroyed/);
    expect((await engineEntries())[0]).toEqual({ action: 'iac.destroy', outcome: 'success', userId: alice.id });
    // Another guild's audit log sees none of it.
    expect((await harness.core.app.audit.recent('222222222222222222', {})).filter((entry) => entry.action.startsWith('iac.'))).toEqual([]);
  });
});
