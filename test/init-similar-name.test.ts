/**
 * /cloud-init with a name that only slugs like an existing project's ("Café" when "Cafe" exists) is refused before
 * the secret form, naming the existing project; the exact name (letter case aside) still renews it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const init = (name: string) => ({ provider: 'gcp', project_name: name, region: 'us-central1' });

describe('/cloud-init and a name that differs only in accents', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  beforeEach(async () => {
    harness = await startAppHarness();
    const first = await harness.say(alice, 'cloud-init', init('Cafe'), HARNESS_GUILD, { modal: { project_id: 'cafe-project-111' } });
    expect(first.text()).toMatch(/initialised/);
  });
  afterEach(() => harness?.stop());

  it('is refused before the form, naming the existing project; nothing is renewed', async () => {
    const before = (await harness.core.app.projects.get(HARNESS_GUILD, 'cafe')).vaultSessionId;
    for (const similar of ['Café', 'café!', ' CAFÉ ']) {
      const reply = await harness.say(alice, 'cloud-init', init(similar), HARNESS_GUILD, { modal: { project_id: 'other-project-222' } });
      expect(reply.steps.some((step) => step.kind === 'modal')).toBe(false);
      expect(reply.text()).toContain('A project **Cafe** already exists here');
      expect(reply.text()).toContain('(both are `cafe`)');
    }
    expect((await harness.core.app.projects.get(HARNESS_GUILD, 'cafe')).vaultSessionId).toBe(before);
    expect((await harness.core.app.audit.recent(HARNESS_GUILD, { action: 'vault.renew' }))).toEqual([]);
  });

  it('the same name, in any letter case, still renews it', async () => {
    const before = (await harness.core.app.projects.get(HARNESS_GUILD, 'cafe')).vaultSessionId;
    const renewed = await harness.say(alice, 'cloud-init', init('cafe'), HARNESS_GUILD, { modal: { project_id: 'cafe-project-333' } });
    expect(renewed.text()).toMatch(/initialised/);
    expect((await harness.core.app.projects.get(HARNESS_GUILD, 'cafe')).vaultSessionId).not.toBe(before);
  });
});
