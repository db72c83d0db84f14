/**
 * JIT access requests: a member asks (`ask`), the request is posted with Approve and Deny for reviewers, and the
 * first reviewer to decide settles it (`approve`, `deny`). The grant starts at approval. Every step re-reads the
 * request and re-checks the reviewer at the moment of the press, so a decision from a press after a restart, or from
 * a reviewer who has lost admin since, is judged on what is true now. Every step is audited.
 */
import { z } from 'zod';
import type { Notifier } from '../notify/notifier.js';
import type { Clock } from '../shared/clock.js';
import { text, time } from '../shared/text.js';
import { snowflakeSchema } from '../shared/snowflake.js';
import type { JitGrant } from './grant-repository.js';
import type { JitRepositories, JitStore } from './jit-store.js';
import { jitProviderSchema, permissionLevelSchema } from './levels.js';
import type { JitAuditSink, JitPolicySource } from './ports.js';
import { InvalidJitRequest, RequestClosed, RequestNotFound } from './request-errors.js';
import { requestCard } from './request-notices.js';
import type { OutboxResult, RequestNoticeOutbox } from './request-outbox.js';
import type { JitRequest, NewJitRequest } from './request-repository.js';
import { requireReviewer, type Reviewer } from './reviewers.js';
import type { JitService } from './jit-service.js';

/** Pending requests one member may have at once in a guild: enough for real needs, few enough to stop a flood. */
export const MAX_PENDING_PER_MEMBER = 5;

export const reasonSchema = z
  .string({ error: 'a reason' })
  .trim()
  .min(1, 'a reason (say why you need it; reviewers decide on it)')
  .max(300, 'a reason of at most 300 characters');

const askSchema = z.object({
  guildId: snowflakeSchema,
  channelId: snowflakeSchema,
  requesterId: snowflakeSchema,
  requesterIsBot: z.boolean(),
  provider: jitProviderSchema,
  level: permissionLevelSchema,
  durationMinutes: z.number({ error: 'a number of minutes' }),
  reason: reasonSchema,
});
export type AccessAsk = z.input<typeof askSchema>;

export type Approval = { outcome: 'approved'; request: JitRequest; grant: JitGrant } | { outcome: 'grant_ended'; request: JitRequest };

export interface JitRequestServiceDeps {
  /** The requests, the grants an approval makes or moves, and their audit entries, in one unit of work. */
  units: JitStore;
  jit: Pick<JitService, 'effectiveLevel'>;
  policies: JitPolicySource;
  audit: JitAuditSink;
  notifier: Notifier;
  clock: Clock;
  outbox: RequestNoticeOutbox;
  /** How long a request waits for a decision (config JIT_REQUEST_TTL_MINUTES). */
  requestTtlMs: number;
}

export class JitRequestService {
  constructor(private readonly deps: JitRequestServiceDeps) {}

  get requestTtlMs(): number {
    return this.deps.requestTtlMs;
  }

  /**
   * Checks the request (duration within the guild's maximum, a reason, not a repeat), then posts it for review in
   * the guild's notification channel, or without one in `channelId` (where it was asked). Nothing is posted for a
   * request refused here.
   */
  async ask(input: AccessAsk): Promise<{ request: JitRequest; postedIn: string }> {
    const parsed = askSchema.safeParse(input);
    const refuse = (code: string, message: string | ReturnType<typeof text>): never => {
      this.deps.audit.record({
        guildId: input.guildId,
        userId: input.requesterId,
        action: 'jit.request',
        outcome: 'denied',
        details: { code, provider: input.provider, level: input.level, durationMinutes: input.durationMinutes },
      });
      throw new InvalidJitRequest(code, message);
    };
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'the request'} must be ${issue.message}`);
      return refuse('jit.request_invalid', `That request cannot be sent: ${problems.join('; ')}.`);
    }
    const ask = parsed.data;
    if (ask.requesterIsBot) refuse('jit.request_bot', 'JIT access is for members, not bots.');
    const policy = await this.deps.policies.get(ask.guildId);
    const max = policy.maxJitMinutes;
    if (!Number.isInteger(ask.durationMinutes) || ask.durationMinutes < 1 || ask.durationMinutes > max) {
      refuse(
        'jit.duration_out_of_range',
        `The duration must be a whole number of minutes from 1 to ${max} (this server's maximum, set in the guild policy); ${ask.durationMinutes} is not. Nothing was sent.`,
      );
    }
    const now = this.deps.clock.now();
    const pending = await this.deps.units.outside.requests.listPending(ask.guildId, now, ask.requesterId);
    const same = pending.find((other) => other.kind === 'access' && other.provider === ask.provider && other.level === ask.level);
    if (same) {
      refuse('jit.request_duplicate', text`You already asked for this: request #${same.id} waits for a reviewer until ${time(same.expiresAt)}. Nothing was sent.`);
    }
    if (pending.length >= MAX_PENDING_PER_MEMBER) {
      refuse('jit.request_too_many', `You have ${pending.length} requests waiting for a reviewer, the most one member may have. Wait for a decision first. Nothing was sent.`);
    }
    return this.submit({
      guildId: ask.guildId,
      kind: 'access',
      requesterId: ask.requesterId,
      provider: ask.provider,
      level: ask.level,
      durationMinutes: ask.durationMinutes,
      reason: ask.reason,
      grantId: null,
      reviewChannelId: policy.notificationChannelId ?? ask.channelId,
      createdAt: now,
      expiresAt: now + this.deps.requestTtlMs,
    });
  }

  /**
   * Records a checked request and posts its card for review. A card that cannot be posted leaves nothing waiting:
   * the request is closed at once and the member told why.
   */
  async submit(fresh: NewJitRequest & { reviewChannelId: string }): Promise<{ request: JitRequest; postedIn: string }> {
    const { units, notifier } = this.deps;
    const request = await units.transaction(async ({ requests, audit }) => {
      const created = await requests.insert(fresh);
      await audit.record({
        guildId: created.guildId,
        userId: created.requesterId,
        action: 'jit.request',
        target: created.requesterId,
        outcome: 'success',
        details: this.details(created, { durationMinutes: created.durationMinutes, reason: created.reason, expiresAt: created.expiresAt }),
      });
      return created;
    });
    try {
      await notifier.sendToChannel(fresh.reviewChannelId, requestCard(request));
    } catch (error) {
      await units.transaction(async ({ requests, audit }) => {
        await requests.decide(request.guildId, request.id, { status: 'expired', by: null, at: this.deps.clock.now(), notify: false });
        await audit.record({
          guildId: request.guildId,
          userId: request.requesterId,
          action: 'jit.request',
          outcome: 'failed',
          details: this.details(request, { reason: 'not_posted', error: error instanceof Error ? error.name : 'unknown' }),
        });
      });
      throw new InvalidJitRequest(
        'jit.request_not_posted',
        'Your request could not be posted for review (the bot may not be allowed to post in the review channel). Nothing is waiting; ask a server admin to check the notification channel in the guild policy, then ask again.',
      );
    }
    return { request, postedIn: fresh.reviewChannelId };
  }

  /** The request, if it is open and `reviewer` may decide it now; used when a reviewer presses Approve or Deny. */
  async openForReview(guildId: string, requestId: number, reviewer: Reviewer, action: 'jit.request.approve' | 'jit.request.deny'): Promise<JitRequest> {
    const request = await this.deps.units.outside.requests.findInGuild(guildId, requestId);
    if (!request) throw new RequestNotFound(requestId);
    if (request.status !== 'pending' || request.expiresAt <= this.deps.clock.now()) {
      throw new RequestClosed(request.status === 'pending' ? { ...request, status: 'expired' } : request);
    }
    await requireReviewer(this.deps, request, reviewer, action);
    return request;
  }

  /**
   * Approves for `minutes` (1 to what was asked: a reviewer may shorten, not lengthen). Access: the grant starts
   * now. Extension: the grant's end moves by `minutes`, unless the grant has ended meanwhile (then the request is
   * closed as expired). The requester's notice is queued with the decision; `tellRequester` sends it.
   */
  async approve(input: { guildId: string; requestId: number; reviewer: Reviewer; minutes: number }): Promise<Approval> {
    const policy = await this.deps.policies.get(input.guildId);
    // Outside the transaction, so a refusal's audit entry stays; inside it `decide` only closes a request still
    // pending, so a concurrent decision (another press, another process) cannot slip in between.
    const request = await this.openForReview(input.guildId, input.requestId, input.reviewer, 'jit.request.approve');
    const ceiling = request.kind === 'access' ? Math.min(request.durationMinutes, policy.maxJitMinutes) : request.durationMinutes;
    if (!Number.isInteger(input.minutes) || input.minutes < 1 || input.minutes > ceiling) {
      throw new InvalidJitRequest(
        'jit.approve_minutes',
        `Approve for a whole number of minutes from 1 to ${ceiling} (a reviewer may shorten what was asked, not lengthen it${ceiling < request.durationMinutes ? ", and this server's maximum is now lower" : ''}). Nothing was changed.`,
      );
    }
    return this.deps.units.transaction((tx) => this.decideApproval(tx, request, input.reviewer.id, input.minutes));
  }

  /** The approval's writes, in one transaction: the grant made or moved, the request closed, both audited. */
  private async decideApproval({ requests, grants, audit }: JitRepositories, request: JitRequest, by: string, minutes: number): Promise<Approval> {
    const now = this.deps.clock.now();
    if (request.kind === 'access') {
      const grant = await grants.insert({
        guildId: request.guildId,
        userId: request.requesterId,
        provider: request.provider,
        level: request.level,
        reason: request.reason,
        grantedAt: now,
        expiresAt: now + minutes * 60_000,
        grantedBy: by,
      });
      const decided = await requests.decide(request.guildId, request.id, { status: 'approved', by, at: now, approvedMinutes: minutes, grantId: grant.id, notify: true });
      if (!decided) throw await this.closed(request, requests);
      await audit.record({ guildId: request.guildId, userId: by, action: 'jit.request.approve', target: request.requesterId, outcome: 'success', details: this.details(decided, { minutes, grantId: grant.id }) });
      await audit.record({
        guildId: request.guildId,
        userId: by,
        action: 'jit.grant',
        target: request.requesterId,
        outcome: 'success',
        details: { grantId: grant.id, provider: grant.provider, level: grant.level, durationMinutes: minutes, expiresAt: grant.expiresAt, requestId: request.id, reason: grant.reason },
      });
      return { outcome: 'approved', request: decided, grant };
    }
    const current = request.grantId === null ? undefined : await grants.findInGuild(request.guildId, request.grantId);
    const extended = current && (await grants.extend(request.guildId, current.id, current.expiresAt + minutes * 60_000, now));
    if (!extended) {
      const closed = await requests.decide(request.guildId, request.id, { status: 'expired', by: null, at: now, notify: true });
      await audit.record({ guildId: request.guildId, userId: by, action: 'jit.request.approve', target: request.requesterId, outcome: 'failed', details: this.details(request, { reason: 'grant_ended' }) });
      return { outcome: 'grant_ended', request: closed ?? request };
    }
    const decided = await requests.decide(request.guildId, request.id, { status: 'approved', by, at: now, approvedMinutes: minutes, notify: true });
    if (!decided) throw await this.closed(request, requests);
    await audit.record({ guildId: request.guildId, userId: by, action: 'jit.request.approve', target: request.requesterId, outcome: 'success', details: this.details(decided, { minutes }) });
    await audit.record({
      guildId: request.guildId,
      userId: by,
      action: 'jit.extend',
      target: request.requesterId,
      outcome: 'success',
      details: { grantId: extended.id, requestId: request.id, addedMinutes: minutes, expiresAt: extended.expiresAt, self: false },
    });
    return { outcome: 'approved', request: decided, grant: extended };
  }

  /** Denies, with optional words to the requester (queued with the decision; `tellRequester` sends them). */
  async deny(input: { guildId: string; requestId: number; reviewer: Reviewer; note?: string }): Promise<JitRequest> {
    const note = input.note?.trim() ? input.note.trim() : null;
    if (note !== null && note.length > 300) {
      throw new InvalidJitRequest('jit.deny_note', 'Your words to the requester can be at most 300 characters. Nothing was changed.');
    }
    const request = await this.openForReview(input.guildId, input.requestId, input.reviewer, 'jit.request.deny');
    return this.deps.units.transaction(async ({ requests, audit }) => {
      const decided = await requests.decide(request.guildId, request.id, { status: 'denied', by: input.reviewer.id, at: this.deps.clock.now(), note, notify: true });
      if (!decided) throw await this.closed(request, requests);
      await audit.record({ guildId: request.guildId, userId: input.reviewer.id, action: 'jit.request.deny', target: request.requesterId, outcome: 'success', details: this.details(decided, { withWords: note !== null }) });
      return decided;
    });
  }

  /** Sends the requester the notice queued with a decision (the janitor sends it later if this cannot). */
  tellRequester(requestId: number): Promise<OutboxResult> {
    return this.deps.outbox.deliver(requestId);
  }

  /** Open requests of a guild (a member's own, when `requesterId` is given), oldest first. */
  listPending(guildId: string, requesterId?: string): Promise<JitRequest[]> {
    return this.deps.units.outside.requests.listPending(guildId, this.deps.clock.now(), requesterId);
  }

  /** A request of the guild by id, whatever its state (for refreshing a card); another guild's is not found. */
  async find(guildId: string, requestId: number): Promise<JitRequest> {
    const request = await this.deps.units.outside.requests.findInGuild(guildId, requestId);
    if (!request) throw new RequestNotFound(requestId);
    return request;
  }

  /** The refusal for a request someone else closed a moment ago, as it stands now. */
  private async closed(request: JitRequest, requests: JitRepositories['requests']): Promise<RequestClosed> {
    const now = (await requests.findInGuild(request.guildId, request.id)) ?? request;
    return new RequestClosed(now.status === 'pending' ? { ...now, status: 'expired' } : now);
  }

  private details(request: JitRequest, more: Record<string, unknown>): Record<string, unknown> {
    return { requestId: request.id, kind: request.kind, provider: request.provider, level: request.level, ...(request.grantId ? { grantId: request.grantId } : {}), ...more };
  }
}
