/**
 * The advisor in /cloud-deploy, through the dispatcher with the stand-in engine and a stand-in model on 127.0.0.1:
 * its advice is shown with the plan, the plan can still be applied, a failing model changes nothing but the review,
 * the model hears no secret and no state, and with the advisor off nothing is shown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { completion, startModelStandIn } from './support/model-stand-in.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const SECRET_PROJECT_ID = 'zebra-secret-project-42';
const API_KEY = 'sk-advisor-deploy-test-987654321';
const REVIEW = 'Consider a smaller disk for this machine.';
/** n2-standard-2 has a cheaper twin (e2-standard-2); 500 GB ($50) on an e2-micro ($6.11) is oversized. */
const pricierVm = { project: 'zebra-shop', resource_type: 'vm', instance_type: 'n2-standard-2', disk_size: 100 };
const oversizedVm = { project: 'zebra-shop', resource_type: 'vm', instance_type: 'e2-micro', disk_size: 500 };

async function initProjects(harness: Awaited<ReturnType<typeof startAppHarness>>) {
  for (const [name, region, id] of [['zebra-shop', 'europe-west1', SECRET_PROJECT_ID], ['billing', 'us-central1', 'billing-project-777']] as const) {
    const init = await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: name, region }, HARNESS_GUILD, { modal: { project_id: id } });
    expect(init.text()).toMatch(/initialised/);
  }
}

describe('/cloud-deploy with the advisor on and a model configured', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  let model: Awaited<ReturnType<typeof startModelStandIn>>;

  beforeAll(async () => {
    model = await startModelStandIn(completion(REVIEW));
    harness = await startAppHarness({
      IAC_BIN_DIR: FAKE_ENGINE_BIN,
      ADVISOR_ENABLED: 'true',
      ADVISOR_URL: model.url,
      ADVISOR_MODEL: 'stand-in-model',
      ADVISOR_API_KEY: API_KEY,
    });
    await initProjects(harness);
  });
  afterAll(async () => {
    await harness?.stop();
    await model?.stop();
  });

  it('shows the rules’ and the model’s advice with the plan, and the plan still applies', async () => {
    const reply = await harness.say(alice, 'cloud-deploy', pricierVm, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: alice }] });
    const shown = reply.text();
    expect(shown).toMatch(/Plan for zebra-shop/);
    expect(shown).toMatch(/Advisor/);
    expect(shown).toMatch(/e2-standard-2.*has the same 2 vCPU and 8 GiB as n2-standard-2/);
    expect(shown).toMatch(/europe-west1 is in Europe; this server's other projects are in North America \(billing\)/);
    expect(shown).toContain(`Model review: ${REVIEW}`);
    expect(shown).toMatch(/Deployed vm/);
    expect(await harness.core.app.resources.listByGuild(HARNESS_GUILD, ['active'])).toHaveLength(1);
  });

  it('sends the model only the resource type, instance type, disk, region and estimate: no secret, no state', async () => {
    // After the apply above the project has state and outputs; a second deployment must not carry any of them.
    model.requests.length = 0;
    const reply = await harness.say(alice, 'cloud-deploy', { project: 'zebra-shop', resource_type: 'bucket', disk_size: 50 });
    expect(reply.text()).toMatch(/Plan for zebra-shop/);
    expect(model.requests).toHaveLength(1);
    const body = model.requests[0]?.body ?? '';
    const sent = JSON.parse(body) as { messages: Array<{ role: string; content: string }> };
    const summary = JSON.parse(sent.messages.find((m) => m.role === 'user')?.content ?? '{}') as Record<string, unknown>;
    expect(Object.keys(summary).sort()).toEqual(['diskSizeGb', 'instanceType', 'monthlyEstimateUsd', 'region', 'resourceType']);
    expect(summary).toMatchObject({ resourceType: 'bucket', instanceType: null, diskSizeGb: 50, region: 'europe-west1' });
    for (const forbidden of [SECRET_PROJECT_ID, API_KEY, HARNESS_GUILD, alice.id, 'zebra-shop', 'tfstate', 'vm_', 'outputs', 'google_']) {
      expect(body).not.toContain(forbidden);
    }
    expect(model.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('still shows the plan and the rules’ advice when the model fails, and logs why', async () => {
    model.answerWith({ status: 500, body: 'internal error' });
    const reply = await harness.say(alice, 'cloud-deploy', oversizedVm);
    model.answerWith(completion(REVIEW));
    expect(reply.text()).toMatch(/Plan for zebra-shop/);
    expect(reply.text()).toMatch(/500 GB disk looks oversized/);
    expect(reply.text()).not.toMatch(/Model review/);
    const line = harness.logs().split('\n').find((l) => l.includes('advisor: model review left out'));
    expect(line).toMatch(/answered HTTP 500/);
    expect(harness.logs()).not.toContain(API_KEY);
  });
});

describe('/cloud-deploy with the advisor off (the default)', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;

  beforeAll(async () => {
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    await initProjects(harness);
  });
  afterAll(() => harness?.stop());

  it('shows the plan with no advice at all', async () => {
    for (const request of [pricierVm, oversizedVm]) {
      const reply = await harness.say(alice, 'cloud-deploy', request);
      expect(reply.text()).toMatch(/Plan for zebra-shop/);
      expect(reply.text()).not.toMatch(/Advisor|oversized|has the same|Model review/);
    }
  });
});
