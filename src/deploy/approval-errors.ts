/** Why a press on a deployment approval's Approve or Reject did nothing: what happened, and what to do. */
import { UserError } from '../shared/errors.js';
import { code, command, member, text, time, toText, type RichText } from '../shared/text.js';
import type { DeployApprovalRecord } from './approval-repository.js';

export class ApprovalNotFound extends UserError {
  constructor(approvalId: number) {
    super('deploy.approval_not_found', text`There is no deployment approval #${approvalId} in this server. Nothing was changed.`);
  }
}

/** Decided already (by another press, another reviewer, before a restart), expired, or closed by a check. */
export class ApprovalClosed extends UserError {
  constructor(readonly approval: DeployApprovalRecord) {
    const by = approval.decidedBy ? text` by ${member(approval.decidedBy)}` : undefined;
    const message =
      approval.status === 'approved'
        ? text`Deployment approval #${approval.id} was already approved${by}; nothing more to decide.`
        : approval.status === 'rejected'
          ? text`Deployment approval #${approval.id} was already rejected${by}; nothing more to decide.`
          : approval.status === 'refused'
            ? text`Deployment approval #${approval.id} was closed without applying anything; nothing more to decide.`
            : text`Deployment approval #${approval.id} expired ${time(approval.expiresAt)}; nothing was applied. The requester can run ${command('deploy')} again.`;
    super('deploy.approval_closed', message);
  }
}

/** The presser may not decide this one (their own deployment, or not an admin now). Nothing changed. */
export class ApprovalRefused extends UserError {
  constructor(
    readonly reason: 'own_request' | 'not_admin',
    detail?: RichText,
  ) {
    super(
      `deploy.approval_${reason}`,
      reason === 'own_request'
        ? 'You cannot approve your own deployment: another admin must.'
        : text`Only server admins, or members with Admin access to this project’s provider, can approve or reject deployments.${detail ? text` ${toText(detail)}` : undefined}`,
    );
  }
}

/**
 * The plan can still be applied, but the credential it runs with cannot be had now (most often the project's vault
 * session, which ends with its time limit and with every restart of the bot). The approval keeps waiting.
 */
export class ApprovalNeedsCredentials extends UserError {
  constructor(approvalId: number, why: RichText) {
    super(
      'deploy.approval_no_credentials',
      text`Deployment approval #${approvalId} cannot be applied now: ${toText(why)} The approval still waits: the project’s owner opens its vault session again with ${command('init')} (same provider and project name), then press Approve again. Or the requester runs ${command('deploy')} again, with a stored credential if there is one (the ${code('credential')} option).`,
    );
  }
}
