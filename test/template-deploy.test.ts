/**
 * /cloud-deploy and /cloud-destroy with templates, through the dispatcher, on the real core (SQLite file, vault,
 * runner, template catalogue) with the stand-in engine. The templates are the operator's (TEMPLATES_DIR, modules of
 * `*.tf.json` in test/fixtures/templates), enabled in the test guild with /cloud-template enable.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { isText, plainRenderer, render } from '../src/shared/text.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import type { RecordedStep } from './support/recording-conversation.js';
import { TemplateNotFound } from '../src/templates/errors.js';
import { localGitTransport, makeBareRepository } from './support/git-repos.js';
import { makeTempDir } from './support/tmp.js';

const TEMPLATES = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/templates');
const OTHER_GUILD = '222222222222222222';
const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const bob: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };
const SECRET = 'pw-Zx81-never-stored';

/** The three steps of `typed-inputs` (the catalogue lists inputs by name): every declared type, then its secret. */
const STEP_1 = { enabled: 'true', extra: '{"any": ["thing", 1]}', labels: 'team=web, tier=1', name: 'web-app', pair: 'blue, 7' };
const STEP_2 = { ports: '[80, 443]', replicas: '3', settings: '{"size": 2}', zones: 'us-central1-a, us-central1-b' };
const STEP_3 = { db_password: SECRET };

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every string the handler said, rich text as plain text (no markdown escapes, code in backticks), for "contains" checks. */
function said(steps: readonly RecordedStep[]): string {
  const out: string[] = [];
  const walk = (value: unknown): void => {
    if (isText(value)) out.push(render(value, { ...plainRenderer, code: (inner) => `\`${inner}\`` }));
    else if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(steps);
  return out.join('\n');
}

const modals = (steps: RecordedStep[]) => steps.filter((s): s is Extract<RecordedStep, { kind: 'modal' }> => s.kind === 'modal');

describe('deploying a template with typed inputs, one workspace per deployment', () => {
  let harness: Awaited<ReturnType<typeof startAppHarness>>;
  const projectDir = () => join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'web');
  /** The stand-in engine's log of every invocation (environment included) goes outside the deployments tree. */
  const invocations = () => join(harness.dir, 'invocations.jsonl');
  const invocationLines = () => (existsSync(invocations()) ? readFileSync(invocations(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { argv: string[]; cwd: string; env: Record<string, string> }) : []);
  /** Deployment `folder` is made before its first run, so the stand-in logs where the test says. */
  const steerEngine = (folder: string, extra: Record<string, unknown> = {}) => {
    mkdirSync(join(projectDir(), folder), { recursive: true, mode: 0o700 });
    writeFileSync(join(projectDir(), folder, 'fake-engine.json'), JSON.stringify({ invocationLog: invocations(), ...extra }));
  };

  beforeEach(async () => {
    // Sandbox off here, by name: these tests read the engine's environment from a log outside its workspace, which is
    // exactly what the sandbox hides (test/engine-sandbox.test.ts proves that; these prove the inputs' journey).
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN, VAULT_TTL_MINUTES: '30', TEMPLATES_DIR: TEMPLATES, ENGINE_SANDBOX: 'off' });
    const init = await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, { modal: { project_id: 'web-project-123' } });
    expect(init.text()).toMatch(/initialised/);
    for (const name of ['typed-inputs', 'hello', 'token-app']) {
      expect((await harness.say(alice, 'cloud-template', { subcommand: 'enable', name })).text()).toMatch(/enabled/i);
    }
  });
  afterEach(() => harness?.stop());

  it('asks every input in forms of at most five, checks each type, deploys in the deployment’s own folder, and keeps the secret out of every file, row, log and message', async () => {
    steerEngine('typed-inputs-1');
    const reply = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'typed-inputs' }, HARNESS_GUILD, {
      modals: [STEP_1, STEP_2, STEP_3],
      buttons: [{ buttonId: 'apply', by: alice }],
    });
    expect(reply.text()).toMatch(/Deployed typed-inputs #1 in web/);

    // Three forms: the required inputs first, five at most each, the secret alone and marked secret; project_id
    // (the GCP credentials give it) and the optional `note` are never asked.
    const forms = modals(reply.steps);
    expect(forms.map((f) => f.spec.fields.map((field) => field.id))).toEqual([Object.keys(STEP_1), Object.keys(STEP_2), ['db_password']]);
    expect(forms.map((f) => f.spec.secret)).toEqual([false, false, true]);
    expect(forms[0]!.prompt).toBeUndefined();
    expect(forms[1]!.prompt?.ephemeral).toBe(true);
    expect(forms[2]!.spec.title).toBe('typed-inputs secrets (3/3)');
    expect(forms[1]!.spec.fields.find((f) => f.id === 'zones')?.placeholder).toMatch(/list\(string\): a, b or a JSON array/);

    const [resource] = await harness.core.app.resources.listByGuild(HARNESS_GUILD);
    expect(resource).toMatchObject({
      id: 1,
      template: 'typed-inputs',
      resourceType: null,
      status: 'active',
      workspace: 'typed-inputs-1',
      templateRevision: (await harness.core.app.templates.get(HARNESS_GUILD, 'typed-inputs')).pinnedRevision,
      inputs: {
        name: 'web-app',
        replicas: 3,
        enabled: true,
        zones: ['us-central1-a', 'us-central1-b'],
        ports: [80, 443],
        labels: { team: 'web', tier: '1' },
        settings: { size: 2 },
        pair: ['blue', 7],
        extra: { any: ['thing', 1] },
      },
      sensitiveInputs: [{ name: 'db_password', type: 'string', nullable: true, hasDefault: false }],
    });

    // Its own folder: the module, the inputs file, the backend and the state; nothing of it in the project's folder.
    const folder = join(projectDir(), 'typed-inputs-1');
    expect(JSON.parse(readFileSync(join(folder, 'cloud-chatops.auto.tfvars.json'), 'utf8'))).toEqual(resource!.inputs);
    expect(JSON.parse(readFileSync(join(folder, 'backend.tf.json'), 'utf8'))).toEqual({ terraform: { backend: { local: { path: 'terraform.tfstate' } } } });
    expect(readFileSync(join(folder, 'terraform.tfstate'), 'utf8')).toMatch(/terraform_data/);
    expect(existsSync(join(projectDir(), 'terraform.tfstate'))).toBe(false);
    expect(statSync(folder).mode & 0o777).toBe(0o700);

    // The engine had the secret, only from its environment; plan and apply ran in the deployment's folder.
    const runs = invocationLines().filter((l) => ['plan', 'apply'].includes(l.argv[0]!));
    expect(runs.map((l) => l.cwd)).toEqual([folder, folder]);
    expect(runs[0]!.env.TF_VAR_db_password).toBe(SECRET);
    expect(runs[0]!.env.TF_VAR_project_id).toBe('web-project-123');

    // …and nowhere else: database, WAL, the deployments tree, the log, anything said.
    const database = harness.core.app.config.DATABASE_PATH;
    for (const file of [database, `${database}-wal`, ...filesUnder(join(harness.dir, 'deployments'))]) {
      if (existsSync(file)) expect(readFileSync(file).includes(SECRET), file).toBe(false);
    }
    expect(harness.logs()).not.toContain(SECRET);
    expect(reply.text()).not.toContain(SECRET);
    expect(JSON.stringify(reply.steps)).not.toContain(SECRET);
    // It lives in the project's vault session, for the runs still to come (a destroy).
    const session = (await harness.core.app.projects.get(HARNESS_GUILD, 'web')).vaultSessionId!;
    expect(harness.core.app.vault.read(HARNESS_GUILD, session)['deployment.1']).toContain(SECRET);
  });

  it('refuses a bad value of every type, naming the input and what it expects, before anything runs', async () => {
    const badStep1 = { enabled: 'maybe', extra: '', labels: '{"team": 1}', name: '', pair: '["blue"]' };
    const first = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'typed-inputs' }, HARNESS_GUILD, { modals: [badStep1, badStep1, badStep1] });
    // The same form comes back twice with what was wrong (and what was typed, for a non-secret), then it stops.
    const forms = modals(first.steps);
    expect(forms).toHaveLength(3);
    expect(forms[1]!.spec.fields.find((f) => f.id === 'enabled')?.value).toBe('maybe');
    const text = said(first.steps);
    expect(text).toContain('`enabled`: expected true or false.');
    expect(text).toContain('`extra`: expected a value (this input has no default).');
    expect(text).toContain('`labels` (key "team"): expected text.');
    expect(text).toContain('`name`: expected a value (this input has no default).');
    expect(text).toContain('`pair`: expected a list of 2 items (string, number), with exactly 2 items.');
    expect(text).toMatch(/Some inputs are not valid; nothing was run/);

    const badStep2 = { ports: '1, x', replicas: 'three', settings: '{"tier": "gold"}', zones: '["a", 2]' };
    const second = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'typed-inputs' }, HARNESS_GUILD, {
      modals: [STEP_1, badStep2, badStep2, badStep2],
    });
    expect(said(second.steps)).toContain('`ports` (item 2): expected a number (such as 3 or 2.5).');
    expect(said(second.steps)).toContain('`replicas`: expected a number (such as 3 or 2.5).');
    expect(said(second.steps)).toContain('`settings` (attribute size): expected a number (such as 3 or 2.5) (it is required).');
    expect(said(second.steps)).toContain('`zones` (item 2): expected text.');

    const nullSecret = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'typed-inputs' }, HARNESS_GUILD, {
      modals: [STEP_1, STEP_2, { db_password: 'null' }, { db_password: 'null' }, { db_password: 'null' }],
    });
    expect(said(nullSecret.steps)).toContain('`db_password`: expected text; a secret input cannot be null');

    expect(await harness.core.app.runner.recentRuns(HARNESS_GUILD)).toEqual([]);
    expect(await harness.core.app.resources.listByGuild(HARNESS_GUILD)).toEqual([]);
  });

  it('gives each deployment its own state and lock: destroying one leaves the other and the project’s built-ins', async () => {
    const hello = (greeting: string) =>
      harness.say(alice, 'cloud-deploy', { project: 'web', template: 'hello' }, HARNESS_GUILD, { modal: { greeting }, buttons: [{ buttonId: 'apply', by: alice }] });
    expect((await hello('first')).text()).toMatch(/Deployed hello #1/);
    expect((await hello('second')).text()).toMatch(/Deployed hello #2/);
    const bucket = await harness.say(alice, 'cloud-deploy', { project: 'web', resource_type: 'bucket', disk_size: 1 }, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: alice }] });
    expect(bucket.text()).toMatch(/Deployed bucket #3/);

    const state = (folder: string) => readFileSync(join(projectDir(), folder, 'terraform.tfstate'), 'utf8');
    expect(state('hello-1')).toMatch(/"input": "\(interpolated\)"/);
    expect(JSON.parse(readFileSync(join(projectDir(), 'hello-2', 'cloud-chatops.auto.tfvars.json'), 'utf8'))).toEqual({ greeting: 'second' });
    // The project's own configuration is the bucket alone.
    const main = readFileSync(join(projectDir(), 'main.tf.json'), 'utf8');
    expect(main).toMatch(/google_storage_bucket/);
    expect(main).not.toMatch(/terraform_data/);

    // Each deployment's outputs come from its own state; the project's from the built-ins'.
    const outputs = await harness.say(alice, 'cloud-outputs', { project: 'web', resource: 2 });
    expect(outputs.text()).toMatch(/Outputs of hello #2 in web/);
    expect(outputs.text()).toContain('hello_id');
    expect((await harness.say(alice, 'cloud-outputs', { project: 'web' })).text()).not.toContain('hello_id');
    expect((await harness.say(alice, 'cloud-outputs', { project: 'web', resource: 3 })).text()).toMatch(/no template deployment #3/);

    const destroyOne = await harness.say(alice, 'cloud-destroy', { project: 'web', resource: 1 }, HARNESS_GUILD, { buttons: [{ buttonId: 'destroy', by: alice }] });
    expect(destroyOne.text()).toMatch(/Destroyed in web/);
    const statuses = async () => Object.fromEntries((await harness.core.app.resources.listByGuild(HARNESS_GUILD)).map((r) => [r.id, r.status]));
    expect(await statuses()).toEqual({ 1: 'destroyed', 2: 'active', 3: 'active' });
    expect(existsSync(join(projectDir(), 'hello-1'))).toBe(false);
    expect(state('hello-2')).toMatch(/terraform_data/);

    // Everything: the built-ins in the project's folder, then each deployment in its own.
    const all = await harness.say(alice, 'cloud-destroy', { project: 'web' }, HARNESS_GUILD, { buttons: [{ buttonId: 'destroy', by: alice }] });
    expect(all.text()).toMatch(/2 resources destroyed/);
    expect(await statuses()).toEqual({ 1: 'destroyed', 2: 'destroyed', 3: 'destroyed' });
    expect(existsSync(join(projectDir(), 'hello-2'))).toBe(false);
  });

  it('runs one deployment while another of the same project plans: each workspace has its own lock', async () => {
    const runner = harness.core.app.runner;
    const project = await harness.core.app.projects.get(HARNESS_GUILD, 'web');
    const create = () =>
      harness.core.app.resources.createTemplateDeployment({ projectId: project.id, guildId: HARNESS_GUILD, template: 'hello', inputs: { greeting: 'hi' }, sensitiveInputs: [], estimatedMonthlyCost: 0, createdBy: alice.id });
    const slow = await create();
    const quick = await create();
    steerEngine(slow.workspace!, { sleepMs: 600_000 });
    const request = { guildId: HARNESS_GUILD, projectSlug: 'web', userId: alice.id, credentialEnv: { TF_VAR_project_id: 'web-project-123' }, enginePreference: 'terraform' as const };
    let slowRun = 0;
    const held = runner.plan({ ...request, resourceId: slow.id, onEvent: (e) => (e.type === 'run_created' ? (slowRun = e.runId) : undefined) });
    const other = await runner.plan({ ...request, resourceId: quick.id });
    expect(other.summary.create).toEqual(['terraform_data.hello']);
    await expect(runner.plan({ ...request, resourceId: slow.id })).rejects.toThrow(/"web\/hello-1" is busy/);
    expect(runner.cancel(HARNESS_GUILD, slowRun)).toBe(true);
    await expect(held).rejects.toThrow(/cancel/i);
  });

  it('asks a deployment’s secret inputs again to destroy it once the vault session has gone, and refuses to destroy everything without them', async () => {
    steerEngine('token-app-1');
    const deployed = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'token-app' }, HARNESS_GUILD, { modal: { api_token: SECRET }, buttons: [{ buttonId: 'apply', by: alice }] });
    expect(deployed.text()).toMatch(/Deployed token-app #1/);
    harness.clock.advanceMinutes(31);
    await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, { modal: { project_id: 'web-project-123' } });

    const everything = await harness.say(alice, 'cloud-destroy', { project: 'web' });
    expect(everything.text()).toMatch(/needs the secret inputs of #1 \(token-app\)/);
    expect(modals(everything.steps)).toEqual([]);

    const again = 'pw-typed-again-42';
    const one = await harness.say(alice, 'cloud-destroy', { project: 'web', resource: 1 }, HARNESS_GUILD, { modal: { api_token: again }, buttons: [{ buttonId: 'destroy', by: alice }] });
    expect(modals(one.steps).map((m) => m.spec.secret)).toEqual([true]);
    expect(one.text()).toMatch(/Destroyed in web/);
    const destroy = invocationLines().find((l) => l.argv[0] === 'destroy');
    expect(destroy?.argv).not.toContain('-target');
    expect(destroy?.env.TF_VAR_api_token).toBe(again);
    // Destroyed: its secret is dropped from the session too.
    const session = (await harness.core.app.projects.get(HARNESS_GUILD, 'web')).vaultSessionId!;
    expect(Object.keys(harness.core.app.vault.read(HARNESS_GUILD, session))).toEqual(['project_id']);
  });

  it('keeps a deployment’s secret in the project’s session when /cloud-init renews it', async () => {
    await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'token-app' }, HARNESS_GUILD, { modal: { api_token: SECRET }, buttons: [{ buttonId: 'apply', by: alice }] });
    await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, { modal: { project_id: 'web-project-456' } });
    const session = (await harness.core.app.projects.get(HARNESS_GUILD, 'web')).vaultSessionId!;
    const held = harness.core.app.vault.read(HARNESS_GUILD, session);
    expect(held.project_id).toBe('web-project-456');
    expect(held['deployment.1']).toContain(SECRET);
    expect(harness.core.app.vault.list(HARNESS_GUILD)).toHaveLength(1);
  });

  it('lets no other guild deploy, or see, a template enabled in this guild', async () => {
    await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, OTHER_GUILD, { modal: { project_id: 'other-project-1' } });
    const reply = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'hello' }, OTHER_GUILD, { modal: { greeting: 'x' } });
    expect(said(reply.steps)).toMatch(/This server has no template "hello"/);
    expect(modals(reply.steps)).toEqual([]);
    const offered = await harness.dispatcher.complete({ guildId: OTHER_GUILD, actor: alice, commandName: 'cloud-deploy', focused: { name: 'template', value: '' }, options: {} });
    expect(offered.map((c) => c.value)).toEqual(['vm', 'bucket']);
    await expect(harness.core.app.templates.get(OTHER_GUILD, 'hello')).rejects.toThrow(TemplateNotFound);
    const ours = await harness.dispatcher.complete({ guildId: HARNESS_GUILD, actor: alice, commandName: 'cloud-deploy', focused: { name: 'template', value: 'hel' }, options: {} });
    expect(ours.map((c) => c.value)).toEqual(['hello']);
  });

  it('refuses a member without Deployer access before any form', async () => {
    const reply = await harness.say(bob, 'cloud-deploy', { project: 'web', template: 'typed-inputs' }, HARNESS_GUILD, { modals: [STEP_1] });
    expect(reply.text()).toMatch(/needs Deployer access/);
    expect(modals(reply.steps)).toEqual([]);
  });

  it('keeps the built-ins’ options for the built-ins, and refuses them for a template', async () => {
    const mixed = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'hello', disk_size: 5 });
    expect(mixed.text()).toMatch(/`disk_size`: is only for the built-in vm and bucket/);
    const disagree = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'vm', resource_type: 'bucket' });
    expect(disagree.text()).toMatch(/disagree/);
    const none = await harness.say(alice, 'cloud-deploy', { project: 'web' });
    expect(none.text()).toMatch(/`template`: choose a template/);
    const viaTemplate = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'bucket', disk_size: 1 }, HARNESS_GUILD, { buttons: [{ buttonId: 'apply', by: alice }] });
    expect(viaTemplate.text()).toMatch(/Deployed bucket #1/);
    expect(await harness.core.app.resources.get(HARNESS_GUILD, 1)).toMatchObject({ template: 'bucket', resourceType: 'bucket', workspace: null });
  });
});

describe('deploying a git template this guild added', () => {
  it('deploys the commit it is pinned to, records it, and another guild cannot deploy it', async () => {
    const repos = makeTempDir('chatops-template-git-');
    const repo = await makeBareRepository(repos.dir, 'modules');
    const module = { variable: { domain: { type: 'string' } }, resource: { terraform_data: { site: { input: '${var.domain}' } } } };
    const commit = await repo.commit({ 'site/main.tf.json': JSON.stringify(module) });
    const harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN, TEMPLATES_FROM_GUILDS: 'true' }, [], { templateGit: localGitTransport(repos.dir) });
    try {
      for (const guild of [HARNESS_GUILD, OTHER_GUILD]) {
        await harness.say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, guild, { modal: { project_id: 'web-project-123' } });
      }
      expect((await harness.say(alice, 'cloud-template', { subcommand: 'add', name: 'site', url: repo.url, subdir: 'site' })).text()).toContain(commit);

      const deployed = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'site' }, HARNESS_GUILD, { modal: { domain: 'example.org' }, buttons: [{ buttonId: 'apply', by: alice }] });
      expect(deployed.text()).toMatch(/Deployed site #1 in web/);
      expect(await harness.core.app.resources.get(HARNESS_GUILD, 1)).toMatchObject({ template: 'site', templateRevision: commit, inputs: { domain: 'example.org' } });
      const folder = join(harness.dir, 'deployments', `guild_${HARNESS_GUILD}`, 'web', 'site-1');
      expect(JSON.parse(readFileSync(join(folder, 'main.tf.json'), 'utf8'))).toEqual(module);

      const elsewhere = await harness.say(alice, 'cloud-deploy', { project: 'web', template: 'site' }, OTHER_GUILD, { modal: { domain: 'x.org' } });
      expect(said(elsewhere.steps)).toMatch(/This server has no template "site"/);
      expect(modals(elsewhere.steps)).toEqual([]);
      expect(await harness.core.app.resources.listByGuild(OTHER_GUILD)).toEqual([]);
    } finally {
      await harness.stop();
      repos.cleanup();
    }
  });
});
