/**
 * A template's inputs in Discord: the real DiscordBot and discord.js client against the local Discord-compatible
 * server, in this process (the operator's template is enabled through the core, not a command, to keep it short).
 * The forms after the first are opened by a "Next inputs" button, as Discord opens a form only in answer to a press.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { REST, Routes } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allCommands } from '../commands/index.js';
import { buildCore, type Core } from '../src/app/bootstrap.js';
import { parseConfig } from '../src/config/index.js';
import { createDiscordClient, DiscordBot } from '../src/discord/discord-bot.js';
import { DiscordNotifier } from '../src/discord/discord-notifier.js';
import { CommandDispatcher } from '../src/interaction/dispatcher.js';
import { createLogger } from '../src/logging/logger.js';
import { FakeDiscordServer, Permission, type InteractionHandle, type OriginalMessage } from './discord-server/index.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import { STAND_IN_SANDBOX_ENV } from './support/sandbox-env.js';
import { FakeClock } from './support/clock.js';
import { makeTempDir } from './support/tmp.js';

const TEMPLATES = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/templates');
const APP_ID = '900000000000000001';
const TOKEN = 'test-bot-token';
const GUILD = '310000000000000001';
const CHANNEL = '310000000000000011';
const ADMIN = '410000000000000001';
const MEMBER = '410000000000000003';
const SECRET = 'pw-discord-Qq93-never-shown';
const MEMBER_PERMS = Permission.ViewChannel | Permission.SendMessages | Permission.UseApplicationCommands;

function textOf(message: OriginalMessage | undefined): string {
  if (!message) return '';
  const embeds = message.embeds.map((e) => [e.title, e.description, ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`)].filter(Boolean).join('\n'));
  return [message.content, ...embeds].join('\n');
}

describe('a template’s inputs in Discord, step by step', () => {
  let server: FakeDiscordServer;
  let core: Core;
  let bot: DiscordBot;
  let tmp: { dir: string; cleanup: () => void };
  let logs = '';
  const act = { guildId: GUILD, channelId: CHANNEL };

  beforeAll(async () => {
    tmp = makeTempDir('chatops-template-discord-');
    server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN });
    await server.addGuild({ id: GUILD, name: 'ACME Corp', ownerId: ADMIN, channels: [{ id: CHANNEL, name: 'ops' }] });
    await server.addMember(GUILD, { id: ADMIN, username: 'alice', permissions: MEMBER_PERMS | Permission.ManageGuild });
    await server.addMember(GUILD, { id: MEMBER, username: 'bob', permissions: MEMBER_PERMS });
    const config = parseConfig({
      ...STAND_IN_SANDBOX_ENV,
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: server.apiUrl,
      DATABASE_PATH: join(tmp.dir, 'chatops.db'),
      DEPLOYMENTS_DIR: join(tmp.dir, 'deployments'),
      IAC_BIN_DIR: FAKE_ENGINE_BIN,
      TEMPLATES_DIR: TEMPLATES,
    });
    const logger = createLogger('debug', new Writable({ write: (chunk: Buffer, _e, done) => ((logs += chunk.toString()), done()) }));
    const client = createDiscordClient(config);
    const clock = new FakeClock(Date.now());
    core = await buildCore({ config, clock, logger, notifier: new DiscordNotifier(client) });
    await core.app.templateAdmin.enable({ guildId: GUILD, actor: { id: ADMIN, isGuildAdmin: true }, name: 'typed-inputs' });
    await new REST({ api: server.apiUrl }).setToken(TOKEN).put(Routes.applicationGuildCommands(APP_ID, GUILD), { body: allCommands.map((c) => c.definition) });
    bot = new DiscordBot(client, new CommandDispatcher(allCommands, core.app), clock, logger);
    await bot.start(TOKEN);
  }, 60_000);

  afterAll(async () => {
    await bot?.disconnect();
    await core?.shutdown();
    await server?.close();
    tmp?.cleanup();
  });

  const send = (name: string, options: Array<{ name: string; value: string | number | boolean }>, userId = ADMIN) =>
    server.sendChatInput({ ...act, userId, name, options, ignoreDefaultMemberPermissions: true });

  /** Submits the form shown to the admin, and returns the submission's answer: the next step's prompt, or the run. */
  const submit = (fields: Record<string, string>) => server.submitModal({ ...act, userId: ADMIN, fields });

  it('opens each further form from a private "Next inputs" button, then deploys, never showing the secret', async () => {
    const init = await send('cloud-init', [{ name: 'provider', value: 'gcp' }, { name: 'project_name', value: 'web' }, { name: 'region', value: 'us-central1' }]);
    expect((await init.waitForResponse()).type).toBe(9);
    await (await submit({ project_id: 'web-project-123' })).waitForOriginal((m) => /initialised/.test(textOf(m)));

    const deploy = await send('cloud-deploy', [{ name: 'project', value: 'web' }, { name: 'template', value: 'typed-inputs' }]);
    const first = await deploy.modal();
    expect(first.title).toBe('typed-inputs inputs (1/3)');

    const afterFirst: InteractionHandle = await submit({ enabled: 'true', extra: '1', labels: 'team=web', name: 'web-app', pair: 'blue, 7' });
    const prompt = await afterFirst.waitForOriginal((m) => m.components.length > 0);
    expect(prompt.flags & 64).toBe(64);
    expect(textOf(prompt)).toMatch(/step 2 of 3/);
    expect(JSON.stringify(prompt.components)).toContain('Next inputs (2/3)');

    // Private: nobody else sees it, so nobody else can open the form.
    await expect(server.clickButton({ ...act, userId: MEMBER, customId: /:open$/, messageId: prompt.id })).rejects.toThrow(/sees no button/);
    const open = await server.clickButton({ ...act, userId: ADMIN, customId: /:open$/, messageId: prompt.id });
    expect((await open.modal()).title).toBe('typed-inputs inputs (2/3)');

    // A wrong value brings the form back behind a "Correct inputs" button, saying what was expected.
    const wrong = await submit({ ports: '80, 443', replicas: '3', settings: '{"size": "big"}', zones: 'a, b' });
    const correction = await wrong.waitForOriginal((m) => m.components.length > 0);
    expect(textOf(correction)).toMatch(/settings.*attribute size.*expected a number/s);
    // The first prompt lost its button once its form was sent.
    await afterFirst.waitForOriginal((m) => m.components.length === 0);
    const reopen = await server.clickButton({ ...act, userId: ADMIN, customId: /:open$/, messageId: correction.id });
    expect(JSON.stringify((await reopen.modal()).components)).toContain('"value":"{\\"size\\": \\"big\\"}"');
    const fixed = await submit({ ports: '80, 443', replicas: '3', settings: '{"size": 2}', zones: 'a, b' });
    const secretPrompt = await fixed.waitForOriginal((m) => m.components.length > 0);
    expect(textOf(secretPrompt)).toMatch(/secrets: kept only in this project's vault session/);
    const openSecret = await server.clickButton({ ...act, userId: ADMIN, customId: /:open$/, messageId: secretPrompt.id });
    expect((await openSecret.modal()).title).toBe('typed-inputs secrets (3/3)');

    const run = await submit({ db_password: SECRET });
    await run.waitForOriginal((m) => /Plan for web: typed-inputs #1/.test(textOf(m)), 20_000);
    const apply = await server.clickButton({ ...act, userId: ADMIN, customId: /:apply$/ });
    await apply.waitForResponse();
    await run.waitForOriginal((m) => /Deployed typed-inputs #1 in web/.test(textOf(m)), 20_000);

    expect(server.allMessagesText()).not.toContain(SECRET);
    expect(logs).not.toContain(SECRET);
    const database = core.app.config.DATABASE_PATH;
    for (const file of [database, `${database}-wal`]) if (existsSync(file)) expect(readFileSync(file).includes(SECRET)).toBe(false);
    expect(server.deadlineViolations()).toEqual([]);
  });
});
