import type { Advice } from '../../src/advisor/advisor.js';
import type { Notice } from '../../src/notify/notifier.js';
import type { RunEvent, ApplyResult, DestroyResult, PlanResult } from '../../src/engine/runner.js';
import type { Message } from '../../src/interaction/conversation.js';
import type { PlanDecision } from '../../src/policy/plan-policy.js';
import type { PolicyDecision } from '../../src/policy/policy-service.js';
import type { Project } from '../../src/projects/project-repository.js';
import type { Resource } from '../../src/projects/resource-repository.js';
import type { RichText, Text } from '../../src/shared/text.js';
import { bullets, code, command, join, member, money, strong, text, time, toText } from './format.js';
import { notEstimatedField } from './plan-policy.js';

/** What a deployment is called in messages: the built-in's type (`vm`), or the template's name. */
export function deploymentLabel(resource: Pick<Resource, 'resourceType' | 'template'>): string {
  return resource.resourceType ?? resource.template;
}

/** The options broke the policy: refused before anything was planned. */
export function violationView(decision: PolicyDecision): Message {
  return {
    notices: [
      {
        title: '⛔ Policy violation',
        tone: 'danger',
        description: text`${bullets(decision.violations.map((v) => v.message))}\n\nContact a server administrator to request policy changes (${command('policy')}).`,
      },
    ],
  };
}

function addressList(label: string, addresses: readonly string[]): Text[] {
  if (addresses.length === 0) return [];
  const shown = join(addresses.slice(0, 10).map((a) => code(a)), ', ');
  return [text`${strong(text`${label} (${addresses.length})`)}: ${shown}${addresses.length > 10 ? text`, …` : undefined}`];
}

export function planView(input: {
  project: Project;
  resource: Resource;
  plan: PlanResult;
  decision: PlanDecision;
  credentialLabel: string;
  /** The advisor's advice, shown as a notice under the plan; none when it is off or had nothing to say. */
  advice?: readonly Advice[];
  footer?: RichText;
}): Message {
  const { project, resource, plan, decision } = input;
  const summary = plan.summary;
  const notEstimated = notEstimatedField(decision);
  const lines = [
    ...addressList('➕ create', summary.create),
    ...addressList('✏️ update', summary.update),
    ...addressList('♻️ replace', summary.replace),
    ...addressList('🗑️ destroy', summary.delete),
  ];
  return {
    notices: [
      {
        title: text`📝 Plan for ${project.name}: ${deploymentLabel(resource)} #${resource.id}`,
        tone: summary.counts.delete || summary.counts.replace ? 'warning' : 'info',
        description: join(
          [
            lines.length ? join(lines, '\n') : text`No changes.`,
            plan.engine.fallbackNotice ? text`⚠️ ${plan.engine.fallbackNotice}` : undefined,
            ...plan.warnings.map((w) => text`⚠️ ${w.summary}`),
            input.footer === undefined ? undefined : toText(input.footer),
          ],
          '\n',
        ),
        fields: [
          { name: 'Estimate', value: text`${money(decision.estimate.monthlyUsd)}/month${notEstimated ? ', plus what could not be estimated' : undefined}` },
          { name: 'Guild total after', value: text`${money(decision.projectedMonthlyUsd)}/month` },
          ...(notEstimated ? [notEstimated] : []),
          { name: 'Engine', value: `${plan.engine.name} ${plan.engine.version}` },
          { name: 'Plan', value: `#${plan.runId}` },
          { name: 'Credentials', value: text`${input.credentialLabel}` },
        ],
      },
      ...adviceNotices(input.advice ?? []),
    ],
  };
}

/** Advice informs, it does not refuse: the plan can be applied whatever it says. */
function adviceNotices(advice: readonly Advice[]): Notice[] {
  if (advice.length === 0) return [];
  return [{ title: '💡 Advisor', tone: 'info', description: text`${bullets(advice.map((a) => a.text))}

Advice only: Apply still applies this plan as shown.` }];
}

/** Keeps the last few engine events as readable lines for the progress message. */
export class ProgressLog {
  private readonly lines: string[] = [];
  queuedAt: number | undefined;

  constructor(private readonly title: RichText) {}

  add(event: RunEvent): boolean {
    const line = describeEvent(event);
    if (!line) return false;
    this.lines.push(line);
    if (this.lines.length > 12) this.lines.shift();
    return true;
  }

  queued(position: number): void {
    this.lines.push(`⏸️ Waiting for a free engine slot: position ${position} in the queue`);
  }

  view(): Message {
    return { notices: [{ title: this.title, description: this.lines.join('\n') || 'Starting…' }] };
  }
}

/** The engine's action ("create", "delete"…) as what is going on: "creating", "destroying". */
const ONGOING: Record<string, string> = { create: 'creating', read: 'reading', update: 'updating', replace: 'replacing', delete: 'destroying', noop: 'checking' };

function ongoing(action: string | undefined): string {
  return (action && ONGOING[action]) ?? 'working';
}

function describeEvent(event: RunEvent): string | undefined {
  switch (event.type) {
    case 'run_started':
      return `▶️ ${event.kind} started with ${event.engine} ${event.engineVersion}${event.fallbackNotice ? ` (⚠️ ${event.fallbackNotice})` : ''}`;
    case 'phase':
      return `• ${event.phase}…`;
    case 'apply_start':
      return `⏳ ${event.address}: ${ongoing(event.action)}…`;
    case 'apply_progress':
      return `⏳ ${event.address}: still ${ongoing(event.action)} (${event.elapsedSeconds ?? 0}s)`;
    case 'apply_complete':
      return `✅ ${event.address}: done${event.elapsedSeconds !== undefined ? ` in ${event.elapsedSeconds}s` : ''}`;
    case 'apply_errored':
      return `❌ ${event.address}: failed`;
    case 'diagnostic':
      return `${event.severity === 'error' ? '❌' : '⚠️'} ${event.summary}`;
    case 'change_summary':
      return `Σ ${event.add} added, ${event.change} changed, ${event.remove} destroyed`;
    default:
      return undefined;
  }
}

function outputLines(outputs: ApplyResult['outputs']): Text[] {
  return Object.entries(outputs).map(([name, output]) =>
    output.sensitive ? text`${code(name)} = (sensitive)` : text`${code(name)} = ${code(JSON.stringify(output.value))}`,
  );
}

export function appliedView(project: Project, resource: Resource, result: ApplyResult, requesterId: string): Message {
  const outputs = outputLines(result.outputs);
  return {
    content: member(requesterId),
    notices: [
      {
        title: text`✅ Deployed ${deploymentLabel(resource)} #${resource.id} in ${project.name}`,
        tone: 'success',
        description: join(
          [text`${result.changes.add} added, ${result.changes.change} changed, ${result.changes.remove} destroyed.`, ...(outputs.length ? [strong(text`Outputs`), ...outputs] : [])],
          '\n',
        ),
        fields: [
          { name: 'Monthly estimate', value: text`${money(resource.estimatedMonthlyCost)}/month` },
          // Its time to live started with this apply: when the janitor destroys it (after reminders).
          ...(resource.expiresAt === null ? [] : [{ name: 'Time to live', value: text`destroyed ${time(resource.expiresAt)} (${time(resource.expiresAt, 'datetime')}), after reminders` }]),
        ],
      },
    ],
  };
}

export function outputsView(project: Project, outputs: ApplyResult['outputs'], deployment?: Resource): Message {
  const lines = outputLines(outputs);
  const title = deployment ? text`📤 Outputs of ${deploymentLabel(deployment)} #${deployment.id} in ${project.name}` : text`📤 Outputs of ${project.name}`;
  return { ephemeral: true, notices: [{ title, description: lines.length ? join(lines, '\n') : 'No outputs yet: nothing has been deployed.' }] };
}

export function destroyedView(project: Project, result: DestroyResult, requesterId: string): Message {
  return {
    content: member(requesterId),
    notices: [
      {
        title: text`🧨 Destroyed in ${project.name}`,
        tone: 'success',
        description: text`${result.changes.remove} resource${result.changes.remove === 1 ? '' : 's'} destroyed${result.destroyed.length ? text`: ${join(result.destroyed.map((a) => code(a)), ', ')}` : undefined}.`,
      },
    ],
  };
}

export function failureView(title: RichText, message: RichText): Message {
  return { notices: [{ title, tone: 'danger', description: message }] };
}
