import { UserError } from '../shared/errors.js';
import { command, member, text, time } from '../shared/text.js';
import type { JitRequest } from './request-repository.js';

/** A request (or an answer to one) that cannot be accepted as given: nothing was posted or changed. */
export class InvalidJitRequest extends UserError {}

export class RequestNotFound extends UserError {
  constructor(requestId: number) {
    super('jit.request_not_found', text`There is no JIT request #${requestId} in this server. ${command('jit.list')} shows the pending ones.`);
  }
}

/** The request was decided (by another press, perhaps in another process before a restart) or has expired. */
export class RequestClosed extends UserError {
  constructor(readonly request: JitRequest) {
    const by = request.decidedBy ? text` by ${member(request.decidedBy)}` : undefined;
    const message =
      request.status === 'approved'
        ? text`JIT request #${request.id} was already approved${by}; nothing more to decide.`
        : request.status === 'denied'
          ? text`JIT request #${request.id} was already denied${by}; nothing more to decide.`
          : text`JIT request #${request.id} expired ${time(request.expiresAt)} without a decision; nothing to decide. The requester can ask again with ${command('jit.request')}.`;
    super('jit.request_closed', message);
  }
}

/** A press on another member's Extend, or on a grant that has ended. */
export class ExtensionRefused extends UserError {}
