import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { refuseInvisible } from '../../src/shared/member-text.js';
import { requestSentView } from '../views/jit-requests.js';
import { JIT_PROVIDER_CHOICES, jitProviderOption, LEVEL_CHOICES, levelOption } from '../views/options.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-jit-request')
    .setDescription('Ask for temporary access to a cloud provider; an admin approves or denies it')
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) =>
      o
        .setName('provider')
        .setDescription('Which provider')
        .setRequired(true)
        .addChoices(...JIT_PROVIDER_CHOICES),
    )
    .addStringOption((o) => o.setName('level').setDescription('Access level').setRequired(true).addChoices(...LEVEL_CHOICES))
    .addIntegerOption((o) =>
      o.setName('duration').setDescription('Minutes you need it for, from approval').setRequired(true).setMinValue(1).setMaxValue(10_080),
    )
    .addStringOption((o) => o.setName('reason').setDescription('Why you need it (reviewers decide on it)').setRequired(true).setMaxLength(300)),
  options: z.object({
    provider: jitProviderOption,
    level: levelOption,
    duration: z.number().int('a whole number of minutes'),
    reason: z.string().max(300).superRefine(refuseInvisible),
  }),

  async execute({ conversation, options, app }) {
    // Posting the request for review goes over the network; the checks before it are what the member hears first.
    await conversation.defer({ ephemeral: true });
    const { request, postedIn } = await app.jitRequests.ask({
      guildId: conversation.guildId,
      channelId: conversation.channelId,
      requesterId: conversation.actor.id,
      requesterIsBot: conversation.actor.isBot,
      provider: options.provider,
      level: options.level,
      durationMinutes: options.duration,
      reason: options.reason,
    });
    await conversation.edit(requestSentView(request, postedIn));
  },
});
