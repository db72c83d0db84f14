/**
 * An engine with no network cannot download its providers: the member is told so (not the engine's "run the following
 * command: terraform providers"), and the operator's log says what to set up. Checked against what the real
 * Terraform 1.11.4 prints offline (test/fixtures/terraform-1.11.4/init-offline.stderr, recorded with the bot's own
 * arguments and environment and the google requirement it generates) and live against the real engine when on PATH.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { hasRealTerraform } from './support/real-terraform.js';
import { describe, expect, it } from 'vitest';
import { describeFailure } from '../src/engine/failure.js';
import { RunFailed } from '../src/engine/errors.js';
import type { Actor } from '../src/interaction/conversation.js';
import { Redactor } from '../src/shared/redaction.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { FAKE_ENGINE_BIN, REPO_ROOT } from './support/bot-process.js';
import { makeTempDir } from './support/tmp.js';

const OFFLINE_INIT = readFileSync(join(REPO_ROOT, 'test/fixtures/terraform-1.11.4/init-offline.stderr'), 'utf8');
const admin: Actor = { id: '300000000000000001', displayName: 'admin', isBot: false, isGuildAdmin: true };

describe('an engine that cannot download its providers', () => {
  it('tells the member the engine could not download which providers from where, not to run terraform providers', () => {
    const { summary, detail } = describeFailure([], OFFLINE_INIT, 'Terraform init failed', Redactor.none);
    expect(summary).toBe('the engine could not download its providers (hashicorp/google) from registry.terraform.io');
    expect(detail).toMatch(/nothing was planned or changed/);
    expect(detail).toMatch(/tell the bot's operator/);
    expect(`${summary}\n${detail}`).not.toMatch(/terraform providers|discovery document|10\.255/);
    expect(new RunFailed(1, 'plan', summary, detail).operatorNote).toMatch(/providers mirror .*TF_PLUGIN_CACHE_DIR/s);
  });

  it('leaves other init failures as the engine wrote them, with no operator note', () => {
    const { summary } = describeFailure([], '\nError: Invalid provider configuration\n\nsomething else\n', 'Terraform init failed', Redactor.none);
    expect(summary).toBe('Invalid provider configuration');
    expect(new RunFailed(1, 'plan', summary, '').operatorNote).toBeUndefined();
  });

  it.skipIf(!hasRealTerraform())('recognises what the real terraform prints when the registry cannot be reached', async () => {
    const tmp = makeTempDir('chatops-offline-tf-');
    try {
      // A registry host that never resolves, so the test is offline on any machine.
      writeFileSync(
        join(tmp.dir, 'main.tf.json'),
        JSON.stringify({ terraform: { required_providers: { google: { source: 'registry.chatops-test.invalid/hashicorp/google', version: '~> 6.0' } } } }),
      );
      mkdirSync(join(tmp.dir, 'home'));
      const result = await execa('terraform', ['init', '-input=false', '-no-color'], {
        cwd: tmp.dir,
        env: { PATH: process.env.PATH ?? '', HOME: join(tmp.dir, 'home'), TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1' },
        extendEnv: false,
        reject: false,
        timeout: 60_000,
      });
      expect(result.exitCode).not.toBe(0);
      const { summary } = describeFailure([], result.stderr, 'Terraform init failed', Redactor.none);
      expect(summary).toMatch(/^the engine could not download its providers \(registry\.chatops-test\.invalid\/hashicorp\/google\) from registry\.chatops-test\.invalid$/);
    } finally {
      tmp.cleanup();
    }
  }, 90_000);

  it('a deployment whose plan hits it: the member reads why, the operator log says how to pre-fill a mirror', async () => {
    const harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    try {
      await harness.say(admin, 'cloud-init', { provider: 'gcp', project_name: 'offline', region: 'us-central1' }, HARNESS_GUILD, {
        modal: { project_id: 'offline-project-1' },
      });
      const workspace = join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'offline');
      // The stand-in prints "Error: <failInit>" on stderr, as the real engine printed it offline.
      writeFileSync(join(workspace, 'fake-engine.json'), JSON.stringify({ failInit: OFFLINE_INIT.replace(/^\s*Error:\s*/, '') }));
      const deployed = await harness.say(admin, 'cloud-deploy', { project: 'offline', resource_type: 'vm', instance_type: 'e2-micro', disk_size: 10 });
      expect(deployed.text()).toContain('the engine could not download its providers (hashicorp/google) from registry.terraform.io');
      expect(deployed.text()).not.toContain('terraform providers');
      const warning = harness
        .logs()
        .split('\n')
        .find((line) => line.includes('only the operator can fix'));
      expect(warning).toBeDefined();
      expect(warning).toContain('"level":40');
      expect(warning).toMatch(/providers mirror \/usr\/local\/share\/terraform\/plugins/);
    } finally {
      await harness.stop();
    }
  });
});
