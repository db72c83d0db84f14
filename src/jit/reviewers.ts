/**
 * Who may decide a JIT request, checked at the moment of each press: a server admin (Manage Server, as of this
 * press), or a member holding a JIT Admin grant in force on the request's provider (for a request covering all
 * providers, on every one of them). Never the requester, not even an admin: nobody approves their own access.
 */
import { PROVIDERS } from '../db/schema.js';
import { UserError } from '../shared/errors.js';
import { text } from '../shared/text.js';
import type { JitService } from './jit-service.js';
import { levelLabel, providerLabel, satisfies, type JitProvider } from './levels.js';
import type { JitAuditSink } from './ports.js';
import type { JitRequest } from './request-repository.js';

export interface Reviewer {
  id: string;
  /** Manage Server, fresh from the press. */
  isGuildAdmin: boolean;
}

/** A press on a request by someone who may not decide it; `reason` says why, for tests and the audit log. */
export class ReviewRefused extends UserError {
  constructor(
    readonly reason: 'own_request' | 'not_reviewer',
    message: string | ReturnType<typeof text>,
  ) {
    super(`jit.review_${reason}`, message);
  }
}

type Deps = { jit: Pick<JitService, 'effectiveLevel'>; audit: JitAuditSink };

/** Whether `reviewer` holds Admin where the request applies, right now. */
export async function holdsAdminOn(deps: Deps, guildId: string, reviewer: Reviewer, provider: JitProvider): Promise<boolean> {
  const providers = provider === 'all' ? PROVIDERS : [provider];
  const levels = await Promise.all(providers.map((one) => deps.jit.effectiveLevel({ guildId, userId: reviewer.id, provider: one, isGuildAdmin: reviewer.isGuildAdmin })));
  return levels.every((level) => satisfies(level, 'admin'));
}

/**
 * Throws ReviewRefused (and records a denied audit entry under `action`) unless `reviewer` may decide `request` now.
 */
export async function requireReviewer(deps: Deps, request: JitRequest, reviewer: Reviewer, action: string): Promise<void> {
  const refuse = (reason: 'own_request' | 'not_reviewer', message: string | ReturnType<typeof text>): never => {
    deps.audit.record({
      guildId: request.guildId,
      userId: reviewer.id,
      action,
      target: request.requesterId,
      outcome: 'denied',
      details: { requestId: request.id, kind: request.kind, reason },
    });
    throw new ReviewRefused(reason, message);
  };
  if (reviewer.id === request.requesterId) {
    refuse('own_request', 'You cannot decide your own request, even as an admin: another admin must.');
  }
  if (!(await holdsAdminOn(deps, request.guildId, reviewer, request.provider))) {
    refuse(
      'not_reviewer',
      text`Only server admins, or members with ${levelLabel('admin')} JIT access to ${providerLabel(request.provider)} right now, can decide this request. Nothing was changed; it still waits for a reviewer.`,
    );
  }
}
