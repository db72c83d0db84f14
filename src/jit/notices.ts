/** The words members read about their JIT grants: one place, so DMs and channel fallbacks say the same thing. */
import type { Notice } from '../notify/notifier.js';
import { levelLabel, providerLabel, type JitProvider, type PermissionLevel } from './levels.js';
import { escapeMarkdown } from '../shared/member-text.js';

export interface GrantFacts {
  id: number;
  userId: string;
  provider: JitProvider;
  level: PermissionLevel;
  grantedAt: number;
  expiresAt: number;
  grantedBy: string;
  reason: string | null;
}

/** "45 minutes", "2 hours", "1 hour 30 minutes" — rounded to the minute. */
export function formatDuration(ms: number): string {
  const totalMinutes = Math.max(0, Math.round(ms / 60_000));
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  const part = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (hours === 0) return part(minutes, 'minute');
  return minutes === 0 ? part(hours, 'hour') : `${part(hours, 'hour')} ${part(minutes, 'minute')}`;
}

/** Discord renders `<t:UNIX:R>` in each reader's own terms ("in 2 hours"). */
export function discordRelativeTime(epochMs: number): string {
  return `<t:${Math.floor(epochMs / 1000)}:R>`;
}

function serverName(guildName: string | undefined): string {
  return guildName ? `server "${guildName}"` : 'this server';
}

/**
 * The notice a member gets when granted access. `viaChannel` words it for the guild's notification channel,
 * used when the member's DMs are closed.
 */
export function grantNotice(grant: GrantFacts, guildName: string | undefined, viaChannel = false): Notice {
  const who = viaChannel ? `<@${grant.userId}>, you've` : "You've";
  const fields = [
    { name: 'Expires', value: `${discordRelativeTime(grant.expiresAt)} (after ${formatDuration(grant.expiresAt - grant.grantedAt)})` },
    { name: 'Permission ID', value: `#${grant.id}` },
    { name: 'Granted by', value: `<@${grant.grantedBy}>` },
  ];
  if (grant.reason) fields.push({ name: 'Reason', value: escapeMarkdown(grant.reason) });
  return {
    title: 'JIT permission granted',
    description: `${who} been granted ${levelLabel(grant.level)} access to ${providerLabel(grant.provider)} in ${serverName(guildName)}.`,
    fields,
    tone: 'success',
  };
}

/** The notice a member gets when a grant ran out and the janitor revoked it. */
export function expiryNotice(grant: GrantFacts, guildName: string | undefined, viaChannel = false): Notice {
  const whose = viaChannel ? `<@${grant.userId}>, your` : 'Your';
  return {
    title: 'JIT permission expired',
    description:
      `${whose} ${levelLabel(grant.level)} permission for ${providerLabel(grant.provider)} in ${serverName(guildName)} ` +
      'has expired and been revoked.',
    fields: [
      { name: 'Duration', value: formatDuration(grant.expiresAt - grant.grantedAt) },
      { name: 'Permission ID', value: `#${grant.id}` },
    ],
    tone: 'warning',
  };
}
