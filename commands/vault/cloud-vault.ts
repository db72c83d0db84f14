import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { defineCommand } from '../../src/interaction/command.js';
import { AdminOnly } from '../../src/interaction/errors.js';
import { UserError } from '../../src/shared/errors.js';
import { code, command, join, text, time } from '../views/format.js';
import { vaultStatusView } from '../views/vault.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-vault')
    .setDescription('Your open vault sessions, or close one early')
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) => s.setName('list').setDescription('Your open sessions and the time they have left'))
    .addSubcommand((s) => s.setName('status').setDescription('Every open session in this server: project, owner, age, time left (admin)'))
    .addSubcommand((s) =>
      s
        .setName('close')
        .setDescription('Close a session now; its secrets are wiped from memory')
        .addStringOption((o) => o.setName('session').setDescription('Session id').setRequired(true).setAutocomplete(true).setMaxLength(64)),
    ),
  options: z.discriminatedUnion('subcommand', [
    z.object({ subcommand: z.literal('list') }),
    z.object({ subcommand: z.literal('status') }),
    z.object({ subcommand: z.literal('close'), session: z.string().trim().min(1).max(64) }),
  ]),

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    if (options.subcommand === 'status') {
      // list and close are every member's own; the whole server's sessions are for its admins (checked on each use).
      if (!actor.isGuildAdmin) {
        app.audit.record({ guildId, userId: actor.id, action: 'vault.status', outcome: 'denied' });
        throw new AdminOnly('cloud-vault status');
      }
      const projectOf = new Map((await app.projects.list(guildId)).flatMap((p) => (p.vaultSessionId ? [[p.vaultSessionId, p.name] as const] : [])));
      await conversation.reply(vaultStatusView(app.vault.list(guildId), projectOf, app.clock.now(), app.config.VAULT_MAX_SESSIONS_PER_GUILD));
      return;
    }
    if (options.subcommand === 'list') {
      const sessions = app.vault.list(guildId, actor.id);
      const linked = new Map((await app.projects.list(guildId)).map((p) => [p.vaultSessionId, p.name]));
      const lines = sessions.map(
        (s) => text`${code(s.sessionId)} — ${linked.get(s.sessionId) ?? 'no project'} — expires ${time(s.expiresAt)}`,
      );
      await conversation.reply({
        ephemeral: true,
        notices: [{ title: '🔐 Your vault sessions', description: lines.length ? join(lines, '\n') : 'You have no open sessions.' }],
      });
      return;
    }
    // Only the member who opened a session (or an admin) may close it; someone else's looks like a missing one.
    const mine = app.vault.list(guildId, actor.isGuildAdmin ? undefined : actor.id).some((s) => s.sessionId === options.session);
    if (!mine || !app.vault.close(guildId, options.session)) {
      throw new UserError('vault.not_found', text`No open session with that id. ${command('vault.list')} shows yours.`);
    }
    app.audit.record({ guildId, userId: actor.id, action: 'vault.close', target: options.session, outcome: 'success' });
    await conversation.reply({ ephemeral: true, content: text`🧹 Session ${code(options.session)} closed; its secrets are wiped from memory.` });
  },

  async autocomplete(request, app) {
    // An admin may close any session of the server, so is offered all of them; a member, their own.
    return app.vault
      .list(request.guildId, request.actor.isGuildAdmin ? undefined : request.actor.id)
      .filter((s) => s.sessionId.startsWith(request.focused.value))
      .map((s) => ({ name: s.sessionId, value: s.sessionId }));
  },
});
