/**
 * The real Terraform (on PATH) when the bot running it is killed with -9 mid-apply: it must stop the graceful way
 * (state written, lock released) and soon, not go on applying unseen and not die mid-step. Uses the built-in
 * `terraform_data` resource and a local-exec provisioner, so no provider is downloaded.
 */
import { execa } from 'execa';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/bot-process.js';
import { hasRealTerraform } from './support/real-terraform.js';
import { makeTempDir } from './support/tmp.js';

const tmp = makeTempDir('chatops-real-crash-');
afterAll(() => tmp.cleanup());

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

describe.skipIf(!hasRealTerraform())('a real Terraform whose bot is killed', () => {
  it('after kill -9 of the bot mid-apply, stops gracefully within seconds: state written, lock released', async () => {
    const dir = tmp.dir;
    writeFileSync(
      join(dir, 'main.tf.json'),
      JSON.stringify({ resource: { terraform_data: { fast: { input: 'y' }, slow: { input: 'x', depends_on: ['terraform_data.fast'], provisioner: { 'local-exec': { command: 'sleep 120' } } } } } }),
    );
    const init = await execa('terraform', ['init', '-input=false', '-no-color'], { cwd: dir, env: { HOME: dir, PATH: process.env.PATH ?? '' }, reject: false });
    expect(init.exitCode, init.stderr).toBe(0);

    const bot = execa('node', ['--import', 'tsx', 'test/support/engine-host.ts', dir, 'terraform', 'apply', '-auto-approve', '-input=false', '-no-color', '-json'], {
      cwd: REPO_ROOT,
      reject: false,
      buffer: false,
    });
    let output = '';
    const provisioning = new Promise<void>((resolve) => {
      bot.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('"provision_start"')) resolve();
      });
    });
    await provisioning;
    const enginePid = Number(/spawned (\d+)/.exec(output)?.[1]);
    expect(running(enginePid)).toBe(true);
    expect(existsSync(join(dir, '.terraform.tfstate.lock.info'))).toBe(true);

    bot.kill('SIGKILL');
    await bot;
    const deadline = Date.now() + 30_000;
    while (running(enginePid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));

    // Gone long before its 120 s provisioner would have ended, and gone the graceful way.
    expect(running(enginePid)).toBe(false);
    expect(existsSync(join(dir, '.terraform.tfstate.lock.info'))).toBe(false);
    const state = JSON.parse(readFileSync(join(dir, 'terraform.tfstate'), 'utf8')) as { resources: Array<{ name: string }> };
    expect(state.resources.map((r) => r.name)).toContain('fast');
  }, 90_000);
});
