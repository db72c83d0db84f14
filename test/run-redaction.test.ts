/**
 * Secrets never leave a run: not in results, outputs, progress events, errors, warnings, `iac_runs.error` (down to
 * the raw database and WAL files) or log entries, however the engine spells them when it echoes them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toEngineEnv } from '../src/engine/credential-env.js';
import { RunFailed } from '../src/engine/errors.js';
import type { RunEvent, RunRequest } from '../src/engine/runner.js';
import type { Project } from '../src/projects/index.js';
import type { Actor } from '../src/interaction/conversation.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { makeRunnerFixture, type RunnerFixture } from './support/engine-env.js';

const GUILD = '111111111111111111';
const USER = '222222222222222222';
const PROJECT_ID = 'acme-prod-381204';
const KEY_LINE = 'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu';
const PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n${KEY_LINE}\n-----END PRIVATE KEY-----\n`;
const KEY_FILE = JSON.stringify({
  type: 'service_account',
  project_id: PROJECT_ID,
  private_key_id: '4f1c2a9b8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b',
  private_key: PRIVATE_KEY,
  client_email: `deployer@${PROJECT_ID}.iam.gserviceaccount.com`,
});

/** Every spelling of a secret fragment a leak could take: as is, cased, JSON-escaped, URL-encoded. */
function spellings(fragment: string): string[] {
  return [fragment, fragment.toUpperCase(), fragment.toLowerCase(), JSON.stringify(fragment).slice(1, -1), encodeURIComponent(fragment)];
}
const FRAGMENTS = [PROJECT_ID, PROJECT_ID.slice(0, 8), KEY_LINE.slice(0, 20), KEY_LINE.slice(-20), '4f1c2a9b8e7d6c5b4a3f'];

function leaks(haystack: string | Buffer): string[] {
  const text = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  return FRAGMENTS.flatMap(spellings).filter((s) => text.includes(s));
}

let fixture: RunnerFixture;
beforeEach(async () => {
  fixture = await makeRunnerFixture();
});
afterEach(() => fixture.cleanup());

function request(project: Project, extra: Partial<RunRequest> = {}): RunRequest {
  return {
    guildId: project.guildId,
    projectSlug: project.slug,
    userId: USER,
    credentialEnv: toEngineEnv('gcp', { project_id: PROJECT_ID, credentials_json: KEY_FILE }),
    enginePreference: 'terraform',
    ...extra,
  };
}

describe('what a run shows, stores and logs carries no secret', () => {
  it('blanks the project id inside a GCP instance id, in the apply result, its events and the outputs', async () => {
    const project = await fixture.project(GUILD, 'Ids');
    fixture.control(project, { googleIds: true });
    const vm = await fixture.resource(project, 'vm');
    const plan = await fixture.runner.plan({ ...request(project), resourceId: vm.id });
    const events: RunEvent[] = [];
    const applied = await fixture.runner.apply({ ...request(project), planRunId: plan.runId, onEvent: (e) => events.push(e) });
    const outputs = await fixture.runner.outputs(request(project));

    // The engine really did print the secret (the state holds the real id), so the blanking below is ours.
    expect(readFileSync(`${fixture.workspace(project)}/terraform.tfstate`, 'utf8')).toContain(`projects/${PROJECT_ID}/zones/`);
    expect(outputs.outputs[`vm_${vm.id}_id`]?.value).toMatch(/^projects\/\[redacted\]\/zones\/us-central1-a\/instances\//);
    expect(applied.outputs[`vm_${vm.id}_id`]?.value).toMatch(/^projects\/\[redacted\]\/zones\//);
    expect(events.some((e) => e.type === 'apply_complete' && e.idValue?.startsWith('projects/[redacted]/'))).toBe(true);
    expect(leaks(JSON.stringify([applied, outputs, events]))).toEqual([]);
  });

  it('a failing run whose engine echoes the key file JSON-escaped, URL-encoded and upper-cased leaves no piece of it anywhere', async () => {
    const project = await fixture.project(GUILD, 'Echo');
    const vm = await fixture.resource(project, 'vm');
    fixture.control(project, {
      warnings: [{ summary: 'Deprecated credentials for {{env:TF_VAR_project_id:upper}}', detail: 'key {{env:GOOGLE_CREDENTIALS:url}}' }],
    });
    const plan = await fixture.runner.plan({ ...request(project), resourceId: vm.id });
    expect(plan.warnings.map((w) => w.summary)).toContain('Deprecated credentials for [redacted]');
    fixture.control(project, {
      failApply: {
        // The project id straddles the 300-character limit of a summary.
        summary: `${'x'.repeat(285)} project {{env:TF_VAR_project_id}} is over quota`,
        detail: 'error loading credentials: "{{env:GOOGLE_CREDENTIALS:json}}" is not a valid key for {{env:TF_VAR_project_id:upper}}',
      },
    });
    const events: RunEvent[] = [];
    const error = await fixture.runner.apply({ ...request(project), planRunId: plan.runId, onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailed);
    const failure = error as RunFailed;
    expect(failure.detail).toMatch(/^error loading credentials: ".*\[redacted\].*" is not a valid key for \[redacted\]$/s);

    const run = await fixture.runner.getRun(GUILD, failure.runId);
    expect(run?.error).toContain('is not a valid key');
    fixture.db.sqlite.pragma('wal_checkpoint(PASSIVE)');
    const rawFiles = [fixture.db.path, `${fixture.db.path}-wal`].filter(existsSync);
    expect(rawFiles.length).toBeGreaterThan(0);
    for (const file of rawFiles) expect(leaks(readFileSync(file)), file).toEqual([]);
    expect(leaks(failure.message)).toEqual([]);
    expect(leaks(JSON.stringify([plan, events]))).toEqual([]);
    expect(leaks(JSON.stringify(fixture.logEntries))).toEqual([]);
  });

  it('blanks a secret echoed JSON-escaped on stderr by a failing init', async () => {
    const project = await fixture.project(GUILD, 'Init');
    fixture.control(project, { failInit: `Failed to load key {{env:GOOGLE_CREDENTIALS:json}} for project {{env:TF_VAR_project_id}}` });
    const error = (await fixture.runner.plan({ ...request(project), resourceId: (await fixture.resource(project)).id }).catch((e: unknown) => e)) as RunFailed;
    expect(error).toBeInstanceOf(RunFailed);
    expect(error.summary).toMatch(/^Failed to load key .*\[redacted\].* for project \[redacted\]$/);
    expect(leaks(error.message)).toEqual([]);
    expect(leaks((await fixture.runner.getRun(GUILD, error.runId))?.error ?? '')).toEqual([]);
  });
});

describe('/cloud-outputs', () => {
  it('shows a GCP instance id with the project id blanked, as the apply result does', async () => {
    const harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN });
    const admin: Actor = { id: '300000000000000001', displayName: 'admin', isBot: false, isGuildAdmin: true };
    try {
      await harness.say(admin, 'cloud-init', { provider: 'gcp', project_name: 'ids', region: 'us-central1' }, HARNESS_GUILD, {
        modal: { project_id: PROJECT_ID },
      });
      writeFileSync(join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'ids', 'fake-engine.json'), JSON.stringify({ googleIds: true }));
      const deployed = await harness.say(admin, 'cloud-deploy', { project: 'ids', resource_type: 'vm', instance_type: 'e2-micro', disk_size: 10 }, HARNESS_GUILD, {
        buttons: [{ buttonId: 'apply', by: admin }],
      });
      expect(deployed.text()).toMatch(/Deployed vm/);
      expect(deployed.text()).toContain('projects/[redacted]/zones/');
      const outputs = await harness.say(admin, 'cloud-outputs', { project: 'ids' });
      expect(outputs.text()).toContain('projects/[redacted]/zones/us-central1-a/instances/');
      expect(leaks(outputs.text())).toEqual([]);
      expect(leaks(harness.logs())).toEqual([]);
    } finally {
      await harness.stop();
    }
  });
});
