import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { levelLabel, providerLabel } from '../../src/jit/levels.js';
import { UserError } from '../../src/shared/errors.js';
import { join, member, strong, text, time } from '../views/format.js';
import { userOption } from '../views/options.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-jit-list')
    .setDescription('Active temporary permissions: everyone’s (admins) or your own')
    .setContexts(InteractionContextType.Guild)
    .addUserOption((o) => o.setName('user').setDescription('Only this member (admins)')),
  options: z.object({ user: userOption.optional() }),

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    // Members see their own grants; only admins see everyone's.
    if (!actor.isGuildAdmin && options.user && options.user.id !== actor.id) {
      throw new UserError('permission.admin_only', "Only server admins can see other members' grants. Run it without `user` to see yours.");
    }
    const userId = actor.isGuildAdmin ? options.user?.id : actor.id;
    const grants = app.jit.listActive(guildId, userId);
    const lines = grants.map(
      (g) =>
        text`${strong(text`#${g.id}`)} ${member(g.userId)} — ${levelLabel(g.level)} on ${providerLabel(g.provider)}, expires ${time(g.expiresAt)}${g.reason ? text` — ${g.reason}` : undefined}`,
    );
    await conversation.reply({
      ephemeral: true,
      notices: [
        {
          title: userId === actor.id ? 'Your active permissions' : 'Active JIT permissions',
          description: lines.length ? join(lines, '\n') : 'No active grants.',
        },
      ],
    });
  },
});
