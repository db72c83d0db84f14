/**
 * The words (and durable buttons) of JIT requests and reminders: the card reviewers see, what the requester is told
 * when it is decided or expires, and the reminder before a grant ends. One place, so every channel says the same.
 */
import { durableId } from '../interaction/durable-components.js';
import type { DurableButton, Notice } from '../notify/notifier.js';
import { command, duration, literal, member, text, time, type Text } from '../shared/text.js';
import type { JitGrant } from './grant-repository.js';
import { levelLabel, providerLabel } from './levels.js';
import type { JitRequest } from './request-repository.js';

/** Custom ids `jitreq:<action>:<requestId>`: Approve and Deny on a request card, and the forms they open. */
export const REQUEST_NAMESPACE = 'jitreq';
/** Custom ids `jitext:<action>:<grantId>`: Extend on a reminder, and the form it opens. */
export const EXTEND_NAMESPACE = 'jitext';

export const requestIds = {
  approve: (requestId: number) => durableId(REQUEST_NAMESPACE, 'approve', requestId),
  deny: (requestId: number) => durableId(REQUEST_NAMESPACE, 'deny', requestId),
  approveForm: (requestId: number) => durableId(REQUEST_NAMESPACE, 'approve-form', requestId),
  denyForm: (requestId: number) => durableId(REQUEST_NAMESPACE, 'deny-form', requestId),
};

export const extendIds = {
  extend: (grantId: number) => durableId(EXTEND_NAMESPACE, 'extend', grantId),
  form: (grantId: number) => durableId(EXTEND_NAMESPACE, 'extend-form', grantId),
};

function serverName(guildName: string | undefined): Text {
  return guildName ? text`server "${guildName}"` : text`this server`;
}

function access(request: Pick<JitRequest, 'level' | 'provider'>): Text {
  return text`${levelLabel(request.level)} access to ${providerLabel(request.provider)}`;
}

/** What is asked, in one sentence. */
function asked(request: JitRequest): Text {
  return request.kind === 'access'
    ? text`${member(request.requesterId)} asks for ${access(request)} for ${duration(request.durationMinutes * 60_000)}.`
    : text`${member(request.requesterId)} asks for ${duration(request.durationMinutes * 60_000)} more on JIT grant #${request.grantId ?? 0} (${access(request)}).`;
}

function title(request: JitRequest): string {
  return request.kind === 'access' ? `JIT access request #${request.id}` : `JIT extension request #${request.id}`;
}

/** How a closed request ended, for its card. */
function outcomeLine(request: JitRequest, grant: JitGrant | undefined): Text {
  const by = request.decidedBy ? member(request.decidedBy) : text`a reviewer`;
  switch (request.status) {
    case 'approved':
      return text`Approved by ${by} for ${duration((request.approvedMinutes ?? request.durationMinutes) * 60_000)}${grant ? text`; access until ${time(grant.expiresAt, 'datetime')}` : undefined}.`;
    case 'denied':
      return text`Denied by ${by}.`;
    case 'expired':
      return text`Expired: nobody decided by ${time(request.expiresAt, 'datetime')}.`;
    case 'pending':
      return text`Waiting for a reviewer until ${time(request.expiresAt)}.`;
  }
}

/**
 * The card posted for reviewers: Approve and Deny while pending, how it ended once closed. `grant` is the grant an
 * approval made or extended, when known.
 */
export function requestCard(request: JitRequest, grant?: JitGrant): Notice {
  const fields = [{ name: 'Reason', value: literal(request.reason) }];
  if (request.status === 'pending') {
    const buttons: DurableButton[] = [
      { customId: requestIds.approve(request.id), label: 'Approve', style: 'success' },
      { customId: requestIds.deny(request.id), label: 'Deny', style: 'danger' },
    ];
    return {
      title: `🙋 ${title(request)}`,
      tone: 'warning',
      description: text`${asked(request)} Server admins and members with ${levelLabel('admin')} access to ${providerLabel(request.provider)} may decide; the requester may not.\n\n${outcomeLine(request, grant)}`,
      fields,
      buttons,
    };
  }
  const icon = request.status === 'approved' ? '✅' : request.status === 'denied' ? '⛔' : '⌛';
  return {
    title: `${icon} ${title(request)}`,
    tone: request.status === 'approved' ? 'success' : request.status === 'denied' ? 'danger' : 'info',
    description: text`${asked(request)}\n\n${outcomeLine(request, grant)}`,
    fields: request.status === 'denied' && request.decisionNote ? [...fields, { name: 'Reviewer’s words', value: literal(request.decisionNote) }] : fields,
  };
}

/**
 * What the requester is told once a request is closed (approved with its expiry, denied with the reviewer's words,
 * or expired). `viaChannel` words it for a channel, used when the requester's DMs are closed.
 */
export function requestOutcomeNotice(request: JitRequest, grant: JitGrant | undefined, guildName: string | undefined, viaChannel = false): Notice {
  const whose = viaChannel ? text`${member(request.requesterId)}, your` : text`Your`;
  const what =
    request.kind === 'access'
      ? text`request #${request.id} for ${access(request)} in ${serverName(guildName)}`
      : text`request #${request.id} for more time on JIT grant #${request.grantId ?? 0} (${access(request)}) in ${serverName(guildName)}`;
  const by = request.decidedBy ? member(request.decidedBy) : text`a reviewer`;
  if (request.status === 'approved') {
    return {
      title: request.kind === 'access' ? 'JIT request approved' : 'JIT extension approved',
      tone: 'success',
      description: text`${whose} ${what} was approved by ${by}.`,
      fields: [
        { name: 'Expires', value: grant ? time(grant.expiresAt) : text`unknown` },
        { name: 'Permission ID', value: text`#${grant?.id ?? request.grantId ?? 0}` },
        { name: 'Approved for', value: duration((request.approvedMinutes ?? request.durationMinutes) * 60_000) },
      ],
    };
  }
  if (request.status === 'denied') {
    return {
      title: request.kind === 'access' ? 'JIT request denied' : 'JIT extension denied',
      tone: 'danger',
      description: text`${whose} ${what} was denied by ${by}.`,
      fields: request.decisionNote ? [{ name: 'Their words', value: literal(request.decisionNote) }] : [],
    };
  }
  return {
    title: request.kind === 'access' ? 'JIT request expired' : 'JIT extension request expired',
    tone: 'warning',
    description: text`${whose} ${what} expired: nobody decided by ${time(request.expiresAt, 'datetime')}. ${request.kind === 'access' ? text`Ask again with ${command('jit.request')} if you still need it.` : text`Ask for new access with ${command('jit.request')} if you still need it.`}`,
  };
}

/** The reminder before a grant ends, with Extend. `viaChannel` words it for the notification channel. */
export function expiryReminder(grant: JitGrant, guildName: string | undefined, viaChannel = false): Notice {
  const whose = viaChannel ? text`${member(grant.userId)}, your` : text`Your`;
  return {
    title: 'JIT permission ending soon',
    tone: 'warning',
    description: text`${whose} ${levelLabel(grant.level)} access to ${providerLabel(grant.provider)} in ${serverName(guildName)} ends ${time(grant.expiresAt)}. Press Extend to ask for more time.`,
    fields: [
      { name: 'Ends', value: time(grant.expiresAt, 'datetime') },
      { name: 'Permission ID', value: text`#${grant.id}` },
    ],
    buttons: [{ customId: extendIds.extend(grant.id), label: 'Extend', style: 'primary' }],
  };
}
