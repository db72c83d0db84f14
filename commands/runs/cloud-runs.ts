import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { UserError } from '../../src/shared/errors.js';
import { command, join, member, strong, text, time } from '../views/format.js';

const STATUS_ICONS = {
  queued: '⏸️',
  running: '⏳',
  succeeded: '✅',
  failed: '❌',
  cancelled: '✖️',
  timed_out: '⌛',
  interrupted: '⚠️',
} as const;

/** Why a run cannot be cancelled, as the end of "Run #3 is not queued or running (…)". */
const ALREADY = {
  queued: 'it is queued',
  running: 'it is running',
  succeeded: 'it has already succeeded',
  failed: 'it has already failed',
  cancelled: 'it was already cancelled',
  timed_out: 'it timed out',
  interrupted: 'it was interrupted',
} as const;

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-runs')
    .setDescription('Recent engine runs in this server, or cancel one that is queued or running')
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) => s.setName('list').setDescription('The most recent runs: what, who, status'))
    .addSubcommand((s) =>
      s
        .setName('cancel')
        .setDescription('Stop a queued or running run (the engine is asked to stop cleanly first)')
        .addIntegerOption((o) => o.setName('run').setDescription('Run number (see /cloud-runs list)').setRequired(true).setMinValue(1)),
    ),
  options: z.discriminatedUnion('subcommand', [
    z.object({ subcommand: z.literal('list') }),
    z.object({ subcommand: z.literal('cancel'), run: z.number().int().positive() }),
  ]),

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    if (options.subcommand === 'list') {
      const lines = await Promise.all((await app.runner.recentRuns(guildId, 15)).map(async (run) => {
        const project = await app.projects.getById(guildId, run.projectId, { includeArchived: true });
        return text`${STATUS_ICONS[run.status]} ${strong(text`#${String(run.number)}`)} ${run.kind} in ${project.name} by ${member(run.startedBy)} ${time(run.createdAt)} — ${run.status.replace('_', ' ')}`;
      }));
      // This server's runs only: how busy the engines are for other servers is theirs to know.
      const { running, queued } = await app.runner.loadOf(guildId);
      await conversation.reply({
        ephemeral: true,
        notices: [
          {
            title: '⚙️ Engine runs',
            description: text`${lines.length ? join(lines, '\n') : text`No runs yet.`}\n\nIn this server now: ${String(running)} running, ${String(queued)} queued.`,
          },
        ],
      });
      return;
    }
    // Another guild's run is reported exactly like a missing one.
    const run = await app.runner.getRun(guildId, options.run);
    if (!run) throw new UserError('runs.not_found', text`There is no run #${options.run} in this server. ${command('runs.list')} shows recent ones.`);
    if (run.startedBy !== actor.id) {
      const project = await app.projects.getById(guildId, run.projectId, { includeArchived: true });
      await app.jit.require({ guildId, userId: actor.id, provider: project.provider, isGuildAdmin: actor.isGuildAdmin, needed: 'admin' });
    }
    if (!app.runner.cancel(guildId, run.number)) {
      throw new UserError('runs.not_active', `Run #${run.number} is not queued or running (${ALREADY[run.status]}); there is nothing to cancel.`);
    }
    app.audit.record({ guildId, userId: actor.id, action: 'run.cancel', target: `#${run.number}`, outcome: 'success', details: { kind: run.kind } });
    await conversation.reply({
      ephemeral: true,
      content: `✖️ Cancelling run #${run.number} (${run.kind}): the engine was asked to stop cleanly and will be stopped harder if it does not.`,
    });
  },
});
