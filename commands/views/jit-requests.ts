/** What members see of JIT requests and extensions in replies and forms (cards and DMs: src/jit/request-notices.ts). */
import type { ExtensionOffer, ExtensionResult } from '../../src/jit/extensions.js';
import type { JitGrant } from '../../src/jit/grant-repository.js';
import { levelLabel, providerLabel } from '../../src/jit/levels.js';
import { extendIds, requestIds } from '../../src/jit/request-notices.js';
import type { JitRequest } from '../../src/jit/request-repository.js';
import type { Message } from '../../src/interaction/conversation.js';
import type { DurableForm } from '../../src/interaction/durable-components.js';
import { UserError } from '../../src/shared/errors.js';
import { channel, duration, strong, text, time } from './format.js';

export function requestSentView(request: JitRequest, postedIn: string): Message {
  return {
    ephemeral: true,
    notices: [
      {
        title: '🙋 Request sent',
        tone: 'success',
        description: text`Your request #${request.id} for ${strong(levelLabel(request.level))} access to ${strong(providerLabel(request.provider))} for ${duration(request.durationMinutes * 60_000)} was posted in ${channel(postedIn)} for review. The time starts when it is approved. You will get a DM when it is decided; if nobody decides, it expires ${time(request.expiresAt)}.`,
      },
    ],
  };
}

/** Approve asks for the minutes to grant, pre-filled with what was asked (a reviewer may shorten it). */
export function approveForm(request: JitRequest, ceiling: number): DurableForm {
  const what = request.kind === 'access' ? 'Minutes of access' : 'Minutes to add';
  return {
    customId: requestIds.approveForm(request.id),
    title: `Approve request #${request.id}`,
    fields: [{ id: 'minutes', label: `${what} (1 to ${ceiling})`, value: String(ceiling), maxLength: 5 }],
  };
}

export function denyForm(request: JitRequest): DurableForm {
  return {
    customId: requestIds.denyForm(request.id),
    title: `Deny request #${request.id}`,
    fields: [{ id: 'words', label: 'Words to the requester (optional)', required: false, multiline: true, maxLength: 300 }],
  };
}

export function extendForm(offer: ExtensionOffer): DurableForm {
  const { grant, selfAllowance, maxMinutes } = offer;
  const label = selfAllowance > 0 ? `Minutes more (up to ${selfAllowance} at once)` : `Minutes more (1 to ${maxMinutes}, reviewed)`;
  return {
    customId: extendIds.form(grant.id),
    title: `Extend JIT grant #${grant.id}`,
    fields: [
      { id: 'minutes', label, value: String(selfAllowance > 0 ? selfAllowance : Math.min(60, maxMinutes)), maxLength: 5 },
      { id: 'reason', label: 'Why you need more time', multiline: true, maxLength: 300, ...(grant.reason ? { value: grant.reason } : {}) },
    ],
  };
}

/** A whole number of minutes typed into a form; anything else is refused before anything changes. */
export function minutesTyped(value: string | undefined): number {
  const trimmed = (value ?? '').trim();
  if (!/^\d{1,5}$/.test(trimmed)) {
    throw new UserError('options.invalid', 'Type the minutes as a whole number, such as 30. Nothing was changed.');
  }
  return Number(trimmed);
}

/** The reminder message, once its Extend was used: what happened instead of the button. */
export function extensionResultView(result: ExtensionResult, grant: JitGrant): Message {
  if (result.outcome === 'extended') {
    return {
      notices: [
        {
          title: '✅ JIT permission extended',
          tone: 'success',
          description: text`JIT grant #${result.grant.id} (${levelLabel(result.grant.level)} access to ${providerLabel(result.grant.provider)}) got ${duration(result.addedMinutes * 60_000)} more: it now ends ${time(result.grant.expiresAt, 'datetime')}.`,
        },
      ],
    };
  }
  return {
    notices: [
      {
        title: '⏳ More time asked',
        tone: 'info',
        description: text`Request #${result.request.id} for ${duration(result.request.durationMinutes * 60_000)} more on JIT grant #${grant.id} was posted in ${channel(result.postedIn)} for review. You will get a DM when it is decided; until then the grant still ends ${time(grant.expiresAt)}.`,
      },
    ],
  };
}
