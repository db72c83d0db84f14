import { UserError } from '../shared/errors.js';
import { command, strong, text, type Interpolation } from '../shared/text.js';

/** Drift checks are set up and answered by server admins (Manage Server), checked at every command and press. */
export class DriftAdminOnly extends UserError {
  constructor() {
    super('permission.drift_admin_only', 'Drift checks are for server admins: this needs the Manage Server permission. Ask a server admin.');
  }
}

/** No such check in this guild (also another guild's, which is never told apart from a missing one). */
export class DriftCheckNotFound extends UserError {
  constructor(what: Interpolation) {
    super('drift.not_found', text`There is no drift check for ${what}. ${command('drift.list')} shows this server's checks.`);
  }
}

/** A button of a drift report that no longer stands (accepted, reconciled, or replaced by a later check). */
export class DriftReportClosed extends UserError {
  constructor(
    readonly project: string,
    readonly why: string,
  ) {
    super('drift.report_closed', text`This drift report for ${strong(project)} no longer stands: ${why}. The next check reports anything still drifting.`);
  }
}

/** A press whose step is not this report's next one (Apply without a reconcile plan, a plan already being made). */
export class DriftStepUnavailable extends UserError {
  constructor(why: string) {
    super('drift.step_unavailable', why);
  }
}

/** The guild's policy, as it is at the Apply press, no longer allows the reconcile plan (it was tightened since). */
export class DriftReconcileRefused extends UserError {
  constructor(rules: readonly string[]) {
    super(
      'drift.reconcile_refused',
      `The server's policy no longer allows this reconcile plan (${rules.join(', ')}), so it was discarded. Press Plan to reconcile again to see what the policy refuses.`,
    );
  }
}
