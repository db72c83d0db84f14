/** The words members read about their JIT grants: one place, so DMs and channel fallbacks say the same thing. */
import type { Notice } from '../notify/notifier.js';
import { duration, literal, member, text, time } from '../shared/text.js';
import { levelLabel, providerLabel, type JitProvider, type PermissionLevel } from './levels.js';

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

function serverName(guildName: string | undefined) {
  return guildName ? text`server "${guildName}"` : text`this server`;
}

/**
 * The notice a member gets when granted access. `viaChannel` words it for the guild's notification channel,
 * used when the member's DMs are closed.
 */
export function grantNotice(grant: GrantFacts, guildName: string | undefined, viaChannel = false): Notice {
  const who = viaChannel ? text`${member(grant.userId)}, you've` : text`You've`;
  const fields = [
    // time() already says how far away the expiry is ("in 30 minutes"): the duration would say it twice.
    { name: 'Expires', value: time(grant.expiresAt) },
    { name: 'Permission ID', value: text`#${grant.id}` },
    { name: 'Granted by', value: member(grant.grantedBy) },
  ];
  if (grant.reason) fields.push({ name: 'Reason', value: literal(grant.reason) });
  return {
    title: 'JIT permission granted',
    description: text`${who} been granted ${levelLabel(grant.level)} access to ${providerLabel(grant.provider)} in ${serverName(guildName)}.`,
    fields,
    tone: 'success',
  };
}

/** The notice a member gets when a grant ran out and the janitor revoked it. */
export function expiryNotice(grant: GrantFacts, guildName: string | undefined, viaChannel = false): Notice {
  const whose = viaChannel ? text`${member(grant.userId)}, your` : text`Your`;
  return {
    title: 'JIT permission expired',
    description: text`${whose} ${levelLabel(grant.level)} permission for ${providerLabel(grant.provider)} in ${serverName(guildName)} has expired and been revoked.`,
    fields: [
      { name: 'Duration', value: duration(grant.expiresAt - grant.grantedAt) },
      { name: 'Permission ID', value: text`#${grant.id}` },
    ],
    tone: 'warning',
  };
}
