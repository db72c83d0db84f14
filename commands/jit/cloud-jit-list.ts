import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { levelLabel, providerLabel } from '../../src/jit/levels.js';
import { UserError } from '../../src/shared/errors.js';
import { command, duration, join, member, strong, text, time } from '../views/format.js';
import { userOption } from '../views/options.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-jit-list')
    .setDescription('Active temporary permissions and pending requests: everyone’s (admins) or your own')
    .setContexts(InteractionContextType.Guild)
    .addUserOption((o) => o.setName('user').setDescription('Only this member (admins)')),
  options: z.object({ user: userOption.optional() }),

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    // Members see their own grants; only admins see everyone's.
    if (!actor.isGuildAdmin && options.user && options.user.id !== actor.id) {
      throw new UserError('permission.admin_only', "Only server admins can see other members' grants and requests. Run it without `user` to see yours.");
    }
    const userId = actor.isGuildAdmin ? options.user?.id : actor.id;
    const grants = await app.jit.listActive(guildId, userId);
    const lines = grants.map(
      (g) =>
        text`${strong(text`#${g.id}`)} ${member(g.userId)} — ${levelLabel(g.level)} on ${providerLabel(g.provider)}, expires ${time(g.expiresAt)}${g.reason ? text` — ${g.reason}` : undefined}`,
    );
    const pending = (await app.jitRequests.listPending(guildId, userId)).map((r) =>
      r.kind === 'access'
        ? text`${strong(text`request #${r.id}`)} ${member(r.requesterId)} — ${levelLabel(r.level)} on ${providerLabel(r.provider)} for ${duration(r.durationMinutes * 60_000)}, waits until ${time(r.expiresAt)} — ${r.reason}`
        : text`${strong(text`request #${r.id}`)} ${member(r.requesterId)} — ${duration(r.durationMinutes * 60_000)} more on grant #${r.grantId ?? 0}, waits until ${time(r.expiresAt)} — ${r.reason}`,
    );
    const mine = userId === actor.id;
    await conversation.reply({
      ephemeral: true,
      notices: [
        {
          title: mine ? 'Your active permissions' : 'Active JIT permissions',
          description: lines.length ? join(lines, '\n') : 'No active grants.',
        },
        {
          title: mine ? 'Your pending requests' : 'Pending JIT requests',
          description: pending.length ? join(pending, '\n') : text`No pending requests. Ask with ${command('jit.request')}.`,
        },
      ],
    });
  },
});
