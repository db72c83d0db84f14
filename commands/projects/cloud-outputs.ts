import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { credentialsForRun, parseCredentialChoice } from '../../src/deploy/run-credentials.js';
import { defineCommand } from '../../src/interaction/command.js';
import { completeCredentials, completeProjects } from '../views/autocomplete.js';
import { outputsView } from '../views/deploy.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-outputs')
    .setDescription('A project’s current outputs (ids, addresses); sensitive ones stay hidden')
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('project').setDescription('Project').setRequired(true).setAutocomplete(true).setMaxLength(64))
    .addStringOption((o) => o.setName('credential').setDescription('session, service, or a stored credential').setAutocomplete(true).setMaxLength(64)),
  options: z.object({
    project: z.string().trim().min(1).max(64),
    credential: z.string().trim().max(64).optional(),
  }),

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    await conversation.defer({ ephemeral: true });
    const project = app.projects.get(guildId, options.project);
    app.jit.require({ guildId, userId: actor.id, provider: project.provider, isGuildAdmin: actor.isGuildAdmin, needed: 'viewer' });
    const credentials = credentialsForRun(app, project, parseCredentialChoice(options.credential, project));
    const result = await app.runner.outputs({
      guildId,
      projectSlug: project.slug,
      userId: actor.id,
      credentialEnv: credentials.env,
      enginePreference: app.policies.get(guildId).enginePreference,
    });
    await conversation.edit(outputsView(project, result.outputs));
  },

  async autocomplete(request, app) {
    return request.focused.name === 'project' ? completeProjects(app, request) : completeCredentials(app, request);
  },
});
