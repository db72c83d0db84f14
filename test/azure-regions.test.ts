import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';

const admin: Actor = { id: '300000000000000001', displayName: 'admin', isBot: false, isGuildAdmin: true };
const AZURE_SECRETS = {
  subscription_id: '11111111-1111-1111-1111-111111111111',
  tenant_id: '22222222-2222-2222-2222-222222222222',
  client_id: '33333333-3333-3333-3333-333333333333',
  client_secret: 'azure-client-secret-value',
};

let harness: Awaited<ReturnType<typeof startAppHarness>> | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('Azure regions at /cloud-init', () => {
  it('accepts the display name "East US" and stores the programmatic name eastus', async () => {
    harness = await startAppHarness();
    const reply = await harness.say(admin, 'cloud-init', { provider: 'azure', project_name: 'az', region: 'East US' }, HARNESS_GUILD, { modal: AZURE_SECRETS });
    expect(reply.text()).toContain('Secure cloud project initialised');
    expect((await harness.core.app.projects.get(HARNESS_GUILD, 'az')).region).toBe('eastus');
  });

  it('still refuses a region that is no Azure name, before the form, saying which forms are wanted', async () => {
    harness = await startAppHarness();
    const reply = await harness.say(admin, 'cloud-init', { provider: 'azure', project_name: 'az', region: 'East US!' }, HARNESS_GUILD, { modal: AZURE_SECRETS });
    expect(reply.text()).toMatch(/⛔/);
    expect(reply.text()).toMatch(/westeurope|"East US"/);
    expect(reply.text()).not.toContain('Secure cloud project initialised');
  });

  it('refuses a space in a GCP region: only Azure has display names', async () => {
    harness = await startAppHarness();
    const reply = await harness.say(admin, 'cloud-init', { provider: 'gcp', project_name: 'g', region: 'us central1' }, HARNESS_GUILD, { modal: { project_id: 'p-123456' } });
    expect(reply.text()).toMatch(/⛔.*us-central1/s);
  });
});
