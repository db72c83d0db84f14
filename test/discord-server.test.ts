import { once } from 'node:events';
import type { Interaction } from 'discord.js';
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  EmbedBuilder,
  GatewayIntentBits,
  LabelBuilder,
  MessageFlags,
  ModalBuilder,
  PermissionFlagsBits,
  Routes,
  SlashCommandBuilder,
  TextInputBuilder,
  TextInputStyle,
} from 'discord.js';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { buttonsOf, DEFAULT_HEARTBEAT_INTERVAL_MS, FakeDiscordServer, ImpossibleUserAction } from './discord-server/index.js';
import { FakeClock } from './support/clock.js';

const APP_ID = '100000000000000001';
const TOKEN = 'fake-bot-token.for-tests';
const GUILD = '111111111111111111';
const OTHER_GUILD = '111111111111111112';
const CHANNEL = '222222222222222221';
const OTHER_CHANNEL = '222222222222222222';
const OWNER = '333333333333333330';
const ADMIN = '333333333333333331';
const MEMBER = '333333333333333332';
const DMS_CLOSED = '333333333333333333';
const ACK_DEADLINE_MS = 400;
/** The one unimplemented route a test calls on purpose. */
const UNKNOWN_ROUTE = '/guilds/111111111111111111/audit-logs';

const deployCommand = new SlashCommandBuilder()
  .setName('cloud-deploy')
  .setDescription('Deploy a resource')
  .addStringOption((option) => option.setName('project').setDescription('Project').setRequired(true).setAutocomplete(true))
  .addIntegerOption((option) => option.setName('disk_size').setDescription('Disk in GB').setRequired(true))
  .addUserOption((option) => option.setName('owner').setDescription('Who owns it'));
const policyCommand = new SlashCommandBuilder()
  .setName('cloud-guild-policy')
  .setDescription('Guild policy (admin)')
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild);

type Handler = (interaction: Interaction) => Promise<void>;

describe('the fake Discord server, driven by an unmodified discord.js client', () => {
  const clock = new FakeClock();
  let server: FakeDiscordServer;
  let client: Client;
  let handler: Handler = async () => {};
  const handlerErrors: unknown[] = [];
  const clientErrors: unknown[] = [];

  beforeAll(async () => {
    server = await FakeDiscordServer.start({
      applicationId: APP_ID,
      botToken: TOKEN,
      ackDeadlineMs: ACK_DEADLINE_MS,
      clock,
    });
    await server.addGuild({ id: GUILD, name: 'Acme', ownerId: OWNER, channels: [{ id: CHANNEL, name: 'ops' }] });
    await server.addMember(GUILD, { id: OWNER, username: 'owner', permissions: 0n });
    await server.addMember(GUILD, { id: ADMIN, username: 'alice', permissions: PermissionFlagsBits.ManageGuild });
    await server.addMember(GUILD, { id: MEMBER, username: 'bob', permissions: 0n });
    await server.addMember(GUILD, { id: DMS_CLOSED, username: 'carol', permissions: '0', dmsClosed: true });

    client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers, GatewayIntentBits.DirectMessages],
      rest: { api: server.apiUrl },
    });
    client.on('error', (error) => clientErrors.push(error));
    client.on('shardError', (error) => clientErrors.push(error));
    client.on('interactionCreate', (interaction) => {
      handler(interaction).catch((error: unknown) => handlerErrors.push(error));
    });
    const ready = once(client, 'clientReady');
    await client.login(TOKEN);
    await ready;
    await server.waitForReady(5000);
    // Registered here, not by a test, so that every test runs alone or in any order.
    await client.rest.put(Routes.applicationGuildCommands(APP_ID, GUILD), {
      body: [deployCommand.toJSON(), policyCommand.toJSON()],
    });
  });

  afterAll(async () => {
    await client?.destroy();
    await server?.close();
  });

  beforeEach(() => {
    handler = async () => {};
    handlerErrors.length = 0;
  });

  afterEach(() => {
    // Whatever a test did, the bot kept its one gateway session, saw no errors, and met no server error or unknown route.
    expect(server.identifies()).toHaveLength(1);
    expect(clientErrors).toEqual([]);
    expect(server.requestLog().filter((request) => request.status >= 500)).toEqual([]);
    expect(server.unhandledRequests().filter((request) => request.path !== UNKNOWN_ROUTE)).toEqual([]);
  });

  it('lets the client identify and receive its guild, channel and own member', () => {
    expect(client.user?.id).toBe(APP_ID);
    expect(client.user?.bot).toBe(true);
    const guild = client.guilds.cache.get(GUILD);
    expect(guild?.name).toBe('Acme');
    expect(guild?.ownerId).toBe(OWNER);
    expect(guild?.channels.cache.get(CHANNEL)?.name).toBe('ops');
    expect(guild?.members.me?.permissions.has(PermissionFlagsBits.Administrator)).toBe(true);
    expect(server.identifies()).toEqual([{ shard: [0, 1], intents: expect.any(Number) }]);
  });

  it('sends GUILD_CREATE for a guild added while the bot is connected', async () => {
    const joined = once(client, 'guildCreate');
    await server.addGuild({ id: OTHER_GUILD, name: 'Globex', ownerId: OWNER, channels: [{ id: OTHER_CHANNEL, name: 'general' }] });
    await joined;
    expect(client.guilds.cache.get(OTHER_GUILD)?.channels.cache.get(OTHER_CHANNEL)?.name).toBe('general');
  });

  it('keeps the commands the bot registers per guild, with stable ids, and rejects invalid definitions', async () => {
    const body = [deployCommand.toJSON(), policyCommand.toJSON()];
    const first = (await client.rest.put(Routes.applicationGuildCommands(APP_ID, GUILD), { body })) as { id: string }[];
    const again = (await client.rest.put(Routes.applicationGuildCommands(APP_ID, GUILD), { body })) as { id: string }[];
    expect(again.map((command) => command.id)).toEqual(first.map((command) => command.id));
    expect(server.registeredCommands(GUILD).map((command) => command.name)).toEqual(['cloud-deploy', 'cloud-guild-policy']);
    expect(server.registeredCommands(GUILD)[1]?.default_member_permissions).toBe(String(PermissionFlagsBits.ManageGuild));
    expect(server.registeredCommands()).toEqual([]);

    const optionalFirst = {
      name: 'broken',
      description: 'Required option after an optional one',
      options: [
        { type: 3, name: 'a', description: 'optional' },
        { type: 3, name: 'b', description: 'required', required: true },
      ],
    };
    const refused = client.rest.put(Routes.applicationGuildCommands(APP_ID, GUILD), { body: [optionalFirst] });
    await expect(refused).rejects.toMatchObject({ code: 50035, status: 400 });
    expect(server.registeredCommands(GUILD)).toHaveLength(2);
  });

  it('delivers a slash command with typed, resolved options and records the ephemeral reply', async () => {
    let seen: { project: string; disk: number; owner: string | undefined; canManage: boolean | undefined } | undefined;
    let replyMessageContent: string | undefined;
    handler = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      seen = {
        project: interaction.options.getString('project', true),
        disk: interaction.options.getInteger('disk_size', true),
        owner: interaction.options.getUser('owner')?.username,
        canManage: interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild),
      };
      const reply = await interaction.reply({
        content: `Deploying ${seen.project}`,
        flags: MessageFlags.Ephemeral,
        withResponse: true,
      });
      replyMessageContent = reply.resource?.message?.content;
    };
    const sentAt = performance.now();
    const h = await server.sendChatInput({
      guildId: GUILD,
      channelId: CHANNEL,
      userId: ADMIN,
      name: 'cloud-deploy',
      options: [
        { name: 'project', value: 'web' },
        { name: 'disk_size', value: 20 },
        { name: 'owner', value: MEMBER },
      ],
    });
    const response = await h.waitForResponse();
    const elapsedMs = performance.now() - sentAt;
    expect(response.type).toBe(4);
    expect(response.data.flags).toBe(MessageFlags.Ephemeral);
    expect(seen).toEqual({ project: 'web', disk: 20, owner: 'bob', canManage: true });
    expect(h.original()).toMatchObject({ content: 'Deploying web', flags: MessageFlags.Ephemeral });
    // Measured on the real clock (the fake one is frozen, which would make it 0), and within what the test waited.
    expect(h.ackDelayMs).toBeGreaterThan(0);
    expect(h.ackDelayMs).toBeLessThanOrEqual(elapsedMs);
    await vi.waitFor(() => expect(replyMessageContent).toBe('Deploying web'));
    expect(server.requestLog().find((request) => request.path.includes(`/interactions/${h.id}/`))?.query).toMatchObject({
      with_response: 'true',
    });
    expect(handlerErrors).toEqual([]);
  });

  it('refuses an admin-only command to a member unless an admin override is simulated', async () => {
    const attempt = { guildId: GUILD, channelId: CHANNEL, userId: MEMBER, name: 'cloud-guild-policy' };
    await expect(server.sendChatInput(attempt)).rejects.toThrow(ImpossibleUserAction);
    let memberCouldManage: boolean | undefined;
    handler = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      memberCouldManage = interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild);
      await interaction.reply({ content: 'Admins only', flags: MessageFlags.Ephemeral });
    };
    const h = await server.sendChatInput({ ...attempt, ignoreDefaultMemberPermissions: true });
    await h.waitForResponse();
    expect(memberCouldManage).toBe(false);
  });

  it('follows deferReply, editReply and followUp, with the loading state cleared by the edit', async () => {
    let releaseEdit = (): void => {};
    const editAllowed = new Promise<void>((resolve) => (releaseEdit = resolve));
    handler = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      await editAllowed;
      await interaction.editReply({
        content: 'Plan ready',
        embeds: [new EmbedBuilder().setTitle('Plan').setDescription('+1 to add')],
        files: [{ attachment: Buffer.from('resource "aws_instance" "web" {}'), name: 'plan.txt' }],
      });
      const followUp = await interaction.followUp({ content: 'Applying', flags: MessageFlags.Ephemeral });
      await interaction.editReply({ message: followUp, content: 'Applied' });
    };
    const h = await server.sendChatInput({
      guildId: GUILD,
      channelId: CHANNEL,
      userId: ADMIN,
      name: 'cloud-deploy',
      options: [{ name: 'project', value: 'web' }, { name: 'disk_size', value: 10 }],
    });
    expect(await h.waitForResponse()).toEqual({ type: 5, data: { flags: MessageFlags.Ephemeral } });
    expect(h.original()?.flags).toBe(MessageFlags.Ephemeral | MessageFlags.Loading);
    releaseEdit();
    await h.waitFor((event) => event.kind === 'edit' && !event.original);
    expect(h.original()).toMatchObject({
      content: 'Plan ready',
      flags: MessageFlags.Ephemeral,
      embeds: [{ title: 'Plan' }],
      attachments: [{ filename: 'plan.txt', text: 'resource "aws_instance" "web" {}' }],
    });
    expect(h.followUps().map((message) => [message.content, message.flags])).toEqual([['Applied', MessageFlags.Ephemeral]]);
    expect(handlerErrors).toEqual([]);
  });

  it('turns the first follow-up right after a deferral into the deferred message, keeping its visibility', async () => {
    handler = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply();
      await interaction.followUp({ content: 'Done', flags: MessageFlags.Ephemeral });
      await interaction.followUp({ content: 'Details', flags: MessageFlags.Ephemeral });
    };
    const h = await server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: MEMBER, name: 'cloud-projects' });
    await h.waitFor((event) => event.kind === 'follow-up' && event.message.content === 'Details');
    expect(h.original()).toMatchObject({ content: 'Done', flags: 0 });
    expect(h.followUps().map((message) => [message.content, message.flags])).toEqual([['Details', MessageFlags.Ephemeral]]);
  });

  it('serves the users, members, guilds and channels discord.js fetches, over REST and the gateway', async () => {
    const guild = await client.guilds.fetch({ guild: GUILD, force: true });
    expect(guild.name).toBe('Acme');
    expect((await client.users.fetch(MEMBER, { force: true })).username).toBe('bob');
    expect((await guild.members.fetch({ user: ADMIN, force: true })).permissions.has(PermissionFlagsBits.ManageGuild)).toBe(true);
    expect((await guild.members.fetch()).map((member) => member.user.username).sort()).toEqual(
      ['alice', 'bob', 'carol', 'cloud-chatops', 'owner'],
    );
    expect((await client.channels.fetch(CHANNEL, { force: true }))?.id).toBe(CHANNEL);
    await expect(client.users.fetch('999999999999999999')).rejects.toMatchObject({ code: 10013 });
    await expect(guild.members.fetch({ user: '999999999999999999', force: true })).rejects.toMatchObject({ code: 10007 });
  });

  it('refuses webhook edits before the first response (10015) and a second acknowledgement (40060)', async () => {
    const errors: unknown[] = [];
    handler = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await client.rest
        .patch(Routes.webhookMessage(APP_ID, interaction.token, '@original'), { body: { content: 'too early' }, auth: false })
        .catch((error: unknown) => errors.push(error));
      await interaction.reply('first');
      await client.rest
        .post(Routes.interactionCallback(interaction.id, interaction.token), {
          body: { type: 4, data: { content: 'second' } },
          auth: false,
        })
        .catch((error: unknown) => errors.push(error));
    };
    const h = await server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: MEMBER, name: 'cloud-deploy' });
    await h.waitForResponse();
    await vi.waitFor(() => expect(errors).toHaveLength(2));
    expect(errors[0]).toBeInstanceOf(DiscordAPIError);
    expect(errors).toMatchObject([
      { code: 10015, status: 404 },
      { code: 40060, status: 400 },
    ]);
    expect(h.original()?.content).toBe('first');
  });

  it('answers an autocomplete with the choices the bot responds', async () => {
    let typed: string | undefined;
    handler = async (interaction) => {
      if (!interaction.isAutocomplete()) return;
      typed = interaction.options.getFocused();
      const projects = ['web', 'worker', 'db'].filter((name) => name.startsWith(typed ?? ''));
      await interaction.respond(projects.map((name) => ({ name, value: name })));
    };
    const a = await server.sendAutocomplete({
      guildId: GUILD,
      channelId: CHANNEL,
      userId: MEMBER,
      name: 'cloud-deploy',
      options: [{ name: 'project', value: 'w', focused: true }],
    });
    expect(await a.choices()).toEqual([
      { name: 'web', value: 'web' },
      { name: 'worker', value: 'worker' },
    ]);
    expect(typed).toBe('w');
    await expect(
      server.sendAutocomplete({ guildId: GUILD, channelId: CHANNEL, userId: MEMBER, name: 'cloud-deploy', options: [] }),
    ).rejects.toThrow(ImpossibleUserAction);
  });

  it.each([
    [
      'label components',
      new ModalBuilder()
        .setCustomId('init:abc')
        .setTitle('Project credentials')
        .addLabelComponents(
          new LabelBuilder()
            .setLabel('Project id')
            .setTextInputComponent(new TextInputBuilder().setCustomId('project_id').setStyle(TextInputStyle.Short)),
          new LabelBuilder()
            .setLabel('Region')
            .setTextInputComponent(
              new TextInputBuilder().setCustomId('region').setStyle(TextInputStyle.Short).setValue('eu-west-1'),
            ),
        ),
    ],
    [
      'action rows',
      new ModalBuilder()
        .setCustomId('init:abc')
        .setTitle('Project credentials')
        .addComponents(
          new ActionRowBuilder<TextInputBuilder>().addComponents(
            new TextInputBuilder().setCustomId('project_id').setLabel('Project id').setStyle(TextInputStyle.Short),
          ),
          new ActionRowBuilder<TextInputBuilder>().addComponents(
            new TextInputBuilder().setCustomId('region').setLabel('Region').setStyle(TextInputStyle.Short).setValue('eu-west-1'),
          ),
        ),
    ],
  ])('shows a modal built from %s and delivers its submit to ModalSubmitFields', async (_shape, modal) => {
    let submitted: { projectId: string; region: string } | undefined;
    handler = async (interaction) => {
      if (interaction.isChatInputCommand()) {
        await interaction.showModal(modal);
      } else if (interaction.isModalSubmit()) {
        submitted = {
          projectId: interaction.fields.getTextInputValue('project_id'),
          region: interaction.fields.getTextInputValue('region'),
        };
        await interaction.reply({ content: 'Stored in the vault', flags: MessageFlags.Ephemeral });
      }
    };
    const h = await server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, name: 'cloud-init' });
    expect((await h.modal()).title).toBe('Project credentials');
    expect(h.original()).toBeUndefined();

    await expect(
      server.submitModal({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, fields: { project_id: 'p', nope: 'x' } }),
    ).rejects.toThrow(/no text input named nope/);
    const m = await server.submitModal({
      guildId: GUILD,
      channelId: CHANNEL,
      userId: ADMIN,
      customId: /^init:/,
      fields: { project_id: 'proj-secret-42' },
    });
    await m.waitForResponse();
    expect(submitted).toEqual({ projectId: 'proj-secret-42', region: 'eu-west-1' });
    expect(m.original()?.content).toBe('Stored in the vault');
    expect(handlerErrors).toEqual([]);
  });

  it('delivers a button click on the message the bot sent and applies interaction.update to it', async () => {
    handler = async (interaction) => {
      if (interaction.isChatInputCommand()) {
        const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId('deploy:apply:run-7').setLabel('Apply').setStyle(ButtonStyle.Success),
          new ButtonBuilder().setCustomId('deploy:cancel:run-7').setLabel('Cancel').setStyle(ButtonStyle.Secondary),
        );
        await interaction.reply({ content: 'Plan: +1 to add', components: [row] });
      } else if (interaction.isButton()) {
        expect(interaction.message.content).toBe('Plan: +1 to add');
        await interaction.update({ content: `Applying (${interaction.customId})`, components: [] });
      }
    };
    const h = await server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, name: 'cloud-deploy' });
    await h.waitForResponse();
    const original = h.original();
    expect(original && buttonsOf(original).map((button) => button.label)).toEqual(['Apply', 'Cancel']);

    const b = await server.clickButton({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, customId: /^deploy:apply:/ });
    expect((await b.waitForResponse()).type).toBe(7);
    expect(b.original()?.content).toBe('Applying (deploy:apply:run-7)');
    expect(h.original()).toMatchObject({ content: 'Applying (deploy:apply:run-7)', components: [] });
    await expect(
      server.clickButton({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, customId: 'deploy:cancel:run-7' }),
    ).rejects.toThrow(ImpossibleUserAction);
    expect(handlerErrors).toEqual([]);
  });

  it('hides an ephemeral message’s buttons from everyone but the user it answered', async () => {
    handler = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
        new ButtonBuilder().setCustomId('vault:close').setLabel('Close').setStyle(ButtonStyle.Danger),
      );
      await interaction.reply({ content: 'Your sessions', components: [row], flags: MessageFlags.Ephemeral });
    };
    const h = await server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, name: 'cloud-vault' });
    await h.waitForResponse();
    await expect(
      server.clickButton({ guildId: GUILD, channelId: CHANNEL, userId: MEMBER, customId: 'vault:close' }),
    ).rejects.toThrow(ImpossibleUserAction);
  });

  it('delivers DMs to a member who accepts them and refuses them with 50007 for one who does not', async () => {
    await client.users.send(MEMBER, 'Your grant expires in 5 minutes');
    expect(server.dmsTo(MEMBER).map((message) => message.content)).toEqual(['Your grant expires in 5 minutes']);

    const refused = client.users.send(DMS_CLOSED, 'Your grant expired');
    await expect(refused).rejects.toBeInstanceOf(DiscordAPIError);
    await expect(refused).rejects.toMatchObject({ code: 50007, status: 403 });
    expect(server.dmsTo(DMS_CLOSED)).toEqual([]);
    expect(server.refusedDmsTo(DMS_CLOSED)).toHaveLength(1);
  });

  it('records channel messages, refuses unknown channels (10003) and empty or oversized messages', async () => {
    const channel = await client.channels.fetch(CHANNEL);
    if (!channel?.isSendable()) throw new Error('the ops channel should be sendable');
    await channel.send({ content: 'Run finished', files: [{ attachment: Buffer.from('apply log line'), name: 'apply.log' }] });
    expect(server.channelMessages(CHANNEL)).toMatchObject([
      { content: 'Run finished', source: 'channel', attachments: [{ filename: 'apply.log' }] },
    ]);
    expect(server.allMessagesText()).toContain('apply log line');

    const unknown = client.rest.post(Routes.channelMessages('999999999999999999'), { body: { content: 'x' } });
    await expect(unknown).rejects.toMatchObject({ code: 10003, status: 404 });
    await expect(channel.send({ content: 'x'.repeat(2001) })).rejects.toMatchObject({ code: 50035 });
    await expect(client.rest.post(Routes.channelMessages(CHANNEL), { body: {} })).rejects.toMatchObject({ code: 50006 });
  });

  it('records a late acknowledgement and a missing one as deadline violations', async () => {
    handler = async (interaction) => {
      if (!interaction.isChatInputCommand() || interaction.commandName !== 'slow') return;
      await new Promise((resolve) => setTimeout(resolve, ACK_DEADLINE_MS + 150));
      await interaction.reply('finally');
    };
    const late = await server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: MEMBER, name: 'slow' });
    const never = await server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: MEMBER, name: 'silent' });
    await late.waitForResponse();
    await vi.waitFor(() => expect(server.deadlineViolations().some((v) => v.interactionId === never.id)).toBe(true));
    const violations = server.deadlineViolations();
    expect(violations.find((v) => v.interactionId === late.id)).toMatchObject({ label: 'slow' });
    expect(violations.find((v) => v.interactionId === late.id)?.ackDelayMs).toBeGreaterThan(ACK_DEADLINE_MS);
    expect(violations.find((v) => v.interactionId === never.id)).toMatchObject({ label: 'silent', ackDelayMs: null });
  });

  it('refuses edits once the interaction token has expired (401 50027)', async () => {
    handler = async (interaction) => {
      if (interaction.isChatInputCommand()) await interaction.deferReply();
    };
    const h = await server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: ADMIN, name: 'cloud-deploy' });
    await h.waitForResponse();
    clock.advanceMinutes(16);
    const edit = client.rest.patch(Routes.webhookMessage(APP_ID, h.token, '@original'), {
      body: { content: 'too late' },
      auth: false,
    });
    await expect(edit).rejects.toMatchObject({ code: 50027, status: 401 });
  });

  it('answers unknown routes with a 404 Discord error and lists them', async () => {
    await expect(client.rest.get(UNKNOWN_ROUTE)).rejects.toMatchObject({ status: 404 });
    expect(server.unhandledRequests().map((request) => `${request.method} ${request.path}`)).toContain(
      `GET ${UNKNOWN_ROUTE}`,
    );
  });

  it('keeps every string the bot sent, including modal text, button labels and refused DMs, for leak checks', async () => {
    handler = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      if (interaction.commandName === 'leak-modal') {
        const input = new TextInputBuilder().setCustomId('secret').setLabel('Secret input label').setStyle(TextInputStyle.Short);
        await interaction.showModal(
          new ModalBuilder()
            .setCustomId('leak:modal')
            .setTitle('Leak-check modal title')
            .addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(input)),
        );
      } else {
        const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId('leak:button').setLabel('Leak-check button').setStyle(ButtonStyle.Primary),
        );
        await interaction.reply({ content: 'Leak-check reply', components: [row], flags: MessageFlags.Ephemeral });
      }
    };
    const before = server.allMessagesText();
    for (const name of ['leak-modal', 'leak-button']) {
      const h = await server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: OWNER, name });
      await h.waitForResponse();
    }
    server.setDmsClosed(OWNER, true);
    try {
      await expect(client.users.send(OWNER, 'Leak-check refused DM')).rejects.toMatchObject({ code: 50007 });
    } finally {
      server.setDmsClosed(OWNER, false);
    }

    const text = server.allMessagesText();
    for (const sent of ['Leak-check modal title', 'Secret input label', 'Leak-check button', 'Leak-check reply', 'Leak-check refused DM']) {
      expect(before).not.toContain(sent);
      expect(text).toContain(sent);
    }
    expect(handlerErrors).toEqual([]);
  });

  it('answers the heartbeat the bot sends when asked, which carries the last sequence number it received', async () => {
    const acknowledged = new Promise<void>((resolve) => {
      const onDebug = (message: string): void => {
        if (!/Heartbeat acknowledged/.test(message)) return;
        client.off('debug', onDebug);
        resolve();
      };
      client.on('debug', onDebug);
    });
    const heartbeat = await server.requestHeartbeat();
    expect(heartbeat.lastSequenceSent).toEqual(expect.any(Number));
    expect(heartbeat).toEqual({ sequence: heartbeat.lastSequenceSent, lastSequenceSent: heartbeat.lastSequenceSent, acknowledged: true });
    await acknowledged;
  });

  it('rejects a client with the wrong token', async () => {
    const intruder = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: server.apiUrl } });
    await expect(intruder.login('not-the-token')).rejects.toThrow(/token/i);
    await intruder.destroy();
  });
});

describe('the fake Discord server with a bot whose heartbeats go unanswered', () => {
  it('makes discord.js treat the connection as a zombie, reconnect, identify afresh and receive interactions again', async () => {
    // Short beats only on the first connection, so zombie detection is quick; later connections get Discord's interval,
    // so a stalled event loop on this loaded machine cannot cause a second, unplanned reconnect.
    const server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN, heartbeatIntervalMs: 200 });
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: server.apiUrl } });
    try {
      await server.addGuild({ id: GUILD, name: 'Acme', ownerId: OWNER, channels: [{ id: CHANNEL, name: 'ops' }] });
      await server.addMember(GUILD, { id: MEMBER, username: 'bob', permissions: 0n });
      client.on('interactionCreate', (interaction) => {
        if (interaction.isChatInputCommand()) void interaction.reply('still here');
      });
      const firstReady = once(client, 'clientReady');
      await client.login(TOKEN);
      await firstReady;
      server.setHeartbeatInterval(DEFAULT_HEARTBEAT_INTERVAL_MS);
      const identifiedBefore = server.identifies().length;

      const reconnecting = once(client, 'shardReconnecting');
      const readyAgain = reconnecting.then(() => once(client, 'shardReady'));
      server.withholdHeartbeatAcks();
      await readyAgain;

      expect(server.heartbeats().some((heartbeat) => !heartbeat.acknowledged)).toBe(true);
      // The fake server keeps no session to resume, so the client must identify exactly once more.
      expect(server.identifies()).toHaveLength(identifiedBefore + 1);
      await server.waitForReady(5000);
      const h = await server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: MEMBER, name: 'ping' });
      expect((await h.waitForResponse()).data.content).toBe('still here');
    } finally {
      await client.destroy();
      await server.close();
    }
  });
});

describe('the fake Discord server with two shards', () => {
  const SHARD0_GUILD = '444444444444444444';
  const SHARD1_GUILD = '555555555555555555';

  it('sends each guild to the shard that owns it, and its interactions too', async () => {
    const server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN, shardCount: 2 });
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: server.apiUrl }, shards: 'auto' });
    try {
      await server.addGuild({ id: SHARD0_GUILD, name: 'Zero', ownerId: OWNER, channels: [{ id: CHANNEL, name: 'ops' }] });
      await server.addGuild({ id: SHARD1_GUILD, name: 'One', ownerId: OWNER, channels: [{ id: OTHER_CHANNEL, name: 'ops' }] });
      await server.addMember(SHARD1_GUILD, { id: MEMBER, username: 'bob', permissions: 0n });
      const shardOfInteraction: number[] = [];
      client.on('interactionCreate', (interaction) => {
        shardOfInteraction.push(interaction.guild?.shardId ?? -1);
        if (interaction.isChatInputCommand()) void interaction.reply('ok');
      });
      const ready = once(client, 'clientReady');
      await client.login(TOKEN);
      await ready;
      await server.waitForReady(5000);

      expect(server.identifies().map((identify) => identify.shard).sort()).toEqual([[0, 2], [1, 2]]);
      expect(client.guilds.cache.get(SHARD0_GUILD)?.shardId).toBe(0);
      expect(client.guilds.cache.get(SHARD1_GUILD)?.shardId).toBe(1);
      const h = await server.sendChatInput({ guildId: SHARD1_GUILD, channelId: OTHER_CHANNEL, userId: MEMBER, name: 'ping' });
      await h.waitForResponse();
      expect(shardOfInteraction).toEqual([1]);
    } finally {
      await client.destroy();
      await server.close();
    }
  });
});

/** A bare gateway connection, as one shard: Hello, IDENTIFY with `shard`, then every frame until it closes. */
async function identifyAs(server: FakeDiscordServer, shard: unknown) {
  const socket = new WebSocket(`${server.gatewayUrl}/?v=10&encoding=json`);
  const frames: { op: number; t?: string; d: Record<string, unknown> }[] = [];
  const waiters = new Set<() => void>();
  let closed: { code: number; reason: string } | undefined;
  socket.on('message', (raw) => {
    const frame = JSON.parse(raw.toString()) as (typeof frames)[number];
    frames.push(frame);
    if (frame.op === 10) socket.send(JSON.stringify({ op: 2, d: { token: TOKEN, intents: 1, properties: {}, shard } }));
    for (const wake of waiters) wake();
  });
  socket.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
    for (const wake of waiters) wake();
  });
  const until = (done: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (done()) {
          waiters.delete(check);
          resolve();
        }
      };
      waiters.add(check);
      check();
    });
  return {
    frames,
    closed: async () => {
      await until(() => closed !== undefined);
      return closed!;
    },
    /** The dispatches received once `count` GUILD_CREATEs came and a heartbeat sent after them was acknowledged. */
    async dispatchesAfter(count: number) {
      await until(() => frames.filter((frame) => frame.t === 'GUILD_CREATE').length >= count);
      const acks = frames.filter((frame) => frame.op === 11).length;
      socket.send(JSON.stringify({ op: 1, d: null }));
      await until(() => frames.filter((frame) => frame.op === 11).length > acks);
      return frames.filter((frame) => frame.op === 0);
    },
    close: () => socket.close(),
  };
}

describe('the fake Discord server sharding as Discord does', () => {
  // (id >> 22) % 2: the first two on shard 0, the last two on shard 1.
  const SHARD0 = ['444444444444444444', '320000000000000002'];
  const SHARD1 = ['555555555555555555', '310000000000000001'];
  let server: FakeDiscordServer;

  beforeEach(async () => {
    server = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN, shardCount: 2 });
    for (const [index, id] of [...SHARD0, ...SHARD1].entries()) {
      await server.addGuild({ id, name: `Guild ${index}`, ownerId: OWNER, channels: [{ id: `22222222222222230${index}`, name: 'ops' }] });
      await server.addMember(id, { id: MEMBER, username: 'bob', permissions: 0n });
    }
  });
  afterEach(async () => {
    await server.close();
  });

  it('recommends its shard count in GET /gateway/bot, with an identify bucket per shard', async () => {
    const response = await fetch(`${server.apiUrl}/v10/gateway/bot`, { headers: { Authorization: `Bot ${TOKEN}` } });
    expect(await response.json()).toMatchObject({ shards: 2, session_start_limit: { max_concurrency: 2 } });
  });

  it('lists in READY, and sends as GUILD_CREATE, only the identifying shard’s guilds', async () => {
    const shard1 = await identifyAs(server, [1, 2]);
    const dispatches = await shard1.dispatchesAfter(2);
    shard1.close();
    const ready = dispatches.find((frame) => frame.t === 'READY');
    expect(ready?.d.shard).toEqual([1, 2]);
    expect((ready?.d.guilds as { id: string }[]).map((guild) => guild.id).sort()).toEqual([...SHARD1].sort());
    expect(dispatches.filter((frame) => frame.t === 'GUILD_CREATE').map((frame) => frame.d.id).sort()).toEqual([...SHARD1].sort());
  });

  it('refuses an IDENTIFY naming a shard outside its count with 4010 Invalid shard', async () => {
    for (const shard of [[2, 2], [-1, 2], [0, 0], [5, 3]]) {
      const connection = await identifyAs(server, shard);
      expect(await connection.closed(), JSON.stringify(shard)).toEqual({ code: 4010, reason: 'Invalid shard' });
      expect(connection.frames.some((frame) => frame.t === 'READY')).toBe(false);
    }
  });

  it('refuses with 4011 Sharding required a shard that would serve more guilds than one connection may', async () => {
    const strict = await FakeDiscordServer.start({ applicationId: APP_ID, botToken: TOKEN, maxGuildsPerShard: 2 });
    try {
      for (const id of [...SHARD0, ...SHARD1]) await strict.addGuild({ id, name: 'g', ownerId: OWNER });
      const unsharded = await identifyAs(strict, [0, 1]);
      expect(await unsharded.closed()).toEqual({ code: 4011, reason: 'Sharding required' });
      const sharded = await identifyAs(strict, [0, 2]);
      expect((await sharded.dispatchesAfter(2)).some((frame) => frame.t === 'READY')).toBe(true);
      sharded.close();
    } finally {
      await strict.close();
    }
  });

  it('with one client per shard (as in two processes), dispatches a guild’s events to its shard’s client alone', async () => {
    const clients = [0, 1].map((id) => new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: server.apiUrl }, shards: [id], shardCount: 2 }));
    const seen: string[][] = [[], []];
    try {
      for (const [id, client] of clients.entries()) {
        client.on('guildCreate', (guild) => seen[id]!.push(`guild ${guild.id}`));
        client.on('interactionCreate', (interaction) => {
          seen[id]!.push(`interaction ${interaction.guildId}`);
          if (interaction.isChatInputCommand()) void interaction.reply('ok');
        });
        const ready = once(client, 'clientReady');
        await client.login(TOKEN);
        await ready;
      }
      await server.waitForReady(5000);
      expect(clients.map((client) => [...client.guilds.cache.keys()].sort())).toEqual([[...SHARD0].sort(), [...SHARD1].sort()]);

      const invited = '555555555555555556';
      await server.addGuild({ id: invited, name: 'Invited', ownerId: OWNER, channels: [{ id: '222222222222222399', name: 'ops' }] });
      await server.addMember(invited, { id: MEMBER, username: 'bob', permissions: 0n });
      await vi.waitFor(() => expect(seen[1]).toContain(`guild ${invited}`));
      const h = await server.sendChatInput({ guildId: SHARD0[0]!, channelId: '222222222222222300', userId: MEMBER, name: 'ping' });
      await h.waitForResponse();
      expect(seen[0]).toEqual([`interaction ${SHARD0[0]}`]);
      expect(seen[1]).toEqual([`guild ${invited}`]);

      // With shard 1's process gone, nothing else receives its guilds' interactions.
      await clients[1]!.destroy();
      await expect(server.sendChatInput({ guildId: SHARD1[0]!, channelId: '222222222222222302', userId: MEMBER, name: 'ping' })).rejects.toThrow(/no ready gateway connection serving guild/);
      expect(seen[0]).toEqual([`interaction ${SHARD0[0]}`]);
    } finally {
      for (const client of clients) await client.destroy();
    }
  });
});

describe('the fake Discord server enforcing the deadline as Discord does', () => {
  it('answers an acknowledgement after the deadline with 10062 Unknown interaction and invalidates the token', async () => {
    const server = await FakeDiscordServer.start({
      applicationId: APP_ID,
      botToken: TOKEN,
      ackDeadlineMs: 100,
      rejectLateAcknowledgements: true,
    });
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: server.apiUrl } });
    try {
      await server.addGuild({ id: GUILD, name: 'Acme', ownerId: OWNER, channels: [{ id: CHANNEL, name: 'ops' }] });
      await server.addMember(GUILD, { id: MEMBER, username: 'bob', permissions: 0n });
      const outcomes: unknown[] = [];
      client.on('interactionCreate', (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        void (async () => {
          await new Promise((resolve) => setTimeout(resolve, 200));
          await interaction.reply('too late').catch((error: unknown) => outcomes.push(error));
          await client.rest
            .post(Routes.webhook(APP_ID, interaction.token), { body: { content: 'still too late' }, auth: false })
            .catch((error: unknown) => outcomes.push(error));
        })();
      });
      await client.login(TOKEN);
      await server.waitForReady(5000);
      const h = await server.sendChatInput({ guildId: GUILD, channelId: CHANNEL, userId: MEMBER, name: 'slow' });
      await vi.waitFor(() => expect(outcomes).toHaveLength(2));
      expect(outcomes).toMatchObject([{ code: 10062, status: 404 }, { code: 50027, status: 401 }]);
      expect(h.response).toBeUndefined();
      expect(server.deadlineViolations()).toMatchObject([{ interactionId: h.id, label: 'slow' }]);
    } finally {
      await client.destroy();
      await server.close();
    }
  });
});
