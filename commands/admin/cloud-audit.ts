import { InteractionContextType, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { auditEntryLine } from '../../src/audit/entry-text.js';
import { join } from '../views/format.js';
import { userOption } from '../views/options.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-audit')
    .setDescription('Recent actions in this server: who did what, with what outcome (admin)')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild)
    .addUserOption((o) => o.setName('user').setDescription('Only this member’s actions'))
    .addStringOption((o) => o.setName('action').setDescription('Only this action, e.g. deploy.apply').setMaxLength(64))
    .addIntegerOption((o) => o.setName('limit').setDescription('How many entries (default 20)').setMinValue(1).setMaxValue(50)),
  options: z.object({
    user: userOption.optional(),
    action: z.string().max(64).optional(),
    limit: z.number().int().min(1).max(50).default(20),
  }),
  adminOnly: true,

  async execute({ conversation, options, app }) {
    const entries = await app.audit.recent(conversation.guildId, {
      limit: options.limit,
      userId: options.user?.id,
      action: options.action,
    });
    await conversation.reply({
      ephemeral: true,
      notices: [{ title: '🧾 Audit log', description: entries.length ? join(entries.map(auditEntryLine), '\n') : 'No entries match.' }],
    });
  },
});
