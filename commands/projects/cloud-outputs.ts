import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { credentialsForRun, parseCredentialChoice } from '../../src/deploy/run-credentials.js';
import { defineCommand } from '../../src/interaction/command.js';
import { completeCredentials, completeProjects } from '../views/autocomplete.js';
import { outputsView } from '../views/deploy.js';
import { UserError } from '../../src/shared/errors.js';
import { code, command, strong, text } from '../views/format.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-outputs')
    .setDescription('A project’s current outputs (ids, addresses); sensitive ones stay hidden')
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('project').setDescription('Project').setRequired(true).setAutocomplete(true).setMaxLength(64))
    .addIntegerOption((o) => o.setName('resource').setDescription('A template deployment’s id (see /cloud-projects); leave out for vm and bucket').setMinValue(1))
    .addStringOption((o) => o.setName('credential').setDescription('session, service, or a stored credential').setAutocomplete(true).setMaxLength(64)),
  options: z.object({
    project: z.string().trim().min(1).max(64),
    resource: z.number().int().positive().optional(),
    credential: z.string().trim().max(64).optional(),
  }),

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    await conversation.defer({ ephemeral: true });
    const project = await app.projects.get(guildId, options.project);
    await app.jit.require({ guildId, userId: actor.id, provider: project.provider, isGuildAdmin: actor.isGuildAdmin, needed: 'viewer' });
    // A template deployment keeps its outputs in its own state; the built-ins share the project's.
    const deployment = options.resource === undefined ? undefined : await app.resources.get(guildId, options.resource);
    if (deployment && (deployment.projectId !== project.id || deployment.workspace === null)) {
      throw new UserError('outputs.not_a_deployment', text`Project ${strong(project.name)} has no template deployment #${options.resource}: leave ${code('resource')} out for its vm and bucket resources, or see ${command('projects')}.`);
    }
    const credentials = await credentialsForRun(app, project, parseCredentialChoice(options.credential, project));
    const result = await app.runner.outputs({
      guildId,
      projectSlug: project.slug,
      userId: actor.id,
      credentialEnv: credentials.env,
      enginePreference: (await app.policies.get(guildId)).enginePreference,
      ...(deployment ? { resourceId: deployment.id } : {}),
    });
    await conversation.edit(outputsView(project, result.outputs, deployment));
  },

  async autocomplete(request, app) {
    return request.focused.name === 'project' ? completeProjects(app, request) : completeCredentials(app, request);
  },
});
