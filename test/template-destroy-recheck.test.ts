/**
 * A destroy of a template deployment runs the module files its last plan wrote into its folder: they are checked
 * again first, with the rules in force then, exactly as before a plan. A module the operator no longer allows, or a
 * folder someone tampered with, fails the destroy before the engine starts, and the deployment stays as it was.
 * Real core, stand-in engine, an operator catalogue (TEMPLATES_DIR) in a temporary folder.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { makeTempDir } from './support/tmp.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const HELLO = { resource: { terraform_data: { hello: { input: 'hi' } } } };
/** Allowed only while TEMPLATE_ALLOW_HOST_ACCESS is on: a local-exec provisioner. */
const HOOKS = { resource: { terraform_data: { hook: { input: 'x', provisioner: [{ 'local-exec': { command: 'id' } }] } } } };

describe('destroying a template deployment checks its module files again first', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function folders() {
    const root = makeTempDir('chatops-recheck-');
    cleanups.push(root.cleanup);
    const catalogue = join(root.dir, 'catalogue');
    for (const [name, module] of Object.entries({ hello: HELLO, hooks: HOOKS })) {
      mkdirSync(join(catalogue, name), { recursive: true });
      writeFileSync(join(catalogue, name, 'main.tf.json'), JSON.stringify(module));
    }
    return { TEMPLATES_DIR: catalogue, DATABASE_PATH: join(root.dir, 'db.sqlite'), DEPLOYMENTS_DIR: join(root.dir, 'deployments'), IAC_BIN_DIR: FAKE_ENGINE_BIN };
  }

  async function start(env: Record<string, string>) {
    const harness = await startAppHarness(env);
    let stopped = false;
    const stop = async () => {
      if (!stopped) await harness.stop();
      stopped = true;
    };
    cleanups.push(stop);
    const init = await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, { modal: { project_id: 'web-project-123' } });
    expect(init.text()).toMatch(/initialised/);
    return { harness, stop };
  }

  const deploy = async (harness: Awaited<ReturnType<typeof startAppHarness>>, template: string) => {
    expect((await harness.say(alice, 'cloud-template', { subcommand: 'enable', name: template })).text()).toMatch(/enabled/i);
    const reply = await harness.say(alice, 'cloud-deploy', { project: 'web', template }, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: alice }] });
    expect(reply.text()).toMatch(new RegExp(`Deployed ${template} #1 in web`));
  };
  const destroy = (harness: Awaited<ReturnType<typeof startAppHarness>>) =>
    harness.say(alice, 'cloud-destroy', { project: 'web', resource: 1 }, HARNESS_GUILD, { buttons: [{ buttonId: 'destroy', by: alice }] });
  const destroyRuns = async (harness: Awaited<ReturnType<typeof startAppHarness>>) => (await harness.core.app.runner.recentRuns(HARNESS_GUILD)).filter((r) => r.kind === 'destroy');

  it('refuses a module deployed while the operator allowed host access, once it no longer does', async () => {
    const env = folders();
    const allowed = await start({ ...env, TEMPLATE_ALLOW_HOST_ACCESS: 'true' });
    await deploy(allowed.harness, 'hooks');
    await allowed.stop();

    const { harness } = await start(env);
    const folder = join(env.DEPLOYMENTS_DIR, `guild_${HARNESS_GUILD}`, 'web', 'hooks-1');
    const refused = await destroy(harness);
    expect(refused.text()).toMatch(/The module is refused: it could run commands or reach files on the bot’s host/);
    expect(refused.text()).toMatch(/`main\.tf\.json`: resource .*hook.* has a provisioner \\*\(local-exec\\*\)/);
    expect(refused.text()).not.toMatch(/Destroyed in web/);
    // The engine never ran: the deployment, its state and its folder are as they were.
    expect((await destroyRuns(harness)).map((r) => r.status)).toEqual(['failed']);
    expect((await harness.core.app.resources.get(HARNESS_GUILD, 1)).status).toBe('active');
    expect(readFileSync(join(folder, 'terraform.tfstate'), 'utf8')).toMatch(/terraform_data/);
  });

  it('refuses a deployment folder tampered with since its plan: a backend or an external data source added', async () => {
    const { harness } = await start(folders());
    await deploy(harness, 'hello');
    const folder = join(harness.core.app.config.DEPLOYMENTS_DIR, `guild_${HARNESS_GUILD}`, 'web', 'hello-1');
    const original = readFileSync(join(folder, 'main.tf.json'));

    writeFileSync(join(folder, 'state.tf'), 'terraform {\n  backend "s3" {\n    bucket = "elsewhere"\n  }\n}\n');
    const backend = await destroy(harness);
    expect(backend.text()).toContain('`state.tf` has a `backend \\"s3\\"` block');
    expect(backend.text()).toContain('The bot chooses the state backend per project');

    writeFileSync(join(folder, 'state.tf'), '');
    mkdirSync(join(folder, 'child'));
    writeFileSync(join(folder, 'child', 'main.tf.json'), JSON.stringify({ data: { external: { env: { program: ['cat', '/proc/self/environ'] } } } }));
    const nested = await destroy(harness);
    expect(nested.text()).toContain('data \\"external\\" \\"env\\" uses the external provider');

    expect((await destroyRuns(harness)).map((r) => r.status)).toEqual(['failed', 'failed']);
    expect((await harness.core.app.resources.get(HARNESS_GUILD, 1)).status).toBe('active');
    expect(readFileSync(join(folder, 'main.tf.json'))).toEqual(original);

    // Put right, the same deployment is destroyed with the files its plan wrote.
    for (const extra of ['child', 'state.tf']) rmSync(join(folder, extra), { recursive: true, force: true });
    expect((await destroy(harness)).text()).toMatch(/Destroyed in web/);
    expect(existsSync(folder)).toBe(false);
  });
});
