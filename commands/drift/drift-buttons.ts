/**
 * The buttons of a drift report (`drift:<action>:<checkId>`): Plan to reconcile, Accept, and the Apply of a reconcile
 * plan. Everything is read from the database at the press (src/drift/drift-answers.ts): a server admin as of now, the
 * check of this guild (another guild's is not found), its report still standing. While a press works the message
 * shows who is on it, without buttons; then how it ended, or the report again with its buttons.
 */
import { DRIFT_NAMESPACE, driftClosedNotice, driftSettledNotice, driftStandingNotice, driftWorkingNotice, reconcilePlannedNotice } from '../../src/drift/drift-notices.js';
import type { StandingReport } from '../../src/drift/drift-answers.js';
import { DriftCheckNotFound, DriftReportClosed, DriftStepUnavailable } from '../../src/drift/errors.js';
import type { ComponentPress, DurableComponentHandler } from '../../src/interaction/durable-components.js';
import type { Text } from '../../src/shared/text.js';
import { reconcileRefusedText } from '../views/drift.js';
import { text } from '../views/format.js';

function reportAgain(press: ComponentPress, standing: StandingReport, note: Text): Promise<void> {
  const { check, target } = standing;
  return press.update({ notices: [driftStandingNotice(check.id, target.label, check.driftRunId, check.report ?? { resources: [], moreResources: 0 }, note)] });
}

export const driftButtons: DurableComponentHandler = {
  namespace: DRIFT_NAMESPACE,

  async handle({ press, app }) {
    const checkId = press.id.recordId;
    // Reports are posted in a server's channels; a press from anywhere else names nothing it may see.
    if (press.guildId === null) throw new DriftCheckNotFound(`#${checkId}`);
    const input = { guildId: press.guildId, checkId, presser: { id: press.actor.id, isGuildAdmin: press.actor.isGuildAdmin } };
    const answers = app.drift.answers;
    try {
      switch (press.id.action) {
        case 'accept': {
          const standing = await answers.standing(input, 'drift.accept');
          await press.update({ notices: [driftWorkingNotice(standing.target.label, press.actor.id, 'accepting')] });
          const accepted = await answers.accept(input);
          if (accepted.ok) return press.update({ notices: [driftSettledNotice(accepted.label, { outcome: 'accepted', by: press.actor.id, runId: accepted.runId })] });
          await reportAgain(press, accepted.standing, text`Accept did not go through; nothing was changed.`);
          throw accepted.error;
        }
        case 'reconcile': {
          const standing = await answers.standing(input, 'drift.reconcile.plan');
          // The server's plan caps its runs at once, as for /cloud-deploy (Accept and Apply settle what exists).
          const load = await app.runner.loadOf(input.guildId);
          await app.tiers.requireRunSlot(input.guildId, load.running + load.queued);
          await press.update({ notices: [driftWorkingNotice(standing.target.label, press.actor.id, 'planning')] });
          const planned = await answers.planReconcile(input);
          if (planned.ok) {
            const notice = reconcilePlannedNotice(checkId, planned.label, { by: press.actor.id, runId: planned.runId, changes: planned.changes, monthlyUsd: planned.decision.estimate.monthlyUsd, needsApproval: planned.decision.requiresApproval });
            return press.update({ notices: [notice] });
          }
          if ('refusedByPolicy' in planned) return reportAgain(press, planned.standing, reconcileRefusedText(planned.refusedByPolicy));
          await reportAgain(press, planned.standing, text`The reconcile plan failed; nothing was changed.`);
          throw planned.error;
        }
        case 'apply': {
          const standing = await answers.standing(input, 'drift.reconcile.apply');
          if (standing.check.reconcilePlanRunId === null) throw new DriftStepUnavailable('There is no reconcile plan to apply: press Plan to reconcile first.');
          await press.update({ notices: [driftWorkingNotice(standing.target.label, press.actor.id, 'applying')] });
          const applied = await answers.applyReconcile(input);
          if (applied.ok) return press.update({ notices: [driftSettledNotice(applied.label, { outcome: 'reconciled', by: press.actor.id, runId: applied.runId })] });
          await reportAgain(press, applied.standing, text`The reconcile plan was not applied and is discarded: press Plan to reconcile to plan again.`);
          throw applied.error;
        }
        default:
          throw new DriftCheckNotFound(`#${checkId}`);
      }
    } catch (error) {
      // The message may still show buttons for a report settled elsewhere: say it no longer stands, then why.
      if (error instanceof DriftReportClosed) await press.update({ notices: [driftClosedNotice({ project: error.project }, error.why)] });
      throw error;
    }
  },
};
