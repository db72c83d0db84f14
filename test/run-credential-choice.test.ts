/**
 * A secret typed at /cloud-init is the one the project's runs use, even when the guild has a default stored
 * credential; and the member reads which credential a run uses before anything is planned or destroyed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bucket = { project: 'web', resource_type: 'bucket', disk_size: 1 };

describe('which credential a run uses', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  const planEnv = () =>
    readFileSync(join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'web', '.fake-engine-invocations.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { argv?: string[]; env?: Record<string, string> })
      .filter((entry) => entry.argv?.[0] === 'plan')
      .map((entry) => entry.env?.['TF_VAR_project_id']);

  beforeEach(async () => {
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN, CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64') });
    await harness.core.app.credentials.create({ guildId: HARNESS_GUILD, name: 'shared', provider: 'gcp', secrets: { project_id: 'guild-default-proj' }, createdBy: alice.id, makeDefault: true });
    const init = await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, {
      modal: { project_id: 'typed-at-init-proj' },
    });
    expect(init.text()).toMatch(/initialised/);
  });
  afterEach(() => harness?.stop());

  it("uses the project's vault session over the guild's default stored credential, and says so while planning", async () => {
    const deploy = await harness.say(alice, 'cloud-deploy', bucket, HARNESS_GUILD, { buttons: [{ buttonId: 'cancel', by: alice }] });
    expect(deploy.text()).toMatch(/📝 Planning bucket in web with gcp credentials from this project's vault session/);
    expect(planEnv()).toEqual(['typed-at-init-proj']);
  });

  it("falls back to the guild's default once the session has expired, and names it as the default", async () => {
    harness.clock.advanceMinutes(31);
    const deploy = await harness.say(alice, 'cloud-deploy', bucket, HARNESS_GUILD, { buttons: [{ buttonId: 'cancel', by: alice }] });
    expect(deploy.text()).toMatch(/📝 Planning bucket in web with this server's default stored credential 'shared'/);
    expect(planEnv()).toEqual(['guild-default-proj']);
  });

  it('the destroy confirmation names the credential it will run with', async () => {
    await harness.say(alice, 'cloud-deploy', bucket, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: alice }] });
    const destroy = await harness.say(alice, 'cloud-destroy', { project: 'web' }, HARNESS_GUILD, { buttons: [{ buttonId: 'keep', by: alice }] });
    expect(destroy.text()).toContain("Runs with gcp credentials from this project's vault session");
  });
});
