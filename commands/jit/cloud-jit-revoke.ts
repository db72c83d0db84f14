import { InteractionContextType, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { UserError } from '../../src/shared/errors.js';
import { member, text } from '../views/format.js';
import { userOption } from '../views/options.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-jit-revoke')
    .setDescription("Revoke a member's temporary access now (admin)")
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild)
    .addUserOption((o) => o.setName('user').setDescription('Revoke all of this member’s active grants'))
    .addIntegerOption((o) => o.setName('permission_id').setDescription('Or revoke one grant by its id').setMinValue(1)),
  options: z.object({ user: userOption.optional(), permission_id: z.number().int().positive().optional() }),
  adminOnly: true,

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    if (options.permission_id !== undefined) {
      const grant = await app.jit.revokeOne(guildId, options.permission_id, actor.id);
      await conversation.reply({
        content: text`✅ Revoked permission ${grant.id} (${grant.level} on ${grant.provider}) of ${member(grant.userId)}.`,
        ephemeral: true,
      });
      return;
    }
    if (!options.user) {
      throw new UserError('options.missing', 'Say whose access to revoke: give `user`, or `permission_id` for a single grant.');
    }
    const count = await app.jit.revokeAll(guildId, options.user.id, actor.id);
    await conversation.reply({
      content:
        count > 0
          ? text`✅ Revoked ${count} active grant${count === 1 ? '' : 's'} of ${member(options.user.id)}.`
          : text`${member(options.user.id)} has no active grants in this server; nothing to revoke.`,
      ephemeral: true,
    });
  },
});
