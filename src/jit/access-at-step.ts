/**
 * Access checked again at each step that acts, not only when the command started. A plan can wait minutes for its
 * Apply press and half an hour for an admin's approval; a JIT grant may expire or be revoked meanwhile, and then the
 * step must not run. The refusal is audited and says which level on which provider is missing, why it ended
 * (expired, or revoked by whom) and how to get it back.
 */
import { UserError } from '../shared/errors.js';
import { command, member as memberText, text, time, toText, type RichText, type Text } from '../shared/text.js';
import type { JitService } from './jit-service.js';
import { levelLabel, providerLabel, satisfies, type PermissionLevel, type Provider } from './levels.js';
import type { JitAuditSink } from './ports.js';

export type StepRole = 'requester' | 'confirmer' | 'approver';

export interface StepParticipant {
  userId: string;
  /**
   * Manage Server / Administrator as last seen: fresh from the press for whoever pressed, from the command for a
   * requester who did not press (the bot learns a member's server permissions only from their own interactions).
   */
  isGuildAdmin: boolean;
  needed: PermissionLevel;
  role: StepRole;
}

export interface StepCheck {
  guildId: string;
  provider: Provider;
  /** Audit action the refusal is recorded under, e.g. `deploy.apply`. */
  action: string;
  /** Audit target, e.g. the project name. */
  target: string;
  /** What was about to happen, in the audit details: `apply`, `destroy`... */
  step: string;
  /** Each member once, with the freshest admin flag known. */
  participants: StepParticipant[];
  /** What happened instead, told to the member, e.g. "The plan was discarded; nothing was applied." */
  outcome: RichText;
  /** What to do once access is back, e.g. text`run ${command('deploy')} again`. */
  afterwards: RichText;
  details?: Record<string, unknown>;
}

/** A step refused because someone taking part does not hold (any more) the level it needs. */
export class AccessLostAtStep extends UserError {
  constructor(
    readonly participant: StepParticipant,
    readonly provider: Provider,
    readonly held: PermissionLevel | null,
    message: Text,
  ) {
    super('jit.access_lost', message);
  }
}

type Deps = { jit: Pick<JitService, 'effectiveLevel' | 'lastEnded'>; audit: JitAuditSink };

/**
 * Checks every participant at this instant. Returns null when all still hold what the step needs; otherwise records
 * a denied audit entry and returns the refusal to show (the caller undoes what it prepared, e.g. discards the plan).
 */
export async function accessLostAt(deps: Deps, check: StepCheck): Promise<AccessLostAtStep | null> {
  for (const participant of check.participants) {
    const query = { guildId: check.guildId, userId: participant.userId, provider: check.provider, isGuildAdmin: participant.isGuildAdmin };
    const held = await deps.jit.effectiveLevel(query);
    if (satisfies(held, participant.needed)) continue;
    const ended = await deps.jit.lastEnded(query);
    const why = !ended
      ? undefined
      : ended.revoked && ended.revokeReason === 'manual'
        ? { grantId: ended.id, ended: 'revoked' as const, by: ended.revokedBy }
        : { grantId: ended.id, ended: 'expired' as const, at: ended.expiresAt };
    await deps.audit.record({
      guildId: check.guildId,
      userId: participant.userId,
      action: check.action,
      target: check.target,
      outcome: 'denied',
      details: {
        ...check.details,
        reason: 'missing_access',
        step: check.step,
        role: participant.role,
        provider: check.provider,
        needed: participant.needed,
        held,
        ...(why ? { grantId: why.grantId, grantEnded: why.ended } : {}),
      },
    });
    const member = memberText(participant.userId);
    const level = levelLabel(participant.needed);
    const provider = providerLabel(check.provider);
    const has = held === null ? `has no access to ${provider} now` : `now has only ${levelLabel(held)} access to ${provider}`;
    const because = !why
      ? undefined
      : why.ended === 'revoked'
        ? text` JIT grant #${why.grantId} was revoked${why.by ? text` by ${memberText(why.by)}` : undefined}.`
        : text` JIT grant #${why.grantId} expired ${time(why.at)}.`;
    const grant = command('jit.grant', { user: member, provider: check.provider, level: participant.needed });
    return new AccessLostAtStep(
      participant,
      check.provider,
      held,
      text`${member} (the ${participant.role}) needs ${level} access to ${provider} for this step and ${has}.${because} ${toText(check.outcome)} To go ahead, ask a server admin for temporary access with ${grant}, then ${toText(check.afterwards)}.`,
    );
  }
  return null;
}


/** Who must hold `needed` when a button confirms a request: the requester, and the presser if someone else pressed. */
export function requesterAndPresser(
  requester: { id: string; isGuildAdmin: boolean },
  presser: { id: string; isGuildAdmin: boolean },
  needed: PermissionLevel,
): StepParticipant[] {
  // The presser's admin flag comes with the press, so it is fresher than the one the command started with.
  if (presser.id === requester.id) return [{ userId: presser.id, isGuildAdmin: presser.isGuildAdmin, needed, role: 'requester' }];
  return [
    { userId: requester.id, isGuildAdmin: requester.isGuildAdmin, needed, role: 'requester' },
    { userId: presser.id, isGuildAdmin: presser.isGuildAdmin, needed, role: 'confirmer' },
  ];
}
