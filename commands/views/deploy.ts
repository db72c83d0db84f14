import type { RunEvent, ApplyResult, DestroyResult, PlanResult } from '../../src/engine/runner.js';
import type { Message } from '../../src/interaction/conversation.js';
import type { PolicyDecision } from '../../src/policy/policy-service.js';
import type { Project } from '../../src/projects/project-repository.js';
import type { Resource } from '../../src/projects/resource-repository.js';
import { bullets, escapeMarkdown, mention, usd } from './format.js';

export function violationView(decision: PolicyDecision): Message {
  return {
    notices: [
      {
        title: '⛔ Policy violation',
        tone: 'danger',
        description: `${bullets(decision.violations.map((v) => v.message))}\n\nContact a server administrator to request policy changes (\`/cloud-guild-policy\`).`,
      },
    ],
  };
}

function addressList(label: string, addresses: readonly string[]): string[] {
  if (addresses.length === 0) return [];
  const shown = addresses.slice(0, 10).map((a) => `\`${a}\``).join(', ');
  return [`**${label} (${addresses.length})**: ${shown}${addresses.length > 10 ? ', …' : ''}`];
}

export function planView(input: {
  project: Project;
  resource: Resource;
  plan: PlanResult;
  decision: PolicyDecision;
  credentialLabel: string;
  footer?: string;
}): Message {
  const { project, resource, plan, decision } = input;
  const summary = plan.summary;
  const lines = [
    ...addressList('➕ create', summary.create),
    ...addressList('✏️ update', summary.update),
    ...addressList('♻️ replace', summary.replace),
    ...addressList('🗑️ destroy', summary.delete),
  ];
  return {
    notices: [
      {
        title: `📝 Plan for ${escapeMarkdown(project.name)}: ${resource.resourceType} #${resource.id}`,
        tone: summary.counts.delete || summary.counts.replace ? 'warning' : 'info',
        description: [
          lines.length ? lines.join('\n') : 'No changes.',
          plan.engine.fallbackNotice ? `⚠️ ${plan.engine.fallbackNotice}` : '',
          ...plan.warnings.map((w) => `⚠️ ${w.summary}`),
          input.footer ?? '',
        ]
          .filter(Boolean)
          .join('\n'),
        fields: [
          { name: 'Estimate', value: `${usd(decision.estimate.monthlyUsd)}/month` },
          { name: 'Guild total after', value: `${usd(decision.projectedMonthlyUsd)}/month` },
          { name: 'Engine', value: `${plan.engine.name} ${plan.engine.version}` },
          { name: 'Plan', value: `#${plan.runId}` },
          { name: 'Credentials', value: input.credentialLabel },
        ],
      },
    ],
  };
}

/** Keeps the last few engine events as readable lines for the progress message. */
export class ProgressLog {
  private readonly lines: string[] = [];
  queuedAt: number | undefined;

  constructor(private readonly title: string) {}

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

function describeEvent(event: RunEvent): string | undefined {
  switch (event.type) {
    case 'run_started':
      return `▶️ ${event.kind} started with ${event.engine} ${event.engineVersion}${event.fallbackNotice ? ` (⚠️ ${event.fallbackNotice})` : ''}`;
    case 'phase':
      return `• ${event.phase}…`;
    case 'apply_start':
      return `⏳ ${event.address}: ${event.action ?? 'working'}…`;
    case 'apply_progress':
      return `⏳ ${event.address}: still ${event.action ?? 'working'} (${event.elapsedSeconds ?? 0}s)`;
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

function outputLines(outputs: ApplyResult['outputs']): string[] {
  return Object.entries(outputs).map(([name, output]) =>
    output.sensitive ? `\`${name}\` = (sensitive)` : `\`${name}\` = \`${JSON.stringify(output.value)}\``,
  );
}

export function appliedView(project: Project, resource: Resource, result: ApplyResult, requesterId: string): Message {
  const outputs = outputLines(result.outputs);
  return {
    content: mention(requesterId),
    notices: [
      {
        title: `✅ Deployed ${resource.resourceType} #${resource.id} in ${escapeMarkdown(project.name)}`,
        tone: 'success',
        description: [
          `${result.changes.add} added, ${result.changes.change} changed, ${result.changes.remove} destroyed.`,
          ...(outputs.length ? ['**Outputs**', ...outputs] : []),
        ].join('\n'),
        fields: [{ name: 'Monthly estimate', value: `${usd(resource.estimatedMonthlyCost)}/month` }],
      },
    ],
  };
}

export function outputsView(project: Project, outputs: ApplyResult['outputs']): Message {
  const lines = outputLines(outputs);
  return {
    ephemeral: true,
    notices: [{ title: `📤 Outputs of ${escapeMarkdown(project.name)}`, description: lines.length ? lines.join('\n').slice(0, 4000) : 'No outputs yet: nothing has been deployed.' }],
  };
}

export function destroyedView(project: Project, result: DestroyResult, requesterId: string): Message {
  return {
    content: mention(requesterId),
    notices: [
      {
        title: `🧨 Destroyed in ${escapeMarkdown(project.name)}`,
        tone: 'success',
        description: `${result.changes.remove} resource${result.changes.remove === 1 ? '' : 's'} destroyed${result.destroyed.length ? `: ${result.destroyed.map((a) => `\`${a}\``).join(', ')}` : ''}.`,
      },
    ],
  };
}

export function failureView(title: string, message: string): Message {
  return { notices: [{ title, tone: 'danger', description: message.slice(0, 3900) }] };
}
