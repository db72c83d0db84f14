/**
 * One audit entry as a line a member reads: outcome, time, who, what, on what. Who is a member, or the bot's own
 * scheduled work (the janitor records as SYSTEM_USER, which is no member and must not look like a mention); the
 * target of a JIT action is the member whose access changed, stored as their id, and is shown as that member.
 */
import { isSnowflake } from '../shared/snowflake.js';
import { code, member, text, time, type Text } from '../shared/text.js';
import { SYSTEM_USER, type AuditEntry } from './audit-log.js';

const OUTCOME_ICONS = { success: '✅', denied: '⛔', failed: '⚠️', error: '💥' } as const;

/** Actions whose target is the id of the member the action was about (the grantee), not a name. */
const MEMBER_TARGET_ACTIONS = /^jit\./;

export function auditActor(userId: string): Text {
  return userId === SYSTEM_USER ? text`the bot (scheduled)` : member(userId);
}

export function auditTarget(entry: Pick<AuditEntry, 'action' | 'target'>): Text | undefined {
  if (entry.target === null) return undefined;
  if (MEMBER_TARGET_ACTIONS.test(entry.action) && isSnowflake(entry.target)) return member(entry.target);
  return text`${entry.target}`;
}

export function auditEntryLine(entry: AuditEntry): Text {
  const target = auditTarget(entry);
  return text`${OUTCOME_ICONS[entry.outcome]} ${time(entry.createdAt, 'clock')} ${auditActor(entry.userId)} ${code(entry.action)}${target ? text` → ${target}` : undefined}`;
}
