/**
 * The words (and durable buttons) of drift checks: the report posted when a check finds drift, with Plan to
 * reconcile and Accept; what the report's message becomes as those are pressed; and the one notice of a check that
 * cannot run. Values marked sensitive never reach here (see drift-report.ts): a notice says only that they changed.
 */
import { durableId } from '../interaction/durable-components.js';
import type { DurableButton, Notice } from '../notify/notifier.js';
import { code, command, join, literal, member, money, strong, text, type Text } from '../shared/text.js';
import type { DriftReport, DriftedResource } from './drift-report.js';

/** Custom ids `drift:<action>:<checkId>`: the buttons of a drift report. */
export const DRIFT_NAMESPACE = 'drift';

export const driftIds = {
  reconcile: (checkId: number) => durableId(DRIFT_NAMESPACE, 'reconcile', checkId),
  accept: (checkId: number) => durableId(DRIFT_NAMESPACE, 'accept', checkId),
  apply: (checkId: number) => durableId(DRIFT_NAMESPACE, 'apply', checkId),
};

/** The most resources a report lists (one field each); the rest are counted. */
const MAX_FIELDS = 10;
/** Characters of one field's lines, well under Discord's 1,024 per field value. */
const MAX_FIELD_CHARS = 900;

/** What a report is about: a project's built-ins, or one deployment in it. */
export interface DriftTargetLabel {
  project: string;
  /** The deployment's name and id, when the check is of a template deployment. */
  deployment?: { id: number; name: string } | undefined;
}

export function targetText(target: DriftTargetLabel): Text {
  return target.deployment ? text`${strong(target.project)} (deployment ${code(target.deployment.name)}, #${target.deployment.id})` : strong(target.project);
}

function reportButtons(checkId: number): DurableButton[] {
  return [
    { customId: driftIds.reconcile(checkId), label: 'Plan to reconcile', style: 'primary' },
    { customId: driftIds.accept(checkId), label: 'Accept', style: 'secondary' },
  ];
}

function attributeLines(resource: DriftedResource): Text {
  if (resource.action === 'delete') return text`Gone from the cloud: it was deleted outside the bot.`;
  const lines: Text[] = [];
  let length = 0;
  let shown = 0;
  for (const attribute of resource.attributes) {
    const line = attribute.sensitive
      ? text`${code(attribute.path)}: changed (sensitive, not shown)`
      : text`${code(attribute.path)}: ${literal(attribute.before)} → ${literal(attribute.after)}`;
    const size = attribute.path.length + (attribute.sensitive ? 30 : attribute.before.length + attribute.after.length + 8);
    if (length + size > MAX_FIELD_CHARS) break;
    lines.push(line);
    length += size;
    shown++;
  }
  const more = resource.attributes.length - shown + resource.moreAttributes;
  if (more > 0) lines.push(text`…and ${more} more attribute${more === 1 ? '' : 's'}`);
  if (lines.length === 0) lines.push(text`Changed outside the bot.`);
  return join(lines, '\n');
}

function resourceFields(report: DriftReport): Array<{ name: Text; value: Text }> {
  const fields = report.resources.slice(0, MAX_FIELDS).map((resource) => ({ name: text`${code(resource.address)}${resource.action === 'delete' ? ' (deleted)' : ''}`, value: attributeLines(resource) }));
  const more = report.resources.length - fields.length + report.moreResources;
  if (more > 0) fields.push({ name: text`More`, value: text`…and ${more} more drifted resource${more === 1 ? '' : 's'}.` });
  return fields;
}

function count(report: DriftReport): number {
  return report.resources.length + report.moreResources;
}

/** The report a check with drift posts: what changed, and the two ways to settle it. */
export function driftReportNotice(checkId: number, target: DriftTargetLabel, runId: number, report: DriftReport): Notice {
  const n = count(report);
  return {
    title: text`⚠️ Drift in ${target.deployment ? `${target.project}/${target.deployment.name}` : target.project}`,
    tone: 'warning',
    description: text`Drift check run #${runId} of ${targetText(target)} found ${n} resource${n === 1 ? '' : 's'} changed outside the bot. Sensitive values are never shown.\n\n${strong('Plan to reconcile')} plans putting the cloud back as configured (with the policy check, then Apply). ${strong('Accept')} keeps the cloud as it is now and records it in the state. Server admins only.`,
    fields: resourceFields(report),
    buttons: reportButtons(checkId),
  };
}

/** The report while a press works on it: no buttons, so nobody presses twice. */
export function driftWorkingNotice(target: DriftTargetLabel, by: string, doing: 'planning' | 'accepting' | 'applying'): Notice {
  const what = { planning: 'is planning a reconcile', accepting: 'is accepting the drift (refreshing the state)', applying: 'is applying the reconcile plan' }[doing];
  return { title: text`⏳ Drift in ${targetText(target)}`, tone: 'info', description: text`${member(by)} ${what}…` };
}

/** A reconcile plan ready: what it changes, its estimate, and Apply (Accept stays possible). */
export function reconcilePlannedNotice(checkId: number, target: DriftTargetLabel, input: { by: string; runId: number; changes: { create: number; update: number; replace: number; delete: number }; monthlyUsd: number; needsApproval: boolean }): Notice {
  const { changes } = input;
  const approval = input.needsApproval ? text`\n\nThe guild's policy asks an admin's approval for this plan: pressing Apply is that approval.` : '';
  return {
    title: text`🛠️ Reconcile plan for ${targetText(target)}`,
    tone: 'info',
    description: text`${member(input.by)} planned run #${input.runId}: ${changes.create} to create, ${changes.update} to update, ${changes.replace} to replace, ${changes.delete} to destroy. Estimated ${money(input.monthlyUsd)} per month for what it keeps.${approval}\n\n${strong('Apply')} puts the cloud back as configured. ${strong('Accept')} instead keeps the cloud as it is.`,
    buttons: [
      { customId: driftIds.apply(checkId), label: 'Apply', style: 'success' },
      { customId: driftIds.accept(checkId), label: 'Accept', style: 'secondary' },
    ],
  };
}

/** How a report ended: accepted, or reconciled. */
export function driftSettledNotice(target: DriftTargetLabel, how: { outcome: 'accepted' | 'reconciled'; by: string; runId: number }): Notice {
  const said =
    how.outcome === 'accepted'
      ? text`${member(how.by)} accepted the drift: run #${how.runId} recorded the cloud's current values in the state. Nothing in the cloud was changed.`
      : text`${member(how.by)} reconciled: run #${how.runId} put the cloud back as configured.`;
  return { title: text`✅ Drift in ${targetText(target)} settled`, tone: 'success', description: said };
}

/** The report again, after a press that did not go through: its buttons stay. */
export function driftStandingNotice(checkId: number, target: DriftTargetLabel, runId: number, report: DriftReport, note: Text): Notice {
  const notice = driftReportNotice(checkId, target, runId, report);
  return { ...notice, description: text`${notice.description ?? ''}\n\n${note}` };
}

/** A report whose buttons no longer act: why. */
export function driftClosedNotice(target: DriftTargetLabel, why: string): Notice {
  return { title: text`Drift in ${targetText(target)}`, tone: 'info', description: text`This report no longer stands: ${why}.` };
}

/** Posted once when a check cannot run (and again only when the reason changes). */
export function driftCheckFailedNotice(target: DriftTargetLabel, reason: Text | string, noCredential: boolean): Notice {
  const next = noCredential
    ? text`A scheduled check needs a credential the bot can use on its own: a stored credential (${command('credentials.add')}, then ${command('init')} with it), or an open vault session of the project (${command('init')}).`
    : text`${command('drift.list')} shows each check's last outcome.`;
  return {
    title: text`❌ Drift check of ${targetText(target)} could not run`,
    tone: 'danger',
    description: text`${reason}\n\n${next} This is said once: the next notice comes when the check's outcome changes.`,
  };
}
