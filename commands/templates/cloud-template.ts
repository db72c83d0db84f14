import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { TEMPLATE_NAME_MAX } from '../../src/templates/template-name.js';
import {
  completeTemplateNames,
  templateAddedView,
  templateListView,
  templateRemovedView,
  templateShowView,
  templateToggledView,
  templateUpdatedView,
} from '../views/templates.js';

const name = z.string().trim().min(1).max(TEMPLATE_NAME_MAX);

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-template')
    // Open to every member: anyone may list and show; the changes are checked for Manage Server in the use case.
    .setDescription('Templates to deploy: list, show (anyone); add from git, update, remove, enable, disable (admins)')
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) =>
      s
        .setName('add')
        .setDescription('Add a Terraform/OpenTofu module from a git repository, pinned to the commit its ref points to')
        .addStringOption((o) => o.setName('name').setDescription('What members will type, e.g. web-server').setRequired(true).setMaxLength(TEMPLATE_NAME_MAX))
        .addStringOption((o) => o.setName('url').setDescription('https address of the repository').setRequired(true).setMaxLength(300))
        .addStringOption((o) => o.setName('ref').setDescription('Branch, tag or full commit (default: the default branch)').setMaxLength(200))
        .addStringOption((o) => o.setName('subdir').setDescription('Folder of the module inside the repository (default: its top)').setMaxLength(200))
        .addStringOption((o) => o.setName('description').setDescription('One line members will see').setMaxLength(200)),
    )
    .addSubcommand((s) => s.setName('list').setDescription('The templates members can deploy here'))
    .addSubcommand((s) =>
      s
        .setName('show')
        .setDescription('A template’s inputs (type, default, sensitive) and the commit it is pinned to')
        .addStringOption((o) => o.setName('name').setDescription('Template').setRequired(true).setAutocomplete(true).setMaxLength(TEMPLATE_NAME_MAX)),
    )
    .addSubcommand((s) =>
      s
        .setName('update')
        .setDescription('Fetch the template’s ref again (or a new ref) and pin the commit it points to now')
        .addStringOption((o) => o.setName('name').setDescription('Template').setRequired(true).setAutocomplete(true).setMaxLength(TEMPLATE_NAME_MAX))
        .addStringOption((o) => o.setName('ref').setDescription('A new branch, tag or full commit (default: the same ref)').setMaxLength(200)),
    )
    .addSubcommand((s) =>
      s
        .setName('remove')
        .setDescription('Remove a template this server added; its stored files are erased')
        .addStringOption((o) => o.setName('name').setDescription('Template').setRequired(true).setAutocomplete(true).setMaxLength(TEMPLATE_NAME_MAX)),
    )
    .addSubcommand((s) =>
      s
        .setName('enable')
        .setDescription('Let members deploy one of the operator’s templates')
        .addStringOption((o) => o.setName('name').setDescription('Operator template').setRequired(true).setAutocomplete(true).setMaxLength(TEMPLATE_NAME_MAX)),
    )
    .addSubcommand((s) =>
      s
        .setName('disable')
        .setDescription('Stop offering one of the operator’s templates here')
        .addStringOption((o) => o.setName('name').setDescription('Operator template').setRequired(true).setAutocomplete(true).setMaxLength(TEMPLATE_NAME_MAX)),
    ),
  options: z.discriminatedUnion('subcommand', [
    z.object({
      subcommand: z.literal('add'),
      name,
      url: z.string().trim().min(1).max(300),
      ref: z.string().trim().max(200).optional(),
      subdir: z.string().trim().max(200).optional(),
      description: z.string().trim().max(200).optional(),
    }),
    z.object({ subcommand: z.literal('list') }),
    z.object({ subcommand: z.literal('show'), name }),
    z.object({ subcommand: z.literal('update'), name, ref: z.string().trim().max(200).optional() }),
    z.object({ subcommand: z.literal('remove'), name }),
    z.object({ subcommand: z.literal('enable'), name }),
    z.object({ subcommand: z.literal('disable'), name }),
  ]),

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    const templates = app.templateAdmin;
    switch (options.subcommand) {
      case 'list':
        return conversation.reply(templateListView(await templates.overview(guildId), actor.isGuildAdmin));
      case 'show':
        return conversation.reply(templateShowView(await templates.show(guildId, options.name)));
      case 'add': {
        // Fetching a repository can outlast Discord's three seconds (a refusal then edits this private answer).
        await conversation.defer({ ephemeral: true });
        const added = await templates.add({ guildId, actor, name: options.name, url: options.url, ref: options.ref, subdir: options.subdir, description: options.description });
        return conversation.edit(templateAddedView(added));
      }
      case 'update': {
        await conversation.defer({ ephemeral: true });
        return conversation.edit(templateUpdatedView(await templates.update({ guildId, actor, name: options.name, ref: options.ref })));
      }
      case 'remove':
        return conversation.reply(templateRemovedView(await templates.remove({ guildId, actor, name: options.name })));
      case 'enable': {
        const { template, changed } = await templates.enable({ guildId, actor, name: options.name });
        return conversation.reply(templateToggledView(template, true, changed));
      }
      case 'disable': {
        const { template, changed } = await templates.disable({ guildId, actor, name: options.name });
        return conversation.reply(templateToggledView(template, false, changed));
      }
    }
  },

  async autocomplete(request, app) {
    return completeTemplateNames(app, request);
  },
});
