/**
 * Templates from git, end to end through /cloud-template on the real core: a local bare repository (through the
 * test-only transport), the commit pinned at add and kept until update, the bot's own store, refusals (missing ref,
 * forbidden blocks, links, non-admins), and guilds that cannot see each other's templates.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { ForbiddenModule, ModuleBackendRefused, TemplateChanged, TemplateNotFound } from '../src/templates/errors.js';
import { digestOf, type ModuleFile } from '../src/templates/module-files.js';
import { templateRepositoryFor } from '../src/templates/template-repository.js';
import { TemplateStore, templateStoreDir } from '../src/templates/template-store.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { localGitTransport, makeBareRepository, type BareRepository } from './support/git-repos.js';
import { makeTempDir } from './support/tmp.js';

const GUILD_B = '222222222222222222';
const GUILD_C = '333333333333333333';
const GUILD_D = '444444444444444444';
const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const member: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };
const adminB: Actor = { id: '300000000000000003', displayName: 'carol', isBot: false, isGuildAdmin: true };

const WEB_V1 = `
variable "name" {
  type        = string
  description = "What to call the server"
}
variable "size_gb" {
  type    = number
  default = 20
}
variable "db_password" {
  type      = string
  sensitive = true
}
resource "terraform_data" "web" {
  input = var.name
}
`;
const WEB_V2 = `${WEB_V1}
variable "replicas" {
  type    = number
  default = 1
}
`;

let repos: { dir: string; cleanup: () => void };
let repo: BareRepository;
let harness: Awaited<ReturnType<typeof startAppHarness>>;
let commit1: string;

const template = (guildId: string, options: Record<string, string>, actor = admin) => harness.say(actor, 'cloud-template', options, guildId);

beforeAll(async () => {
  repos = makeTempDir('chatops-repos-');
  repo = await makeBareRepository(repos.dir, 'modules');
  commit1 = await repo.commit({ 'web/main.tf': WEB_V1, 'web/README.md': 'A web server.', 'other/main.tf': 'variable "x" {}\n' }, { tag: 'v1' });
  harness = await startAppHarness({ TEMPLATES_FROM_GUILDS: 'true' }, [], { templateGit: localGitTransport(repos.dir) });
}, 60_000);

afterAll(async () => {
  await harness?.stop();
  repos?.cleanup();
});

function storedCommits(guildId: string, templateId: number): string[] {
  const folder = join(harness.dir, 'templates', `guild_${guildId}`, `template_${templateId}`);
  return existsSync(folder) ? readdirSync(folder) : [];
}

function materialised(directory: string): Record<string, string> {
  return Object.fromEntries(readdirSync(directory).filter((name) => !name.startsWith('.')).map((name) => [name, readFileSync(join(directory, name), 'utf8')]));
}

describe('a template from git', () => {
  it('is added by an admin, pinned to the commit its ref points to, and shown with its inputs and that commit', async () => {
    const added = await template(HARNESS_GUILD, { subcommand: 'add', name: 'Web', url: repo.url, subdir: 'web', ref: 'main', description: 'A small web server' });
    expect(added.steps[0]).toEqual({ kind: 'defer', ephemeral: true });
    expect(added.text()).toContain('Template web added');
    expect(added.text()).toContain(commit1);

    const shown = (await template(HARNESS_GUILD, { subcommand: 'show', name: 'web' }, member)).text();
    expect(shown).toContain(commit1);
    expect(shown).toContain('`name`: `string` · required');
    expect(shown).toContain('What to call the server');
    expect(shown).toContain('`size_gb`: `number` · default `20`');
    expect(shown).toContain('`db_password`: `string` · required · sensitive (asked privately)');
    expect(shown).toContain(repo.url);

    const listed = (await template(HARNESS_GUILD, { subcommand: 'list' }, member)).text();
    for (const name of ['**vm**', '**bucket**', '**web**']) expect(listed).toContain(name);

    const web = await harness.core.app.templates.get(HARNESS_GUILD, 'web');
    expect(web).toMatchObject({ source: 'git', pinnedRevision: commit1, gitRef: 'main', gitSubdir: 'web', guildId: HARNESS_GUILD });
    // The bot's own store: owner-only, outside the deployments tree.
    expect(storedCommits(HARNESS_GUILD, web.id)).toEqual([commit1]);
    const stored = join(harness.dir, 'templates', `guild_${HARNESS_GUILD}`, `template_${web.id}`, commit1);
    expect(statSync(stored).mode & 0o777).toBe(0o700);
    expect(statSync(join(stored, 'main.tf')).mode & 0o777).toBe(0o600);
    expect(stored.startsWith(join(harness.dir, 'deployments'))).toBe(false);

    const entry = (await harness.core.app.audit.recent(HARNESS_GUILD, { action: 'template.add' }))[0];
    expect(entry).toMatchObject({ outcome: 'success', target: 'web', userId: admin.id, details: { commit: commit1, subdir: 'web', ref: 'main', inputs: 3 } });
  });

  it('deploys exactly the pinned commit until an admin updates it, and update pins what the ref points to now', async () => {
    const commit2 = await repo.commit({ 'web/main.tf': WEB_V2 });
    const workspace = join(harness.dir, 'workspace-a');
    await harness.core.app.templates.materialise(HARNESS_GUILD, 'web', workspace);
    expect(materialised(workspace)).toEqual({ 'main.tf': WEB_V1, 'README.md': 'A web server.' });

    const updated = await template(HARNESS_GUILD, { subcommand: 'update', name: 'web' });
    expect(updated.text()).toContain('Template web updated');
    expect(updated.text()).toContain(commit2);
    expect(updated.text()).toContain('new inputs: `replicas`');
    const web = await harness.core.app.templates.get(HARNESS_GUILD, 'web');
    expect(web.pinnedRevision).toBe(commit2);
    expect(storedCommits(HARNESS_GUILD, web.id)).toEqual([commit2]);
    await harness.core.app.templates.materialise(HARNESS_GUILD, 'web', workspace);
    expect(materialised(workspace)['main.tf']).toBe(WEB_V2);

    const again = await template(HARNESS_GUILD, { subcommand: 'update', name: 'web' });
    expect(again.text()).toContain('already at the commit');

    // A new ref becomes the template's ref: the tag still points at the first commit.
    const back = await template(HARNESS_GUILD, { subcommand: 'update', name: 'web', ref: 'v1' });
    expect(back.text()).toContain(commit1);
    expect(await harness.core.app.templates.get(HARNESS_GUILD, 'web')).toMatchObject({ pinnedRevision: commit1, gitRef: 'v1' });
    expect((await harness.core.app.audit.recent(HARNESS_GUILD, { action: 'template.update' }))[0]).toMatchObject({ outcome: 'success', details: { from: commit2, to: commit1, ref: 'v1' } });
  });

  it('checks the stored copy before every run: altered files are refused, nothing is written', async () => {
    const web = await harness.core.app.templates.get(HARNESS_GUILD, 'web');
    const stored = join(harness.dir, 'templates', `guild_${HARNESS_GUILD}`, `template_${web.id}`, web.pinnedRevision ?? '');
    const original = readFileSync(join(stored, 'main.tf'));
    writeFileSync(join(stored, 'main.tf'), 'resource "terraform_data" "x" {\n  provisioner "local-exec" { command = "id" }\n}\n');
    const workspace = join(harness.dir, 'workspace-tampered');
    const refused = await harness.core.app.templates.materialise(HARNESS_GUILD, 'web', workspace).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TemplateChanged);
    expect((refused as TemplateChanged).operatorNote).toContain('missing or altered');
    expect(existsSync(workspace)).toBe(false);
    writeFileSync(join(stored, 'main.tf'), original);
    await expect(harness.core.app.templates.materialise(HARNESS_GUILD, 'web', workspace)).resolves.toBeUndefined();
  });

  it('is refused with what was wrong when the ref or the folder does not exist, and nothing is stored', async () => {
    const noRef = await template(HARNESS_GUILD, { subcommand: 'add', name: 'ghost', url: repo.url, ref: 'no-such-branch' });
    expect(noRef.text()).toContain('The repository has no branch, tag or commit `no-such-branch`');
    const noFolder = await template(HARNESS_GUILD, { subcommand: 'add', name: 'ghost', url: repo.url, subdir: 'nowhere' });
    expect(noFolder.text()).toContain('has no folder `nowhere`');
    const badRef = await template(HARNESS_GUILD, { subcommand: 'add', name: 'ghost', url: repo.url, ref: '--upload-pack=touch /tmp/x' });
    expect(badRef.text()).toContain('`ref`: a branch, tag or commit');
    await expect(harness.core.app.templates.get(HARNESS_GUILD, 'ghost')).rejects.toThrow(TemplateNotFound);
    expect((await harness.core.app.audit.recent(HARNESS_GUILD, { action: 'template.add' }))[0]).toMatchObject({ outcome: 'failed', details: { code: 'options.invalid' } });
  });

  it('refuses a module with forbidden blocks or a symbolic link, and a name already taken', async () => {
    await repo.commit({ 'evil/main.tf': 'data "external" "env" {\n  program = ["cat", "/proc/self/environ"]\n}\n', 'linked/main.tf': 'variable "x" {}\n', 'linked/secrets.tf': { link: '/etc/passwd' } });
    const evil = await template(HARNESS_GUILD, { subcommand: 'add', name: 'evil', url: repo.url, subdir: 'evil' });
    expect(evil.text()).toContain('could run commands or reach files on the bot’s host');
    expect(evil.text()).toContain('data \\"external\\" \\"env\\" uses the external provider');
    const linked = await template(HARNESS_GUILD, { subcommand: 'add', name: 'linked', url: repo.url, subdir: 'linked' });
    expect(linked.text()).toContain('`secrets.tf` is a symbolic link');
    const builtin = await template(HARNESS_GUILD, { subcommand: 'add', name: 'vm', url: repo.url, subdir: 'other' });
    expect(builtin.text()).toContain('already the name of a built-in template');
    const taken = await template(HARNESS_GUILD, { subcommand: 'add', name: 'web', url: repo.url, subdir: 'other' });
    expect(taken.text()).toContain('already the name of a template of this server');
    expect((await harness.core.app.templates.list(HARNESS_GUILD)).map((t) => t.name)).toEqual(['vm', 'bucket', 'web']);
  });

  it('refuses a module with a state backend of its own at add and at update, naming the file; the pin stays', async () => {
    const ownState = 'terraform {\n  backend "s3" {\n    bucket = "elsewhere"\n  }\n}\n';
    await repo.commit({ 'stateful/main.tf': 'variable "x" {}\n', 'stateful/state.tf': ownState, 'moving/main.tf': 'variable "x" {}\n' });
    const added = await template(GUILD_D, { subcommand: 'add', name: 'stateful', url: repo.url, subdir: 'stateful' });
    expect(added.text()).toContain('`state.tf` has a `backend \\"s3\\"` block');
    expect(added.text()).toContain('The bot chooses the state backend per project');
    await expect(harness.core.app.templates.get(GUILD_D, 'stateful')).rejects.toThrow(TemplateNotFound);
    expect((await harness.core.app.audit.recent(GUILD_D, { action: 'template.add' }))[0]).toMatchObject({ outcome: 'failed', details: { code: 'templates.own_backend' } });

    expect((await template(GUILD_D, { subcommand: 'add', name: 'moving', url: repo.url, subdir: 'moving' })).text()).toContain('Template moving added');
    const pinned = (await harness.core.app.templates.get(GUILD_D, 'moving')).pinnedRevision;
    await repo.commit({ 'moving/cloud.tf.json': JSON.stringify({ terraform: { cloud: { organization: 'acme' } } }) });
    const updated = await template(GUILD_D, { subcommand: 'update', name: 'moving' });
    expect(updated.text()).toContain('`cloud.tf.json` has a `cloud` block');
    expect((await harness.core.app.templates.get(GUILD_D, 'moving')).pinnedRevision).toBe(pinned);
    await expect(harness.core.app.templates.materialise(GUILD_D, 'moving', join(harness.dir, 'workspace-moving'))).resolves.toBeUndefined();
  });

  it('refuses, before a run, a template with its own backend pinned by a bot that did not check for one yet', async () => {
    // What an older version stored, written as it would have: the row and the files, its digest pinned.
    const files: ModuleFile[] = [{ path: 'main.tf.json', bytes: Buffer.from(JSON.stringify({ terraform: { backend: { gcs: { bucket: 'elsewhere' } } }, resource: { terraform_data: { x: {} } } })) }];
    const config = harness.core.app.config;
    const repository = templateRepositoryFor(harness.core.app.data.session, harness.clock);
    const legacy = await repository.insertGit({ guildId: GUILD_D, name: 'legacy', gitUrl: repo.url, gitSubdir: '', gitRef: 'HEAD', pinnedRevision: 'a'.repeat(40), filesDigest: digestOf(files), variables: [], createdBy: admin.id });
    new TemplateStore(templateStoreDir(config), [config.DEPLOYMENTS_DIR]).save(GUILD_D, legacy.id, 'a'.repeat(40), files);

    const workspace = join(harness.dir, 'workspace-legacy');
    const refused = await harness.core.app.templates.materialise(GUILD_D, 'legacy', workspace).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ModuleBackendRefused);
    expect((refused as Error).message).toContain('main.tf.json has a backend "gcs" block');
    expect(existsSync(workspace)).toBe(false);
  });

  it('is invisible and unusable from another guild, exactly like a missing one', async () => {
    const fromB = await template(GUILD_B, { subcommand: 'show', name: 'web' }, adminB);
    const fromC = await template(GUILD_C, { subcommand: 'show', name: 'web' }, adminB);
    expect(fromB.text()).toContain('This server has no template \\"web\\"');
    expect(fromB.steps).toEqual(fromC.steps);
    expect((await harness.core.app.templates.list(GUILD_B)).map((t) => t.name)).toEqual(['vm', 'bucket']);
    for (const subcommand of ['update', 'remove']) {
      expect((await template(GUILD_B, { subcommand, name: 'web' }, adminB)).steps.at(-1)).toEqual((await template(GUILD_C, { subcommand, name: 'web' }, adminB)).steps.at(-1));
    }
    const missing = await harness.core.app.templates.materialise(GUILD_B, 'web', join(harness.dir, 'workspace-b')).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(TemplateNotFound);
    expect((missing as Error).message).toBe(new TemplateNotFound('web').message);
    expect(existsSync(join(harness.dir, 'workspace-b'))).toBe(false);

    // Names are per guild: B adds its own "web", pinned on its own.
    const added = await template(GUILD_B, { subcommand: 'add', name: 'web', url: repo.url, subdir: 'other' }, adminB);
    expect(added.text()).toContain('Template web added');
    expect((await harness.core.app.templates.get(GUILD_B, 'web')).variables.map((v) => v.name)).toEqual(['x']);
    expect((await harness.core.app.templates.get(HARNESS_GUILD, 'web')).variables.map((v) => v.name)).toContain('db_password');
  });

  it('refuses a member without Manage Server every change, audited; list and show stay open', async () => {
    const before = await harness.core.app.templates.get(HARNESS_GUILD, 'web');
    const changes: Array<Record<string, string>> = [
      { subcommand: 'add', name: 'mine', url: repo.url, subdir: 'other' },
      { subcommand: 'update', name: 'web' },
      { subcommand: 'remove', name: 'web' },
      { subcommand: 'enable', name: 'web' },
      { subcommand: 'disable', name: 'web' },
    ];
    for (const options of changes) {
      const refused = await template(HARNESS_GUILD, options, member);
      expect(refused.text(), options.subcommand).toContain('needs the Manage Server permission');
      expect((await harness.core.app.audit.recent(HARNESS_GUILD, { userId: member.id, limit: 1 }))[0]).toMatchObject({ action: `template.${options.subcommand ?? ''}`, outcome: 'denied' });
    }
    expect(await harness.core.app.templates.get(HARNESS_GUILD, 'web')).toEqual(before);
    await expect(harness.core.app.templates.get(HARNESS_GUILD, 'mine')).rejects.toThrow(TemplateNotFound);
  });

  it('is removed with its stored files, and is then not found', async () => {
    const web = await harness.core.app.templates.get(HARNESS_GUILD, 'web');
    const removed = await template(HARNESS_GUILD, { subcommand: 'remove', name: 'web' });
    expect(removed.text()).toContain('Template **web** removed');
    expect(storedCommits(HARNESS_GUILD, web.id)).toEqual([]);
    await expect(harness.core.app.templates.get(HARNESS_GUILD, 'web')).rejects.toThrow(TemplateNotFound);
    expect((await template(HARNESS_GUILD, { subcommand: 'show', name: 'web' })).text()).toContain('This server has no template');
    const builtin = await template(HARNESS_GUILD, { subcommand: 'remove', name: 'vm' });
    expect(builtin.text()).toContain('built into the bot');
    expect((await harness.core.app.audit.recent(HARNESS_GUILD, { action: 'template.remove', limit: 2 })).map((entry) => entry.outcome)).toEqual(['failed', 'success']);
  });
});

describe('where git templates may come from', () => {
  it('are refused when the operator has not turned templates from guilds on', async () => {
    const off = await startAppHarness({}, [], { templateGit: localGitTransport(repos.dir) });
    try {
      const refused = await off.say(admin, 'cloud-template', { subcommand: 'add', name: 'web', url: repo.url, subdir: 'web' });
      expect(refused.text()).toContain('has not turned on templates from git');
      expect(off.logs()).toContain('TEMPLATES_FROM_GUILDS=true');
    } finally {
      await off.stop();
    }
  });

  it('are fetched over https only, from the listed hosts only, with the production transport', async () => {
    const production = await startAppHarness({ TEMPLATES_FROM_GUILDS: 'true', TEMPLATE_GIT_HOSTS: 'git.example.com' });
    const none = await startAppHarness({ TEMPLATES_FROM_GUILDS: 'true' });
    try {
      const add = (url: string, on = production) => on.say(admin, 'cloud-template', { subcommand: 'add', name: 'web', url });
      expect((await add(repo.url)).text()).toContain('only https:// repository addresses are accepted');
      expect((await add('ext::sh -c touch% /tmp/pwned')).text()).toContain('only https:// repository addresses');
      expect((await add('https://evil.example.org/acme/modules.git')).text()).toContain('`evil.example.org` is not one of the git hosts the bot’s operator allows (git.example.com)');
      expect((await add('https://user:token@git.example.com/acme/modules.git')).text()).toContain('must not contain a user name or password');
      expect((await add('https://git.example.com/')).text()).toContain('names no repository');
      expect((await add('https://git.example.com/acme/modules.git', none)).text()).toContain('allows no git host');
      expect(none.logs()).toContain('TEMPLATE_GIT_HOSTS lists the hosts');
    } finally {
      await production.stop();
      await none.stop();
    }
  });

  it('checks forbidden content again before every run: a template accepted while allowed is refused once it is not', async () => {
    const { dir, cleanup } = makeTempDir('chatops-allow-');
    const env = { TEMPLATES_FROM_GUILDS: 'true', DATABASE_PATH: join(dir, 'db.sqlite'), DEPLOYMENTS_DIR: join(dir, 'deployments') };
    try {
      await repo.commit({ 'hooks/main.tf': 'resource "terraform_data" "h" {\n  provisioner "local-exec" {\n    command = "id"\n  }\n}\n' });
      const allowed = await startAppHarness({ ...env, TEMPLATE_ALLOW_HOST_ACCESS: 'true' }, [], { templateGit: localGitTransport(repos.dir) });
      expect(allowed.logs()).toContain('TEMPLATE_ALLOW_HOST_ACCESS=true');
      expect((await allowed.say(admin, 'cloud-template', { subcommand: 'add', name: 'hooks', url: repo.url, subdir: 'hooks' })).text()).toContain('Template hooks added');
      await allowed.core.app.templates.materialise(HARNESS_GUILD, 'hooks', join(dir, 'ws-1'));
      await allowed.stop();

      const strict = await startAppHarness(env, [], { templateGit: localGitTransport(repos.dir) });
      try {
        const refused = await strict.core.app.templates.materialise(HARNESS_GUILD, 'hooks', join(dir, 'ws-2')).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(ForbiddenModule);
        expect(existsSync(join(dir, 'ws-2'))).toBe(false);
      } finally {
        await strict.stop();
      }
    } finally {
      cleanup();
    }
  });

  it('cannot reach a store inside the deployments folder', async () => {
    const { dir, cleanup } = makeTempDir('chatops-overlap-');
    try {
      mkdirSync(join(dir, 'deployments'), { recursive: true });
      await expect(startAppHarness({ DEPLOYMENTS_DIR: join(dir, 'deployments'), TEMPLATE_STORE_DIR: join(dir, 'deployments', 'templates') })).rejects.toThrow(
        /TEMPLATE_STORE_DIR cannot be used: .* overlap/,
      );
    } finally {
      cleanup();
    }
  });
});
