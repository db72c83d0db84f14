import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/bot-process.js';
import { enginePath } from './support/engine-env.js';
import { makeTempDir } from './support/tmp.js';

const tmp = makeTempDir('chatops-no-engine-');
afterAll(() => tmp.cleanup());

describe('the console on a machine with no engine', () => {
  it('says that neither engine is installed and how to install one, when a deployment needs it', async () => {
    const script = [
      '/cloud-init provider:gcp project_name:demo region:us-central1',
      'demo-project-4242',
      '',
      '/cloud-deploy project:demo resource_type:bucket disk_size:1',
      '/quit',
      '',
    ].join('\n');
    const result = await execa('node', ['--import', 'tsx', 'src/main.ts', '--console', '--user', 'alice', '--admin'], {
      cwd: REPO_ROOT,
      // PATH holds node and nothing else: no terraform, no tofu, whatever this machine has installed.
      env: { PATH: enginePath(tmp.dir, 'none'), HOME: tmp.dir, DATABASE_PATH: join(tmp.dir, 'db.sqlite'), DEPLOYMENTS_DIR: join(tmp.dir, 'deployments') },
      extendEnv: false,
      input: script,
      reject: false,
      timeout: 60_000,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/initialised/);
    expect(result.stdout).toMatch(/Neither Terraform nor OpenTofu is installed/);
    expect(result.stdout).toMatch(/IAC_BIN_DIR/);
    expect(result.stdout).not.toContain('demo-project-4242');
  });
});
