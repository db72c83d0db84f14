/**
 * The operator's catalogue: every folder of TEMPLATES_DIR with *.tf files, pinned by digest at start-up, offered
 * to a guild once an admin enables it there; and the console, which runs /cloud-template like Discord does.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { TemplateChanged, TemplateNotFound } from '../src/templates/errors.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { ConsoleDriver } from './support/console-driver.js';
import { makeTempDir } from './support/tmp.js';

const GUILD_B = '222222222222222222';
const admin: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: true };
const member: Actor = { id: '300000000000000002', displayName: 'bob', isBot: false, isGuildAdmin: false };

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TEMPLATES_DIR with a good template, one with a provisioner, a folder named like a built-in and a docs folder. */
function operatorFolder(): string {
  const { dir, cleanup } = makeTempDir('chatops-operator-');
  cleanups.push(cleanup);
  const files: Record<string, string> = {
    'static-site/main.tf': 'variable "domain" {\n  type        = string\n  description = "The site’s domain"\n}\nvariable "api_token" {\n  type      = string\n  sensitive = true\n}\nresource "terraform_data" "site" {\n  input = var.domain\n}\n',
    'static-site/files/index.html': '<h1>hello</h1>',
    'runner/main.tf': 'resource "terraform_data" "r" {\n  provisioner "local-exec" {\n    command = "id"\n  }\n}\n',
    'vm/main.tf': 'variable "x" {}\n',
    'docs/README.md': 'not a template',
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('operator templates', () => {
  it('are read at start-up, offered to a guild only once an admin enables them there, and copied as pinned', async () => {
    const dir = operatorFolder();
    const harness = await startAppHarness({ TEMPLATES_DIR: dir });
    cleanups.push(() => harness.stop());
    const { templates } = harness.core.app;
    expect(harness.logs()).toContain('TEMPLATES_DIR: template left out');
    expect(harness.logs()).toContain('templates.forbidden');
    expect(harness.logs()).toContain('folder skipped');

    expect((await templates.list(HARNESS_GUILD)).map((t) => t.name)).toEqual(['vm', 'bucket']);
    await expect(templates.get(HARNESS_GUILD, 'static-site')).rejects.toThrow(TemplateNotFound);
    const listed = (await harness.say(admin, 'cloud-template', { subcommand: 'list' })).text();
    expect(listed).toContain('not enabled here: `static-site`');
    expect(listed).not.toContain('runner');

    const complete = (subcommand: string) =>
      harness.dispatcher.complete({ guildId: HARNESS_GUILD, actor: admin, commandName: 'cloud-template', focused: { name: 'name', value: 'sta' }, options: { subcommand } });
    expect(await complete('enable')).toEqual([{ name: 'static-site (operator catalogue, 2 inputs)', value: 'static-site' }]);
    expect(await complete('disable')).toEqual([]);

    const enabled = await harness.say(admin, 'cloud-template', { subcommand: 'enable', name: 'static-site' });
    expect(enabled.text()).toContain('**static-site** is enabled');
    const site = await templates.get(HARNESS_GUILD, 'static-site');
    expect(site).toMatchObject({ source: 'operator', guildId: null });
    expect(site.pinnedRevision).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(site.variables.map((v) => [v.name, v.sensitive])).toEqual([['api_token', true], ['domain', false]]);
    expect(await complete('enable')).toEqual([]);
    expect((await complete('disable')).map((choice) => choice.value)).toEqual(['static-site']);
    // Another guild has not enabled it: not offered there.
    await expect(templates.get(GUILD_B, 'static-site')).rejects.toThrow(TemplateNotFound);
    await expect(templates.materialise(GUILD_B, 'static-site', join(harness.dir, 'ws-b'))).rejects.toThrow(TemplateNotFound);

    const workspace = join(harness.dir, 'ws-a');
    await templates.materialise(HARNESS_GUILD, 'static-site', workspace);
    expect(readFileSync(join(workspace, 'files', 'index.html'), 'utf8')).toBe('<h1>hello</h1>');

    // The operator edits the folder while the bot runs: the next run is refused until a restart pins it again.
    writeFileSync(join(dir, 'static-site', 'main.tf'), `${readFileSync(join(dir, 'static-site', 'main.tf'), 'utf8')}\n# edited\n`);
    const changed = await templates.materialise(HARNESS_GUILD, 'static-site', join(harness.dir, 'ws-c')).catch((error: unknown) => error);
    expect(changed).toBeInstanceOf(TemplateChanged);
    expect((changed as TemplateChanged).operatorNote).toContain('restart the bot');
    expect(existsSync(join(harness.dir, 'ws-c'))).toBe(false);

    const removal = await harness.say(admin, 'cloud-template', { subcommand: 'remove', name: 'static-site' });
    expect(removal.text()).toContain('belongs to the bot’s operator');
    const disabled = await harness.say(admin, 'cloud-template', { subcommand: 'disable', name: 'static-site' });
    expect(disabled.text()).toContain('is disabled');
    await expect(templates.get(HARNESS_GUILD, 'static-site')).rejects.toThrow(TemplateNotFound);
    expect((await harness.core.app.audit.recent(HARNESS_GUILD, { action: 'template.enable' }))[0]).toMatchObject({ outcome: 'success', target: 'static-site', userId: admin.id });
  });

  it('keep their enablement across restarts, pinned again to the files found then; a folder gone is hidden', async () => {
    const dir = operatorFolder();
    const { dir: data, cleanup } = makeTempDir('chatops-restart-');
    cleanups.push(cleanup);
    const env = { TEMPLATES_DIR: dir, DATABASE_PATH: join(data, 'db.sqlite'), DEPLOYMENTS_DIR: join(data, 'deployments') };
    const first = await startAppHarness(env);
    await first.say(admin, 'cloud-template', { subcommand: 'enable', name: 'static-site' });
    const pinned = (await first.core.app.templates.get(HARNESS_GUILD, 'static-site')).pinnedRevision;
    await first.stop();

    writeFileSync(join(dir, 'static-site', 'extra.tf'), 'variable "region" {\n  default = "eu"\n}\n');
    const second = await startAppHarness(env);
    const repinned = await second.core.app.templates.get(HARNESS_GUILD, 'static-site');
    expect(repinned.pinnedRevision).not.toBe(pinned);
    expect(repinned.variables.map((v) => v.name)).toContain('region');
    expect(second.logs()).toContain('operator template changed since the last start');
    await second.stop();

    const third = await startAppHarness({ ...env, TEMPLATES_DIR: '' });
    cleanups.push(() => third.stop());
    await expect(third.core.app.templates.get(HARNESS_GUILD, 'static-site')).rejects.toThrow(TemplateNotFound);
  });

  it('refuse to start when TEMPLATES_DIR is not a folder', async () => {
    await expect(startAppHarness({ TEMPLATES_DIR: '/nonexistent/templates' })).rejects.toThrow('TEMPLATES_DIR cannot be used: /nonexistent/templates is not a folder');
  });

  it('are shown to members and changed only by admins', async () => {
    const harness = await startAppHarness({ TEMPLATES_DIR: operatorFolder() });
    cleanups.push(() => harness.stop());
    const shown = (await harness.say(member, 'cloud-template', { subcommand: 'show', name: 'static-site' })).text();
    expect(shown).toContain('operator catalogue (not enabled here)');
    expect(shown).toContain('`api_token`: `string` · required · sensitive (asked privately)');
    expect((await harness.say(member, 'cloud-template', { subcommand: 'enable', name: 'static-site' })).text()).toContain('needs the Manage Server permission');
    expect((await harness.core.app.templates.list(HARNESS_GUILD)).map((t) => t.name)).toEqual(['vm', 'bucket']);
  });
});

describe('the console', () => {
  it('runs /cloud-template like Discord: list, enable, show, and a member refused', async () => {
    const driver = new ConsoleDriver({ argv: ['--user', 'alice', '--admin'], env: { TEMPLATES_DIR: operatorFolder() } });
    cleanups.push(() => driver.close());
    await driver.waitFor('You are @alice (server admin)');
    expect(await driver.run('/help cloud-template', 'disable')).toContain('/cloud-template add name:');
    expect(await driver.run('/cloud-template list', '└─')).toContain('not enabled here: `static-site`');
    expect(await driver.run('/cloud-template enable name:static-site', 'enabled')).toContain('static-site is enabled');
    const shown = await driver.run('/cloud-template show name:static-site', '└─');
    expect(shown).toContain('`domain`: `string` · required');
    expect(shown).toContain('sha256:');
    await driver.run('/as bob', 'You are now @bob (member)');
    expect(await driver.run('/cloud-template disable name:static-site', '⛔')).toContain('needs the Manage Server permission');
    expect(await driver.run('/cloud-template list', '└─')).toContain('static-site (operator catalogue');
    await driver.quit();
  });
});
