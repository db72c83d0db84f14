/** What /cloud-vault shows: session metadata only (the vault never hands out contents for display). */
import type { Message } from '../../src/interaction/conversation.js';
import type { VaultSessionInfo } from '../../src/vault/ephemeral-vault.js';
import { code, command, duration, join, member, text, time } from './format.js';

/** Every live session of the server, for its admins: project, owner, age and time left. */
export function vaultStatusView(sessions: readonly VaultSessionInfo[], projectOf: ReadonlyMap<string, string>, now: number, max: number): Message {
  const lines = sessions.map(
    (s) =>
      text`${code(s.sessionId)} — ${projectOf.get(s.sessionId) ?? 'no project'} — opened by ${member(s.ownerId)} ${duration(now - s.createdAt)} ago — expires ${time(s.expiresAt)}`,
  );
  return {
    ephemeral: true,
    notices: [
      {
        title: `🔐 Vault sessions in this server: ${sessions.length} of ${max}`,
        description: lines.length
          ? text`${join(lines, '\n')}\n\nContents are never shown. Close one with ${command('vault.close')}; its secrets are wiped from memory.`
          : 'No open sessions in this server.',
      },
    ],
  };
}
