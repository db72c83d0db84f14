/**
 * More time on a grant, asked by its holder from the Extend button of the reminder before it ends. Within the guild's
 * self-extension allowance (policy `jit_self_extend_minutes`, in total per grant; 0 = off) it is granted at once;
 * beyond it, it becomes an extension request that reviewers decide like an access request (src/jit/access-requests.ts).
 */
import type { Clock } from '../shared/clock.js';
import { command, text, time } from '../shared/text.js';
import type { JitRequestService } from './access-requests.js';
import { reasonSchema } from './access-requests.js';
import { GrantNotFound } from './errors.js';
import type { JitGrant } from './grant-repository.js';
import type { JitStore } from './jit-store.js';
import type { JitAuditSink, JitPolicySource } from './ports.js';
import { ExtensionRefused, InvalidJitRequest } from './request-errors.js';
import type { JitRequest } from './request-repository.js';

/** Which grant a press names: in a guild, one of that guild's; in a DM (guildId null), one the presser holds. */
export interface GrantRef {
  guildId: string | null;
  grantId: number;
}

export interface ExtensionOffer {
  grant: JitGrant;
  /** The most minutes one extension may add: the guild's longest grant. */
  maxMinutes: number;
  /** Minutes still addable without review (0 when self-extension is off or used up). */
  selfAllowance: number;
  /** Where a reviewed extension would be posted; undefined when there is nowhere (a DM, no notification channel). */
  reviewChannelId: string | undefined;
}

export type ExtensionResult =
  | { outcome: 'extended'; grant: JitGrant; addedMinutes: number }
  | { outcome: 'requested'; request: JitRequest; postedIn: string };

export interface ExtensionServiceDeps {
  /** The grants, the requests that record self-extensions, and their audit entries, in one unit of work. */
  units: JitStore;
  reviews: Pick<JitRequestService, 'submit' | 'requestTtlMs'>;
  policies: JitPolicySource;
  audit: JitAuditSink;
  clock: Clock;
}

export class ExtensionService {
  constructor(private readonly deps: ExtensionServiceDeps) {}

  /**
   * What the holder may ask for on this grant right now; refuses another member's grant, one that has ended, and one
   * that could be neither self-extended nor reviewed. `channelId` is where the press came from (null in a DM): a
   * review goes to the notification channel, else there, else where the grant's own request was reviewed.
   */
  async offer(ref: GrantRef, holderId: string, channelId: string | null): Promise<ExtensionOffer> {
    const grant = await this.holdersGrant(ref, holderId);
    const policy = await this.deps.policies.get(grant.guildId);
    const { requests } = this.deps.units.outside;
    const pending = (await requests.listPending(grant.guildId, this.deps.clock.now(), holderId)).find((r) => r.kind === 'extension' && r.grantId === grant.id);
    if (pending) {
      throw new ExtensionRefused('jit.extension_pending', text`You already asked for more time on JIT grant #${grant.id}: request #${pending.id} waits for a reviewer.`);
    }
    const allowance = Math.min(policy.maxJitMinutes, Math.max(0, (policy.jitSelfExtendMinutes ?? 0) - (await requests.selfExtendedMinutes(grant.id))));
    const reviewChannelId = policy.notificationChannelId ?? channelId ?? (await requests.reviewChannelOfGrant(grant.guildId, grant.id));
    if (allowance === 0 && !reviewChannelId) {
      throw new ExtensionRefused(
        'jit.extension_nowhere',
        text`This server has no notification channel, so there is nowhere to ask reviewers from a direct message. Press Extend on the reminder in the server, or ask for new access there with ${command('jit.request')}.`,
      );
    }
    return { grant, maxMinutes: policy.maxJitMinutes, selfAllowance: allowance, reviewChannelId };
  }

  /** Extends at once within the self-extension allowance, or asks reviewers (see `offer` for where). */
  async ask(ref: GrantRef, holderId: string, input: { minutes: number; reason: string; channelId: string | null }): Promise<ExtensionResult> {
    const offer = await this.offer(ref, holderId, input.channelId);
    const { grant } = offer;
    if (!Number.isInteger(input.minutes) || input.minutes < 1 || input.minutes > offer.maxMinutes) {
      throw new InvalidJitRequest('jit.extension_minutes', `Ask for a whole number of minutes from 1 to ${offer.maxMinutes} (this server's longest grant). Nothing was changed.`);
    }
    const reason = reasonSchema.safeParse(input.reason);
    if (!reason.success) throw new InvalidJitRequest('jit.extension_reason', `Say why you need more time (at most 300 characters). Nothing was changed.`);
    const now = this.deps.clock.now();
    if (input.minutes <= offer.selfAllowance) return this.selfExtend(grant, input.minutes, reason.data, now);

    const reviewChannelId = offer.reviewChannelId;
    if (!reviewChannelId) {
      throw new InvalidJitRequest('jit.extension_over_allowance', `Without review you may add at most ${offer.selfAllowance} minutes here. Nothing was changed.`);
    }
    const { request, postedIn } = await this.deps.reviews.submit({
      guildId: grant.guildId,
      kind: 'extension',
      requesterId: holderId,
      provider: grant.provider,
      level: grant.level,
      durationMinutes: input.minutes,
      reason: reason.data,
      grantId: grant.id,
      reviewChannelId,
      createdAt: now,
      // Past the grant's end there is nothing left to extend.
      expiresAt: Math.min(now + this.deps.reviews.requestTtlMs, grant.expiresAt),
    });
    return { outcome: 'requested', request, postedIn };
  }

  private selfExtend(grant: JitGrant, minutes: number, reason: string, now: number): Promise<ExtensionResult> {
    return this.deps.units.transaction(async ({ grants, requests, audit }): Promise<ExtensionResult> => {
      const extended = await grants.extend(grant.guildId, grant.id, grant.expiresAt + minutes * 60_000, now);
      if (!extended) throw this.ended(grant);
      // Recorded as a request its holder decided, so the allowance used so far is counted from the table.
      const request = await requests.insert({
        guildId: grant.guildId,
        kind: 'extension',
        requesterId: grant.userId,
        provider: grant.provider,
        level: grant.level,
        durationMinutes: minutes,
        reason,
        grantId: grant.id,
        reviewChannelId: null,
        createdAt: now,
        expiresAt: now,
      }, { status: 'approved', by: grant.userId, at: now, approvedMinutes: minutes });
      await audit.record({
        guildId: grant.guildId,
        userId: grant.userId,
        action: 'jit.extend',
        target: grant.userId,
        outcome: 'success',
        details: { grantId: grant.id, requestId: request.id, addedMinutes: minutes, expiresAt: extended.expiresAt, self: true },
      });
      return { outcome: 'extended', grant: extended, addedMinutes: minutes };
    });
  }

  /** The grant a press names, if `holderId` holds it and it is still in force; refusals say why. */
  async holdersGrant(ref: GrantRef, holderId: string): Promise<JitGrant> {
    const { grants } = this.deps.units.outside;
    const grant = ref.guildId === null ? await grants.findOfMember(holderId, ref.grantId) : await grants.findInGuild(ref.guildId, ref.grantId);
    if (!grant) throw new GrantNotFound(ref.grantId);
    if (grant.userId !== holderId) {
      this.deps.audit.record({ guildId: grant.guildId, userId: holderId, action: 'jit.extend', target: grant.userId, outcome: 'denied', details: { grantId: grant.id, reason: 'not_holder' } });
      throw new ExtensionRefused('jit.extension_not_holder', 'Only the member holding this grant can ask to extend it.');
    }
    if (grant.revoked || grant.expiresAt <= this.deps.clock.now()) throw this.ended(grant);
    return grant;
  }

  private ended(grant: JitGrant): ExtensionRefused {
    return new ExtensionRefused(
      'jit.extension_ended',
      text`JIT grant #${grant.id} has already ended (${time(grant.revokedAt ?? grant.expiresAt)}); there is nothing to extend. Ask for new access with ${command('jit.request')}.`,
    );
  }
}
