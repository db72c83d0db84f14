import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { projectsView } from '../views/projects-list.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-projects')
    .setDescription('This server’s projects: resources, status, monthly estimate, vault time left')
    .setContexts(InteractionContextType.Guild),
  options: z.object({}),

  async execute({ conversation, app }) {
    const { guildId } = conversation;
    const projects = app.projects.list(guildId).map((project) => ({
      project,
      resources: app.resources.listByProject(guildId, project.id).filter((r) => r.status !== 'destroyed'),
      vaultExpiresAt: vaultExpiry(app.vault, guildId, project.vaultSessionId),
    }));
    await conversation.reply(projectsView(projects, app.policies.get(guildId)));
  },
});

function vaultExpiry(
  vault: { list(guildId: string): Array<{ sessionId: string; expiresAt: number }> },
  guildId: string,
  sessionId: string | null,
): number | null {
  if (!sessionId) return null;
  return vault.list(guildId).find((s) => s.sessionId === sessionId)?.expiresAt ?? null;
}
