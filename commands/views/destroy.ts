/** What /cloud-destroy shows at each step (src/deploy/destroy-service.ts decides; this words it). */
import type { DestroyPrepared, Destroyed, Destruction } from '../../src/deploy/destroy-service.js';
import type { ShowProgress } from '../../src/deploy/steps.js';
import type { AccessLostAtStep } from '../../src/jit/access-at-step.js';
import type { ButtonChoice, Conversation, Message } from '../../src/interaction/conversation.js';
import { destroyedView, failureView } from './deploy.js';
import { escapeMarkdown, mention } from './format.js';
import { resourceLine } from './projects-list.js';
import { withLiveProgress } from './run-progress.js';

/** How long the Destroy and Keep buttons wait. */
const CONFIRM_WINDOW_MS = 2 * 60_000;

export function nothingToDestroyView(prepared: Extract<DestroyPrepared, { ready: false }>): Message {
  const { project, resourceId } = prepared;
  return {
    ephemeral: true,
    content: resourceId
      ? `Project **${escapeMarkdown(project.name)}** has no resource #${resourceId} that can be destroyed. \`/cloud-projects\` lists them.`
      : `Project **${escapeMarkdown(project.name)}** has nothing to destroy. Add \`forget:true\` to forget the project itself.`,
  };
}

/** Asks to confirm with Destroy and Keep; `mayPress` says who may answer. Null when nobody did in time. */
export function offerDestroy(conversation: Conversation, destruction: Destruction, mayPress: (by: ButtonChoice['by']) => boolean): Promise<ButtonChoice | null> {
  const { project, targets, forget, resourceId } = destruction;
  const what = resourceId ? `resource #${resourceId}` : targets.length ? 'everything' : 'nothing';
  const question = {
    notices: [
      {
        title: forget ? `🧨 Destroy ${what} in ${escapeMarkdown(project.name)} and forget it?` : `🧨 Destroy ${what} in ${escapeMarkdown(project.name)}?`,
        tone: 'danger' as const,
        description: [
          targets.map(resourceLine).join('\n'),
          forget ? 'Then the project is forgotten: its vault session, folder and name are freed.' : '',
          'This cannot be undone.',
        ]
          .filter(Boolean)
          .join('\n\n'),
      },
    ],
  };
  return conversation.offerButtons(
    { ...question, buttons: [{ id: 'destroy', label: 'Destroy', style: 'danger' }, { id: 'keep', label: 'Keep', style: 'secondary' }] },
    {
      where: 'response',
      timeoutMs: CONFIRM_WINDOW_MS,
      authorize: (by) => (mayPress(by) ? null : 'Only the member who asked can confirm this.'),
      settled: (pressed) => ({
        ...question,
        content: !pressed
          ? '⌛ Nothing destroyed: the buttons expired.'
          : pressed.buttonId !== 'destroy'
            ? '✖️ Kept: nothing destroyed.'
            : targets.length
              ? '▶️ Destroying…'
              : '▶️ Forgetting…',
      }),
    },
  );
}

export function notDestroyedView(destruction: Destruction, refusal: AccessLostAtStep): Message {
  return failureView(`⛔ Not destroyed: ${destruction.project.name}`, refusal.message);
}

export function destroyProgress(conversation: Conversation, destruction: Destruction): ShowProgress {
  return (run) => withLiveProgress(conversation, `🧨 Destroying in ${escapeMarkdown(destruction.project.name)}…`, run);
}

export function destroyOutcomeView(destruction: Destruction, destroyed: Destroyed): Message {
  const { project, requester } = destruction;
  if (destroyed.ok) return destroyedView(project, destroyed.result, requester.id);
  return { ...failureView(`❌ Destroy in ${escapeMarkdown(project.name)} failed`, destroyed.error.message), content: mention(requester.id) };
}

export function forgottenView(destruction: Destruction): Message {
  return { content: `🗑️ Project **${escapeMarkdown(destruction.project.name)}** forgotten: its vault session, folder and name are freed.` };
}
