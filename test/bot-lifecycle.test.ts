/**
 * The bot's life as an operator sees it, with real processes: one bot per database (a second is refused, a killed
 * one does not block the next), and an apply cut short by kill -9 (its engine stops by itself, the next start-up
 * stops whatever is left and tells the member in the channel). Real bot (`npm start`), local Discord-compatible
 * server, stand-in engine.
 */
import { execa } from 'execa';
import Database from 'better-sqlite3';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscordServer, Permission, type InteractionHandle, type OriginalMessage } from './discord-server/index.js';
import { FAKE_ENGINE_BIN, REPO_ROOT, startBot, type BotProcess, type StartBotOptions } from './support/bot-process.js';
import { hostPidOf, signalsReceived, type Invocation } from './support/engine-env.js';
import { makeTempDir } from './support/tmp.js';

const APP_ID = '900000000000000001';
const TOKEN = 'test-bot-token';
const GUILD = '310000000000000001';
const CHANNEL = '310000000000000011';
const ADMIN = '410000000000000001';
const MEMBER_PERMS = Permission.ViewChannel | Permission.SendMessages | Permission.UseApplicationCommands;

function textOf(message: OriginalMessage | undefined): string {
  if (!message) return '';
  const embeds = message.embeds.map((e) => [e.title, e.description, ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`)].filter(Boolean).join('\n'));
  return [message.content, ...embeds].join('\n');
}

/** Whether `pid` is a live process (a zombie nobody has reaped yet counts as dead). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function until(probe: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('one bot per database, and crashes', () => {
  let server: FakeDiscordServer;
  let tmp: { dir: string; cleanup: () => void };
  let dbPath: string;
  let deploymentsDir: string;
  let env: Record<string, string>;
  const bots: BotProcess[] = [];
  const enginePids: number[] = [];

  const launch = async (options: StartBotOptions = {}): Promise<BotProcess> => {
    const bot = startBot(env, [], options);
    bots.push(bot);
    await bot.waitForOutput(/taking interactions/, 60_000);
    return bot;
  };

  const run = (name: string, options: Array<{ name: string; value: string | number | boolean }> = []) =>
    server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, name, options, ignoreDefaultMemberPermissions: true });

  /** Inits a project, deploys a bucket with the stand-in's `knobs`, confirms, and waits until the engine applies. */
  async function applyUnderway(projectName: string, knobs: Record<string, unknown>): Promise<{ deploy: InteractionHandle; slug: string; enginePid: number; apply: Invocation }> {
    const init = await run('cloud-init', [
      { name: 'provider', value: 'gcp' },
      { name: 'project_name', value: projectName },
      { name: 'region', value: 'us-central1' },
    ]);
    await init.waitForResponse();
    const submitted = await server.submitModal({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, fields: { project_id: 'crash-project-1' } });
    await submitted.waitForOriginal((m) => /initialised/.test(textOf(m)), 30_000);
    const slug = projectName.toLowerCase().replace(/\s+/g, '-');
    const workspace = join(deploymentsDir, `guild_${GUILD}`, slug);
    const deploy = await run('cloud-deploy', [
      { name: 'project', value: projectName },
      { name: 'resource_type', value: 'bucket' },
      { name: 'disk_size', value: 1 },
    ]);
    await deploy.waitForOriginal((m) => JSON.stringify(m.components).includes(':apply'), 30_000);
    // Planned at full speed; the knobs are for the apply.
    writeFileSync(join(workspace, 'fake-engine.json'), JSON.stringify(knobs));
    await (await server.clickButton({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, customId: /:apply$/ })).waitForResponse();
    await deploy.waitForOriginal((m) => /Applying bucket/.test(textOf(m)), 30_000);
    let apply: Invocation | undefined;
    // Applying for real: it holds the state lock (so its signal handlers are in place too).
    await until(() => {
      apply = invocations(slug).find((i) => i.argv?.[0] === 'apply');
      return apply !== undefined && existsSync(join(workspace, '.terraform.tfstate.lock.info'));
    }, 'the apply to start');
    // Its pid on this host (in the engine sandbox it has a PID namespace of its own).
    const enginePid = (apply && hostPidOf(apply)) ?? 0;
    expect(enginePid).toBeGreaterThan(1);
    enginePids.push(enginePid);
    return { deploy, slug, enginePid, apply: apply as Invocation };
  }

  function invocations(slug: string): Invocation[] {
    const path = join(deploymentsDir, `guild_${GUILD}`, slug, '.fake-engine-invocations.jsonl');
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Invocation);
  }

  const signalsOf = (slug: string, apply: Invocation) => signalsReceived(invocations(slug), apply);

  function query<T>(sql: string): T {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.prepare(sql).get() as T;
    } finally {
      db.close();
    }
  }

  beforeAll(async () => {
    tmp = makeTempDir('chatops-lifecycle-');
    dbPath = join(tmp.dir, 'chatops.db');
    deploymentsDir = join(tmp.dir, 'deployments');
    server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN });
    await server.addGuild({ id: GUILD, name: 'ACME Corp', ownerId: ADMIN, channels: [{ id: CHANNEL, name: 'ops' }] });
    await server.addMember(GUILD, { id: ADMIN, username: 'alice', permissions: MEMBER_PERMS | Permission.ManageGuild });
    env = {
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: server.apiUrl,
      DATABASE_PATH: dbPath,
      DEPLOYMENTS_DIR: deploymentsDir,
      IAC_BIN_DIR: FAKE_ENGINE_BIN,
      LOG_LEVEL: 'debug',
      RATE_LIMIT_MEMBER_PER_MINUTE: '1000',
      RATE_LIMIT_GUILD_PER_MINUTE: '1000',
    };
    await execa('node', ['--import', 'tsx', 'src/discord/register.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, DISCORD_GUILD_ID: GUILD },
      extendEnv: false,
    });
  }, 90_000);

  afterEach(async () => {
    for (const bot of bots.splice(0)) await bot.stop();
  });

  afterAll(async () => {
    for (const pid of enginePids) if (running(pid)) process.kill(pid, 'SIGKILL');
    await server?.close();
    tmp?.cleanup();
  });

  it('refuses a second bot on the same database, naming the first, and changes nothing; after kill -9 of the first the next one starts', async () => {
    const first = await launch();
    // A run the first bot is in the middle of (as far as the database says).
    const db = new Database(dbPath);
    const projectId = db
      .prepare("INSERT INTO cloud_projects (guild_id, name, slug, provider, region, created_by, created_at, updated_at) VALUES (?, 'live', 'live', 'gcp', 'us-central1', ?, 1, 1)")
      .run(GUILD, ADMIN).lastInsertRowid;
    db.prepare("INSERT INTO iac_runs (guild_id, guild_run_number, project_id, kind, status, started_by, created_at) VALUES (?, 1, ?, 'apply', 'running', ?, 1)").run(GUILD, projectId, ADMIN);
    db.close();

    const second = await execa('node', ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      extendEnv: false,
      reject: false,
      timeout: 40_000,
    });
    expect(second.exitCode, second.stderr).toBe(1);
    expect(second.stderr).toContain(`already in use by process ${first.pid} on host "${hostname()}", running since 20`);
    expect(second.stderr).toContain(`kill ${first.pid}`);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    expect(query<{ status: string }>("SELECT status FROM iac_runs WHERE kind = 'apply'").status).toBe('running');

    await first.kill('SIGKILL');
    const third = await launch();
    expect(third.output()).toMatch(/runs left unfinished by the last stop marked interrupted/);
    expect(query<{ status: string }>("SELECT status FROM iac_runs WHERE kind = 'apply'").status).toBe('interrupted');
  }, 120_000);

  it('after kill -9 mid-apply the engine gets SIGINT from the kernel and stops by itself; the next start tells the member in the channel', async () => {
    const bot = await launch();
    const { slug, enginePid, apply: applying } = await applyUnderway('Death Signal', { sleepMs: 60_000 });
    // The apply holds its workspace and its share of the budget in the database, under this process's name.
    const lease = query<{ owner: string; kind: string; started_by: string }>(`SELECT owner, kind, started_by FROM workspace_leases WHERE workspace = '${slug}'`);
    expect(lease).toMatchObject({ kind: 'apply', started_by: ADMIN });
    expect(lease.owner).toContain(`/${bot.pid}/`);
    expect(query<{ owner: string }>("SELECT h.owner FROM budget_holds h JOIN cloud_resources r ON r.id = h.resource_id JOIN cloud_projects p ON p.id = r.project_id WHERE p.slug = 'death-signal'").owner).toBe(lease.owner);
    await bot.kill('SIGKILL');

    // No bot is running now: the engine stops on its own.
    await until(() => !running(enginePid), 'the engine to stop by itself');
    expect(signalsOf(slug, applying)).toEqual(['SIGINT']);
    expect(existsSync(join(deploymentsDir, `guild_${GUILD}`, slug, '.terraform.tfstate.lock.info'))).toBe(false);

    await launch();
    await until(() => server.channelMessages(CHANNEL).some((m) => /Run #\d+ \(apply\) was interrupted/.test(textOf(m))), 'the interrupted-run notice');
    const notice = textOf(server.channelMessages(CHANNEL).find((m) => /was interrupted/.test(textOf(m))));
    expect(notice).toContain(`<@${ADMIN}>`);
    expect(notice).toContain('**Death Signal**');
    expect(notice).toMatch(/no longer running/);
    const apply = query<{ guild_run_number: number; status: string }>("SELECT guild_run_number, status FROM iac_runs WHERE kind = 'apply' ORDER BY id DESC LIMIT 1");
    expect(apply.status).toBe('interrupted');
    // Its run is over for certain, so the next start freed the workspace at once, without waiting for the lease.
    expect(query<{ n: number }>('SELECT count(*) AS n FROM workspace_leases')).toEqual({ n: 0 });
    expect(notice).toContain(`Run #${apply.guild_run_number} (apply)`);
    expect(query<{ status: string }>("SELECT r.status FROM cloud_resources r JOIN cloud_projects p ON p.id = r.project_id WHERE p.slug = 'death-signal'").status).toBe('interrupted');
  }, 120_000);

  it('after kill -9 mid-apply, an engine still running at the next start is stopped before commands are taken, and the member is told', async () => {
    const bot = await launch();
    // This engine shrugs off SIGINT, so it outlives the bot.
    const { slug, enginePid, apply } = await applyUnderway('Orphan', { sleepMs: 60_000, ignoreSigint: true });
    await bot.kill('SIGKILL');
    await until(() => signalsOf(slug, apply).includes('SIGINT'), 'the parent-death SIGINT');
    expect(running(enginePid)).toBe(true);

    const next = await launch();
    // Stopped during start-up, before the bot took interactions.
    expect(running(enginePid)).toBe(false);
    expect(signalsOf(slug, apply)).toEqual(['SIGINT', 'SIGTERM']);
    expect(next.output()).toMatch(/engine left running by the last process/);
    await until(() => server.channelMessages(CHANNEL).some((m) => /\*\*Orphan\*\*/.test(textOf(m))), 'the interrupted-run notice');
    const notice = textOf(server.channelMessages(CHANNEL).find((m) => /\*\*Orphan\*\*/.test(textOf(m))));
    expect(notice).toMatch(/did not stop cleanly, so it was terminated/);
    expect(query<{ status: string }>("SELECT r.status FROM cloud_resources r JOIN cloud_projects p ON p.id = r.project_id WHERE p.slug = 'orphan'").status).toBe('interrupted');
  }, 120_000);

  it('npm start under a process manager: one SIGTERM to the process group stops a running apply cleanly, tells the member, and exits 0', async () => {
    // npm relays the SIGTERM the group already delivered, so the bot gets it twice: still one graceful stop.
    const bot = await launch({ via: 'npm-start' });
    const { deploy } = await applyUnderway('Group Stop', { sleepMs: 60_000 });
    bot.signalGroup('SIGTERM');
    expect(await bot.exited()).toBe(0);
    expect(bot.output()).toMatch(/"msg":"shutting down"/);
    expect(bot.output()).not.toMatch(/second signal/);
    await deploy.waitForOriginal((m) => /restarting.*stopped cleanly/s.test(textOf(m)), 10_000);
    expect(query<{ status: string }>("SELECT status FROM iac_runs WHERE kind = 'apply' ORDER BY id DESC LIMIT 1").status).toBe('interrupted');
    // A clean stop lets go of what the run held in the database: no other process has to wait for an expiry.
    expect(query<{ n: number }>("SELECT count(*) AS n FROM workspace_leases WHERE workspace = 'group-stop'")).toEqual({ n: 0 });
    const holds = 'SELECT count(*) AS n FROM budget_holds h JOIN cloud_resources r ON r.id = h.resource_id JOIN cloud_projects p ON p.id = r.project_id';
    expect(query<{ n: number }>(`${holds} WHERE p.slug = 'group-stop'`)).toEqual({ n: 0 });
  }, 120_000);
});
