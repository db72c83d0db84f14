/**
 * A template deployment with the real Terraform (skipped, saying so, where there is none): the inputs file and the
 * TF_VAR_ secret as the bot writes them are read by the engine as the types they were declared with, `${...}` in a
 * value stays text, and the deployment is applied, read and destroyed in its own folder. Offline: the module uses
 * only the built-in `terraform_data` resource.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { hasRealTerraform } from './support/real-terraform.js';

const TEMPLATES = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/templates');
const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };

describe.skipIf(!hasRealTerraform())('a template deployment with the real Terraform', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  beforeAll(async () => {
    harness = await startAppHarness({ TEMPLATES_DIR: TEMPLATES });
    await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, { modal: { project_id: 'web-project-123' } });
    await harness.say(alice, 'cloud-template', { subcommand: 'enable', name: 'real-inputs' });
  }, 60_000);
  afterAll(() => harness?.stop());

  it('reads every input as its declared type, keeps ${...} as text, applies, and destroys the deployment whole', async () => {
    const deployed = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'real-inputs' }, HARNESS_GUILD, {
      modals: [{ extra: '{"a": [1, "${b}"]}', name: 'web ${x}', ports: '443, 80', settings: '{"size": 2}' }, { api_keys: 'primary=abc${x}, second=%{y}' }],
      buttons: [{ buttonId: 'apply', by: alice }],
    });
    const shown = deployed.text();
    expect(shown, shown).toMatch(/Deployed real-inputs #1 in web/);
    // Terraform's own reading of the values: the set sorted, the optional attribute's default, `${` literal.
    expect(shown).toContain('`ports` = `[80,443]`');
    expect(shown).toContain('`tier` = `\\"basic\\"`');
    expect(shown).toContain('`extra` = `{\\"a\\":[1,\\"${b}\\"]}`');
    expect(shown).toContain('`name` = `\\"web ${x}\\"`');
    expect(shown).toContain('`keys` = (sensitive)');

    const folder = join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'web', 'real-inputs-1');
    const output = await execa('terraform', ['output', '-json', 'keys'], { cwd: folder, env: { HOME: folder, PATH: process.env.PATH ?? '' }, extendEnv: false, reject: false });
    expect(JSON.parse(output.stdout)).toEqual({ primary: 'abc${x}', second: '%{y}' });

    // Destroying needs every variable again: the inputs file and the secret from the vault session.
    const destroyed = await harness.say(alice, 'cloud-destroy', { project: 'web', resource: 1 }, HARNESS_GUILD, { buttons: [{ buttonId: 'destroy', by: alice }] });
    expect(destroyed.text(), destroyed.text()).toMatch(/1 resource destroyed/);
    expect((await harness.core.app.resources.get(HARNESS_GUILD, 1)).status).toBe('destroyed');
    expect(existsSync(folder)).toBe(false);
  }, 120_000);
});
