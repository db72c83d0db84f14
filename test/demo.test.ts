import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/bot-process.js';
import { makeTempDir } from './support/tmp.js';

describe('npm run demo', () => {
  it('deploys and destroys with the stand-in engine as an admin, then deletes its throwaway data folder', async () => {
    const home = makeTempDir('chatops-demo-home-');
    const script = [
      '/cloud-init provider:gcp project_name:demo region:us-central1',
      'demo-project-1',
      '',
      '/cloud-deploy project:demo resource_type:vm instance_type:e2-micro disk_size:10',
      '1',
      '/cloud-projects',
      '/cloud-destroy project:demo',
      '1',
      '/quit',
      '',
    ].join('\n');
    try {
      // No DATABASE_PATH or IAC_BIN_DIR given, and a bogus one in the environment: the demo uses its own.
      const result = await execa('node', ['--import', 'tsx', 'demo/start.ts'], {
        cwd: REPO_ROOT,
        input: script,
        env: { PATH: process.env.PATH ?? '', HOME: home.dir, DATABASE_PATH: '/proc/not-here.db' },
        extendEnv: false,
        reject: false,
        timeout: 90_000,
      });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain('You are @demo (server admin)');
      expect(result.stdout).toContain('Secure cloud project initialised');
      expect(result.stdout).toContain('👆 @demo pressed [1] Apply');
      expect(result.stdout).toMatch(/👆 @demo pressed \[1\] (Destroy|Confirm)/);
      expect(result.stdout).not.toMatch(/⛔|❌|Something went wrong/);
      const folder = /Data in (\S+) \(deleted/.exec(result.stdout)?.[1];
      expect(folder).toBeDefined();
      expect(existsSync(folder!)).toBe(false);
    } finally {
      home.cleanup();
    }
  }, 120_000);
});
