/** What /cloud-destroy shows at each step (src/deploy/destroy-service.ts decides; this words it). */
import type { DestroyPrepared, Destroyed, Destruction } from '../../src/deploy/destroy-service.js';
import type { ShowProgress } from '../../src/deploy/steps.js';
import type { AccessLostAtStep } from '../../src/jit/access-at-step.js';
import type { ButtonChoice, Conversation, Message } from '../../src/interaction/conversation.js';
import { destroyedView, failureView } from './deploy.js';
import { code, command, join, member, strong, text } from './format.js';
import { resourceLine } from './projects-list.js';
import { withLiveProgress } from './run-progress.js';

/** How long the Destroy and Keep buttons wait. */
const CONFIRM_WINDOW_MS = 2 * 60_000;

export function nothingToDestroyView(prepared: Extract<DestroyPrepared, { ready: false }>): Message {
  const { project, resourceId } = prepared;
  return {
    ephemeral: true,
    content: resourceId
      ? text`Project ${strong(project.name)} has no resource #${resourceId} that can be destroyed. ${command('projects')} lists them.`
      : text`Project ${strong(project.name)} has nothing to destroy. Add ${code('forget:true')} to forget the project itself.`,
  };
}

/** Asks to confirm with Destroy and Keep; `mayPress` says who may answer. Null when nobody did in time. */
export function offerDestroy(conversation: Conversation, destruction: Destruction, mayPress: (by: ButtonChoice['by']) => boolean): Promise<ButtonChoice | null> {
  const { project, targets, forget, resourceId } = destruction;
  const what = resourceId ? `resource #${resourceId}` : targets.length ? 'everything' : 'nothing';
  const question = {
    notices: [
      {
        title: forget ? text`🧨 Destroy ${what} in ${project.name} and forget it?` : text`🧨 Destroy ${what} in ${project.name}?`,
        tone: 'danger' as const,
        description: join(
          [
            join(targets.map(resourceLine), '\n'),
            forget ? text`Then the project is forgotten: its vault session, folder and name are freed.` : undefined,
            destruction.credentials ? text`Runs with ${destruction.credentials.label}.` : undefined,
            text`This cannot be undone.`,
          ],
          '\n\n',
        ),
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
  return failureView(text`⛔ Not destroyed: ${destruction.project.name}`, refusal.text);
}

export function destroyProgress(conversation: Conversation, destruction: Destruction): ShowProgress {
  return (run) => withLiveProgress(conversation, text`🧨 Destroying in ${destruction.project.name}…`, run);
}

export function destroyOutcomeView(destruction: Destruction, destroyed: Destroyed): Message {
  const { project, requester } = destruction;
  if (destroyed.ok) return destroyedView(project, destroyed.result, requester.id);
  return { ...failureView(text`❌ Destroy in ${project.name} failed`, destroyed.error.text), content: member(requester.id) };
}

export function forgottenView(destruction: Destruction): Message {
  return { content: text`🗑️ Project ${strong(destruction.project.name)} forgotten: its vault session, folder and name are freed.` };
}
