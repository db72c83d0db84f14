/**
 * The console runs a template's deployment as Discord does: each form becomes hidden prompts, with what each input
 * expects printed above it; a wrong value brings the step's prompts back. The template is the operator's
 * (TEMPLATES_DIR), enabled with /cloud-template enable.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleDriver } from './support/console-driver.js';

const TEMPLATES = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/templates');
const SECRET = 'pw-console-Lk77-hidden';

let driver: ConsoleDriver | undefined;
afterEach(async () => {
  await driver?.close();
  driver = undefined;
});

/** Every file under `dir` that holds `needle`, but the stand-in engine's own log of what it was given (a test artefact). */
function filesHolding(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((entry) => !entry.endsWith('.fake-engine-invocations.jsonl'))
    .filter((entry) => statSync(join(dir, entry)).isFile() && readFileSync(join(dir, entry)).toString('latin1').includes(needle));
}

describe('a template deployment in the console', () => {
  it('asks each step as hidden prompts saying what every input expects, re-asks a wrong step, deploys, and shows the secret nowhere', async () => {
    const shell = (driver = new ConsoleDriver({ argv: ['--user', 'alice', '--admin'], env: { TEMPLATES_DIR: TEMPLATES } }));
    await shell.waitFor('You are @alice');
    await shell.run('/cloud-template enable name:typed-inputs', 'enabled');
    await shell.run('/cloud-init provider:gcp project_name:web region:us-central1', 'GCP project id [hidden]: ');
    await shell.run('web-project-123', '[hidden]: ');
    await shell.run('', 'Secure cloud project initialised');

    const first = await shell.run('/cloud-deploy project:web template:typed-inputs', 'enabled [hidden]: ');
    expect(first).toContain('📝 typed-inputs inputs (1/3) — a private form for @alice. What you type is hidden as you type it');
    await shell.run('maybe', 'extra [hidden]: ');
    await shell.run('null', 'labels [hidden]: ');
    await shell.run('team=web', 'name: What to call it — text');
    await shell.run('web-app', 'pair [hidden]: ');
    // The step comes back, saying what was wrong.
    const again = await shell.run('x, 1', 'enabled [hidden]: ');
    expect(again).toContain('`enabled`: expected true or false.');
    for (const [value, next] of [['true', 'extra'], ['null', 'labels'], ['team=web', 'name'], ['web-app', 'pair'], ['x, 1', 'ports']] as const) {
      await shell.run(value, `${next} [hidden]: `);
    }
    await shell.run('80', 'replicas [hidden]: ');
    await shell.run('3', 'settings [hidden]: ');
    await shell.run('{"size": 1}', 'zones [hidden]: ');
    const secretStep = await shell.run('a, b', 'db_password [hidden]: ');
    expect(secretStep).toContain('typed-inputs secrets (3/3) — a private form for @alice. What you type is hidden and never kept');
    const plan = await shell.run(SECRET, '[1] Apply  [2] Cancel');
    expect(plan).toMatch(/Plan for web: typed-inputs #1/);
    shell.send('1');
    const applied = await shell.settle();
    expect(applied).toMatch(/Deployed typed-inputs #1 in web/);
    const projects = await shell.run('/cloud-projects', '└─');
    expect(projects).toMatch(/#1 template typed-inputs — active \(db_password=\(secret\), enabled=true, extra=null, labels=\{"team":"web"\}, name="web-app"/);
    await shell.quit();

    expect(shell.transcript).not.toContain(SECRET);
    expect(shell.logs).not.toContain(SECRET);
    expect(shell.databaseBytes()).not.toContain(SECRET);
    expect(filesHolding(shell.root, SECRET)).toEqual([]);
    // …while the engine did get it, in its environment.
    const log = readdirSync(shell.root, { recursive: true, encoding: 'utf8' }).find((entry) => entry.endsWith('typed-inputs-1/.fake-engine-invocations.jsonl'));
    expect(readFileSync(join(shell.root, log!), 'utf8')).toContain(`"TF_VAR_db_password":"${SECRET}"`);
  });
});
