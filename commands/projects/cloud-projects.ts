import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { PROJECTS_SHOWN, RESOURCES_SHOWN, projectsView } from '../views/projects-list.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-projects')
    .setDescription('This server’s projects: resources, status, monthly estimate, vault time left')
    .setContexts(InteractionContextType.Guild),
  options: z.object({}),

  async execute({ conversation, app }) {
    const { guildId } = conversation;
    const overview = await app.projectOverviews.of(guildId, { projects: PROJECTS_SHOWN, resourcesPerProject: RESOURCES_SHOWN });
    const vaultExpiry = new Map(app.vault.list(guildId).map((session) => [session.sessionId, session.expiresAt]));
    await conversation.reply(projectsView(overview, vaultExpiry, await app.policies.get(guildId)));
  },
});
