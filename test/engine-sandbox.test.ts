/**
 * The engine sandbox, proved with the real Terraform (on PATH; skipped, saying so, where there is none): a module
 * whose `local-exec` provisioner looks for another guild's workspace, the database file and the bot's environment
 * (its /proc entry, and every /proc/<pid>/environ for DISCORD_TOKEN), and writes what it found into its own
 * workspace. Sandboxed it finds none of them; the same module with the sandbox off finds all of them, which shows
 * the test can fail. The bot is a real process with the secrets in its environment (test/support/sandbox-host.ts).
 */
import { execa, execaSync } from 'execa';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.js';
import { REPO_ROOT } from './support/bot-process.js';
import { hasRealTerraform } from './support/real-terraform.js';
import { makeTempDir } from './support/tmp.js';

const BOT_TOKEN = 'discord-token-sandbox-test-0123456789';
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_GUILD_SECRET = 'other-guild-state-secret-42';

/** The bot (this test's child) runs at this test's priority; engines 10 steps lower. */
const ENGINE_NICE = Math.min(19, getPriority() + 10);

const tmp = makeTempDir('chatops-sandbox-');
afterAll(() => tmp.cleanup());

/** The provisioner: each thing it can reach is written to findings.txt in its own working folder. */
const SNOOP = [
  'found=""',
  '[ -r main.tf.json ] && found="$found own-workspace"',
  'cat "$OTHER_STATE" 2>/dev/null | grep -q "$OTHER_SECRET" && found="$found other-workspace"',
  'touch "$OTHER_DIR/planted" 2>/dev/null && found="$found wrote-other-workspace"',
  'head -c 15 "$DATABASE" 2>/dev/null | grep -q "SQLite format" && found="$found database"',
  'ls -A "$DEPLOYMENTS" 2>/dev/null | grep -q "^guild_" && found="$found guild-folders-listed"',
  'bot=$(cat bot.pid)',
  'tr "\\0" "\\n" < /proc/$bot/environ 2>/dev/null | grep -q "^DISCORD_TOKEN=" && found="$found bot-environ"',
  'for f in /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$f" 2>/dev/null | grep -q "^DISCORD_TOKEN=" && found="$found token-in-$f"; done',
  'grep -q "^CapEff:[[:space:]]*0*$" /proc/self/status || found="$found capabilities"',
  'head -c 1 /etc/shadow >/dev/null 2>&1 && found="$found etc-shadow"',
  'found="$found nice:$(cut -d " " -f 19 /proc/self/stat)"',
  'echo "$found" > findings.txt',
].join('\n');

interface Layout {
  deployments: string;
  database: string;
  workspace: string;
  otherDir: string;
}

/** Two guilds' workspaces under one deployments root, and a real database beside them. */
function layout(name: string): Layout {
  const root = join(tmp.dir, name);
  const deployments = join(root, 'deployments');
  const workspace = join(deployments, 'guild_111111111111111111', 'snoop');
  const otherDir = join(deployments, 'guild_222222222222222222', 'victim');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(otherDir, { recursive: true });
  writeFileSync(join(otherDir, 'terraform.tfstate'), JSON.stringify({ version: 4, outputs: { secret: { value: OTHER_GUILD_SECRET } } }));
  mkdirSync(join(root, 'data'));
  const database = join(root, 'data', 'chatops.db');
  openDatabase(database).close();
  const environment = { OTHER_STATE: join(otherDir, 'terraform.tfstate'), OTHER_SECRET: OTHER_GUILD_SECRET, OTHER_DIR: otherDir, DATABASE: database, DEPLOYMENTS: deployments };
  writeFileSync(
    join(workspace, 'main.tf.json'),
    JSON.stringify({
      resource: { terraform_data: { snoop: { input: 'x', provisioner: { 'local-exec': { command: SNOOP, interpreter: ['/bin/sh', '-c'], environment } } } } },
      output: { root: { value: '${abspath(path.root)}' } },
    }),
  );
  return { deployments, database, workspace, otherDir };
}

function terraformPath(): string {
  return execaSync('sh', ['-c', 'command -v terraform']).stdout.trim();
}

/** init then apply, by a bot holding DISCORD_TOKEN and CREDENTIALS_MASTER_KEY, sandboxed or not. */
async function applyAsBot(mode: 'bwrap' | 'off', where: Layout) {
  const engine = terraformPath();
  return execa(
    'node',
    ['--import', 'tsx', 'test/support/sandbox-host.ts', mode, where.deployments, where.database, where.workspace, engine, 'init', '-input=false', '-no-color', '--', 'apply', '-auto-approve', '-input=false', '-no-color', '-json'],
    { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', DISCORD_TOKEN: BOT_TOKEN, CREDENTIALS_MASTER_KEY: MASTER_KEY }, extendEnv: false, reject: false, timeout: 120_000 },
  );
}

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '');
  } catch {
    return false;
  }
}

function findings(where: Layout): string[] {
  return readFileSync(join(where.workspace, 'findings.txt'), 'utf8').trim().split(/\s+/).filter(Boolean);
}

describe.skipIf(!hasRealTerraform())('a module run by the real Terraform in the sandbox', () => {
  it('sees its own workspace and nothing else: no other guild, no database, no guild folders, no bot environment', async () => {
    const where = layout('sandboxed');
    const result = await applyAsBot('bwrap', where);
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    // The provisioner ran (it read its own configuration) and found nothing else; it ran below the bot's priority.
    expect(findings(where)).toEqual(['own-workspace', `nice:${ENGINE_NICE}`]);
    expect(existsSync(join(where.otherDir, 'planted'))).toBe(false);
    // The state records the workspace as the engine saw it, never the host's layout.
    const state = readFileSync(join(where.workspace, 'terraform.tfstate'), 'utf8');
    expect(JSON.parse(state).outputs.root.value).toBe('/ws');
    expect(state).not.toContain(tmp.dir);
  }, 150_000);

  it('with the sandbox off (the control), the same module reads all of them: the test can fail', async () => {
    const where = layout('unsandboxed');
    const result = await applyAsBot('off', where);
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    const seen = findings(where);
    expect(seen).toEqual(expect.arrayContaining(['own-workspace', 'other-workspace', 'wrote-other-workspace', 'database', 'guild-folders-listed', 'bot-environ']));
    expect(seen.some((item) => item.startsWith('token-in-/proc/'))).toBe(true);
    // Run as root, an engine outside the sandbox also holds every capability and reads /etc/shadow.
    if (process.getuid?.() === 0) expect(seen).toEqual(expect.arrayContaining(['capabilities', 'etc-shadow']));
    expect(seen).toContain(`nice:${ENGINE_NICE}`);
    expect(JSON.parse(readFileSync(join(where.workspace, 'terraform.tfstate'), 'utf8')).outputs.root.value).toBe(where.workspace);
  }, 150_000);

  it('after kill -9 of the bot mid-apply, the sandboxed engine gets its one SIGINT and stops gracefully: state written, lock released', async () => {
    const where = layout('crash');
    writeFileSync(
      join(where.workspace, 'main.tf.json'),
      JSON.stringify({ resource: { terraform_data: { fast: { input: 'y' }, slow: { input: 'x', depends_on: ['terraform_data.fast'], provisioner: { 'local-exec': { command: 'sleep 120' } } } } } }),
    );
    const bot = execa(
      'node',
      ['--import', 'tsx', 'test/support/sandbox-host.ts', 'bwrap', where.deployments, where.database, where.workspace, terraformPath(), 'init', '-input=false', '-no-color', '--', 'apply', '-auto-approve', '-input=false', '-no-color', '-json'],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '' }, extendEnv: false, reject: false, buffer: false },
    );
    let output = '';
    await new Promise<void>((resolve) => {
      bot.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('"provision_start"')) resolve();
      });
    });
    // What is recorded for the next start-up: the pid bubblewrap reports, the sandbox's PID 1, which runs the engine
    // and lives exactly as long as it.
    const enginePid = Number([...output.matchAll(/spawned (\d+)/g)].at(-1)?.[1]);
    expect(running(enginePid)).toBe(true);
    expect(readFileSync(`/proc/${enginePid}/cmdline`, 'utf8').split('\0')).toContain('apply');
    expect(existsSync(join(where.workspace, '.terraform.tfstate.lock.info'))).toBe(true);

    bot.kill('SIGKILL');
    await bot;
    const deadline = Date.now() + 30_000;
    while (running(enginePid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));

    // Gone long before its 120 s provisioner would have ended, and gone the graceful way.
    expect(running(enginePid)).toBe(false);
    expect(existsSync(join(where.workspace, '.terraform.tfstate.lock.info'))).toBe(false);
    const state = JSON.parse(readFileSync(join(where.workspace, 'terraform.tfstate'), 'utf8')) as { resources: Array<{ name: string }> };
    expect(state.resources.map((r) => r.name)).toContain('fast');
  }, 150_000);
});
