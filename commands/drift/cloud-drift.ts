import { InteractionContextType, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { DEFAULT_DRIFT_SCHEDULE, driftScheduleSchema } from '../../src/drift/drift-schedule.js';
import { defineCommand } from '../../src/interaction/command.js';
import { completeProjects } from '../views/autocomplete.js';
import { driftCheckedView, driftDisabledView, driftEnabledView, driftListView } from '../views/drift.js';

const project = z.string().trim().min(1).max(64);
const deployment = z.number().int().positive().optional();

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-drift')
    .setDescription('Scheduled drift checks: find what changed in the cloud outside the bot (admin)')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) =>
      s
        .setName('enable')
        .setDescription('Check a project (or one deployment) on a schedule')
        .addStringOption((o) => o.setName('project').setDescription('Project').setRequired(true).setAutocomplete(true).setMaxLength(64))
        .addIntegerOption((o) => o.setName('deployment').setDescription('A template deployment’s id (see /cloud-projects); leave out for the built-ins').setMinValue(1))
        .addStringOption((o) => o.setName('schedule').setDescription('hourly, daily (default), weekly, or a cron expression in UTC such as 0 6 * * *').setMaxLength(100)),
    )
    .addSubcommand((s) =>
      s
        .setName('disable')
        .setDescription('Stop checking a project (or one deployment)')
        .addStringOption((o) => o.setName('project').setDescription('Project').setRequired(true).setAutocomplete(true).setMaxLength(64))
        .addIntegerOption((o) => o.setName('deployment').setDescription('A template deployment’s id').setMinValue(1)),
    )
    .addSubcommand((s) => s.setName('list').setDescription('This server’s drift checks and what each found last'))
    .addSubcommand((s) =>
      s
        .setName('check')
        .setDescription('Check now (the check must be enabled); drift is reported as a scheduled check reports it')
        .addStringOption((o) => o.setName('project').setDescription('Project').setRequired(true).setAutocomplete(true).setMaxLength(64))
        .addIntegerOption((o) => o.setName('deployment').setDescription('A template deployment’s id').setMinValue(1)),
    ),
  options: z.discriminatedUnion('subcommand', [
    z.object({ subcommand: z.literal('enable'), project, deployment, schedule: driftScheduleSchema.prefault(DEFAULT_DRIFT_SCHEDULE) }),
    z.object({ subcommand: z.literal('disable'), project, deployment }),
    z.object({ subcommand: z.literal('list') }),
    z.object({ subcommand: z.literal('check'), project, deployment }),
  ]),
  adminOnly: true,

  async execute({ conversation, options, app }) {
    const { guildId, actor: admin } = conversation;
    switch (options.subcommand) {
      case 'enable': {
        const { check, label } = await app.drift.enable({ guildId, admin, project: options.project, deploymentId: options.deployment, schedule: options.schedule, channelId: conversation.channelId });
        return conversation.reply(driftEnabledView(check, label));
      }
      case 'disable':
        return conversation.reply(driftDisabledView(await app.drift.disable({ guildId, admin, project: options.project, deploymentId: options.deployment })));
      case 'list':
        return conversation.reply(driftListView(await app.drift.list(guildId, admin)));
      case 'check': {
        await conversation.defer({ ephemeral: true });
        const { result, label } = await app.drift.checkNow({ guildId, admin, project: options.project, deploymentId: options.deployment });
        return conversation.edit(driftCheckedView(result, label));
      }
    }
  },

  async autocomplete(request, app) {
    return completeProjects(app, request);
  },
});
