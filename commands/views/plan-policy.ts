/** The words for what the guild's policy found in a plan (src/policy/plan-policy.ts decides; this says it). */
import type { Message } from '../../src/interaction/conversation.js';
import type { NotEstimated, NotEstimatedReason } from '../../src/policy/plan-cost.js';
import type { PlanDecision, PlanViolation } from '../../src/policy/plan-policy.js';
import type { PlannedDisk } from '../../src/policy/planned-resources.js';
import { bullets, code, command, join, money, text, type RichText, type Text } from './format.js';

/** At most this many addresses are named in one line; the rest are counted. */
const ADDRESSES_SHOWN = 5;

const DISK_NAMES: Record<PlannedDisk['role'], string> = { boot: 'boot disk', data: 'data disk', scratch: 'scratch disk', standalone: 'disk' };

const NOT_ESTIMATED: Record<NotEstimatedReason, string> = {
  unknown_type: 'no price for this resource type',
  instance_type_unknown: 'its instance type is known only after apply',
  instance_type_not_priced: 'its instance type is not in the price catalogue',
  disk_size_unknown: 'a disk size is known only after apply',
};

function s(count: number): string {
  return count === 1 ? '' : 's';
}

function addresses(list: readonly string[]): Text {
  const shown = join(list.slice(0, ADDRESSES_SHOWN).map((a) => code(a)), ', ');
  return list.length > ADDRESSES_SHOWN ? text`${shown} and ${list.length - ADDRESSES_SHOWN} more` : shown;
}

/** "google_compute_instance.vm_1 (no price for this resource type)" */
export function notEstimatedText(item: NotEstimated): Text {
  const reason = item.reason === 'instance_type_not_priced' && item.instanceType !== undefined ? text`its instance type "${item.instanceType}" is not in the price catalogue` : text`${NOT_ESTIMATED[item.reason]}`;
  return text`${code(item.address)} (${reason})`;
}

/** One broken rule, as the member reads it. */
export function planViolationText(violation: PlanViolation): RichText {
  switch (violation.rule) {
    case 'budget': {
      const unpriced = violation.notEstimated > 0 ? text`, not counting ${violation.notEstimated} resource${s(violation.notEstimated)} that could not be estimated` : undefined;
      return text`Estimated monthly cost (${money(violation.estimateUsd)}${unpriced}) would bring the guild to ${money(violation.projectedUsd)}, over its budget limit (${money(violation.maxUsd)}).`;
    }
    case 'instances': {
      const unsettled = violation.unsettled > 0 ? text` (${violation.unsettled} of them failed, interrupted or being destroyed, and may still exist in the cloud: ${command('projects')} lists them, ${command('destroy')} removes them)` : undefined;
      return text`The plan adds ${violation.adding} instance${s(violation.adding)}, and the guild already runs ${violation.running} of its ${violation.max} allowed instances${unsettled}; destroy ${violation.running + violation.adding - violation.max} first.`;
    }
    case 'disk': {
      const { disk, address, maxGb } = violation;
      const name = DISK_NAMES[disk.role];
      if (disk.sizeGb === null) return text`The size of the ${name} of ${code(address)} is known only after apply, so it cannot be checked against the guild limit (${maxGb} GB): give it a size in the configuration.`;
      const assumed = disk.source === 'default' ? text`, its image’s size as no size is set` : undefined;
      return text`The ${name} of ${code(address)} (${disk.sizeGb} GB${assumed}) exceeds the guild limit (${maxGb} GB).`;
    }
    case 'instance_type': {
      const { instanceType, address } = violation;
      const allowed = violation.allowed.join(', ');
      if (instanceType.state === 'unknown') return text`The instance type of ${code(address)} is known only after apply, so it cannot be checked against the allowed types (${allowed}).`;
      if (instanceType.sensitive) return text`The instance type of ${code(address)} (a sensitive value, not shown) is not allowed in this guild; allowed: ${allowed}.`;
      return text`Instance type "${instanceType.value}" of ${code(address)} is not allowed in this guild; allowed: ${allowed}.`;
    }
    case 'resource_type': {
      const kind = violation.category ? text` (a ${violation.category})` : undefined;
      return text`Resource type ${code(violation.terraformType)}${kind} is not allowed in this guild (${addresses(violation.addresses)}); allowed: ${violation.allowed.join(', ')}.`;
    }
    case 'unpriced':
      return text`This guild’s policy refuses resources that cannot be estimated: ${join(violation.resources.slice(0, ADDRESSES_SHOWN).map(notEstimatedText), ', ')}${violation.resources.length > ADDRESSES_SHOWN ? text` and ${violation.resources.length - ADDRESSES_SHOWN} more` : undefined}.`;
  }
}

/** A plan the policy refused: every broken rule, and that nothing was applied. `hint` adds what the member can change. */
export function planRefusedView(decision: PlanDecision, hint?: RichText): Message {
  return {
    notices: [
      {
        title: '⛔ Plan refused by policy',
        tone: 'danger',
        description: join(
          [
            bullets(decision.violations.map(planViolationText)),
            hint === undefined ? undefined : text`${hint}`,
            text`The plan was discarded; nothing was applied. Contact a server administrator to request policy changes (${command('policy')}).`,
          ],
          '\n\n',
        ),
      },
    ],
  };
}

/** What the plan view says about resources the catalogue could not price, and what that means for approval. */
export function notEstimatedField(decision: PlanDecision): { name: string; value: Text } | undefined {
  if (decision.notEstimated.length === 0) return undefined;
  const listed = join(decision.notEstimated.slice(0, ADDRESSES_SHOWN).map(notEstimatedText), '\n');
  const more = decision.notEstimated.length > ADDRESSES_SHOWN ? text`\n… and ${decision.notEstimated.length - ADDRESSES_SHOWN} more` : undefined;
  const needs = decision.approvalReasons.includes('unpriced') ? text`\nThis server’s policy requires an admin’s approval for them.` : undefined;
  return { name: 'Not estimated', value: text`${listed}${more}${needs}` };
}
