import { InteractionContextType, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { levelLabel, providerLabel } from '../../src/jit/levels.js';
import { duration, literal, member, strong, text, time } from '../views/format.js';
import { JIT_PROVIDER_CHOICES, jitProviderOption, LEVEL_CHOICES, levelOption, userOption } from '../views/options.js';
import { refuseInvisible } from '../../src/shared/member-text.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-jit-grant')
    .setDescription('Grant a member temporary access to a cloud provider (admin)')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild)
    .addUserOption((o) => o.setName('user').setDescription('Who gets access').setRequired(true))
    .addStringOption((o) =>
      o
        .setName('provider')
        .setDescription('Which provider')
        .setRequired(true)
        .addChoices(...JIT_PROVIDER_CHOICES),
    )
    .addStringOption((o) => o.setName('level').setDescription('Access level').setRequired(true).addChoices(...LEVEL_CHOICES))
    .addIntegerOption((o) =>
      o.setName('duration').setDescription('Minutes until it expires').setRequired(true).setMinValue(1).setMaxValue(10_080),
    )
    .addStringOption((o) => o.setName('reason').setDescription('Why (shown in the audit log)').setMaxLength(300)),
  options: z.object({
    user: userOption,
    provider: jitProviderOption,
    level: levelOption,
    duration: z.number().int('a whole number of minutes'),
    reason: z.string().max(300).superRefine(refuseInvisible).optional(),
  }),
  adminOnly: true,

  async execute({ conversation, options, app }) {
    await conversation.defer({ ephemeral: true });
    const { grant, dmDelivered } = await app.jit.grant({
      guildId: conversation.guildId,
      granteeId: options.user.id,
      granteeIsBot: options.user.isBot,
      grantedBy: conversation.actor.id,
      provider: options.provider,
      level: options.level,
      durationMinutes: options.duration,
      reason: options.reason,
    });
    await conversation.edit({
      notices: [
        {
          title: '🔑 JIT permission granted',
          tone: 'success',
          description: text`${member(grant.userId)} has ${strong(levelLabel(grant.level))} access to ${strong(providerLabel(grant.provider))} for ${duration(grant.expiresAt - grant.grantedAt)}, until ${time(grant.expiresAt, 'datetime')}.`,
          fields: [
            { name: 'Permission ID', value: String(grant.id) },
            { name: 'Member notified', value: dmDelivered ? 'yes, by DM' : 'no: their DMs are closed (see the notification channel, if set)' },
            ...(grant.reason ? [{ name: 'Reason', value: literal(grant.reason) }] : []),
          ],
        },
      ],
    });
  },
});
