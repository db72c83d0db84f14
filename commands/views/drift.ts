/** What /cloud-drift and the drift report's buttons show (the use cases in src/drift/ decide; this says it). */
import type { DriftTargetLabel } from '../../src/drift/drift-notices.js';
import { targetText } from '../../src/drift/drift-notices.js';
import type { DriftCheck } from '../../src/drift/drift-repository.js';
import type { CheckResult } from '../../src/drift/drift-service.js';
import { describeSchedule } from '../../src/drift/drift-schedule.js';
import type { Message } from '../../src/interaction/conversation.js';
import type { PlanDecision } from '../../src/policy/plan-policy.js';
import { bullets, command, text, time, type Text } from './format.js';
import { planViolationText } from './plan-policy.js';

const LAST: Record<DriftCheck['lastStatus'], string> = { never: 'not checked yet', clean: 'no drift', drifted: 'drift reported', failed: 'could not run' };

export function driftEnabledView(check: DriftCheck, label: DriftTargetLabel): Message {
  return {
    ephemeral: true,
    notices: [
      {
        title: '🔎 Drift check enabled',
        tone: 'success',
        description: text`${targetText(label)} is checked ${describeSchedule(check.schedule)}; the next check is ${time(check.nextCheckAt)}. Drift is reported in the notification channel (${command('policy')} sets it), else here. No drift: nothing is posted.`,
      },
    ],
  };
}

export function driftDisabledView(label: DriftTargetLabel): Message {
  return { ephemeral: true, content: text`Drift checks of ${targetText(label)} are off.` };
}

function line({ check, label }: { check: DriftCheck; label: DriftTargetLabel }): Text {
  const last = check.lastCheckedAt === null ? LAST.never : text`${LAST[check.lastStatus]} (${time(check.lastCheckedAt)})`;
  return text`${targetText(label)}: ${describeSchedule(check.schedule)}; next ${time(check.nextCheckAt)}; last: ${last}`;
}

export function driftListView(rows: ReadonlyArray<{ check: DriftCheck; label: DriftTargetLabel }>): Message {
  return {
    ephemeral: true,
    notices: [{ title: '🔎 Drift checks', description: rows.length ? bullets(rows.map(line)) : text`None yet. ${command('drift.enable')} enables one.` }],
  };
}

export function driftCheckedView(result: CheckResult, label: DriftTargetLabel): Message {
  switch (result.outcome) {
    case 'busy':
      return { ephemeral: true, content: text`Another run holds ${targetText(label)} right now, so it was not checked. Try again once it has finished.` };
    case 'gone':
      return { ephemeral: true, content: text`${targetText(label)} is gone, so its drift check was removed.` };
    case 'clean':
      return { ephemeral: true, content: text`✅ No drift in ${targetText(label)} (run #${result.runId}).` };
    case 'drifted':
      return { ephemeral: true, content: result.posted ? text`⚠️ Drift found in ${targetText(label)} (run #${result.runId}): the report is posted with its buttons.` : text`⚠️ ${targetText(label)} still has the drift already reported (run #${result.runId}).` };
    case 'failed':
      return { ephemeral: true, content: text`❌ The check of ${targetText(label)} could not run: ${result.reason}` };
  }
}

/** The policy's refusal of a reconcile plan, said under the report. */
export function reconcileRefusedText(decision: PlanDecision): Text {
  return text`The reconcile plan was refused by the guild's policy, and discarded:\n${bullets(decision.violations.map(planViolationText))}`;
}
