/** What Extend and Destroy now on a deployment's TTL notices show (src/ttl/ttl-service.ts decides; this words it). */
import type { DurableForm } from '../../src/interaction/durable-components.js';
import type { Message } from '../../src/interaction/conversation.js';
import { UserError } from '../../src/shared/errors.js';
import { ttlOptionSchema } from '../../src/ttl/ttl-duration.js';
import { ttlIds, type TtlSubject } from '../../src/ttl/ttl-notices.js';
import type { DestroyNowOutcome, ExtendOffer } from '../../src/ttl/ttl-service.js';
import { typedForm } from '../../src/ttl/ttl-policy.js';
import { command, duration, member, strong, text } from './format.js';

export function ttlExtendForm(offer: ExtendOffer): DurableForm {
  const max = offer.maxMinutes === null ? '' : ` (time left at most ${typedForm(offer.maxMinutes)} unless an admin)`;
  return {
    customId: ttlIds.extendForm(offer.subject.resourceId),
    title: `Extend deployment #${offer.subject.resourceId}`,
    fields: [{ id: 'more', label: `How much longer: 90m, 4h, 3d…${max}`.slice(0, 45), value: typedForm(Math.min(offer.suggestedMinutes, offer.maxMinutes ?? Infinity)), maxLength: 32 }],
  };
}

/** The length typed into the form, read with the `ttl` option's schema; anything else is refused before anything changes. */
export function ttlTyped(value: string | undefined): number {
  const parsed = ttlOptionSchema.safeParse(value ?? '');
  if (!parsed.success || parsed.data === 'none') {
    throw new UserError('options.invalid', 'Type how much longer as a length such as 90m, 4h or 3d. Nothing was changed.');
  }
  return parsed.data;
}

/** In place of the notice pressed, while the destroy runs (its progress goes to the notification channel). */
export function ttlDestroyStartedView(subject: TtlSubject, by: string): Message {
  return { content: text`🧨 ${member(by)} pressed Destroy now: destroying deployment #${subject.resourceId} (${subject.template}) of ${strong(subject.projectName)}…` };
}

export function ttlDestroyNowView(subject: TtlSubject, by: string, outcome: DestroyNowOutcome): Message {
  const what = text`deployment #${subject.resourceId} (${subject.template}) of ${strong(subject.projectName)}`;
  switch (outcome) {
    case 'destroyed':
      return { content: text`🧨 ${member(by)} destroyed ${what} with Destroy now.` };
    case 'failed':
      return { content: text`❌ ${member(by)} pressed Destroy now, but ${what} could not be destroyed: the notice sent to its deployer and the notification channel says why. It is tried again later; ${command('destroy')} works too.` };
    case 'gone':
      return { content: text`${what} was already destroyed.` };
    case 'skipped':
      return { content: text`${what} is being destroyed already; its outcome is posted when it ends (in about ${duration(60_000)} or more).` };
    case 'handed_over':
      return { content: text`⏳ ${member(by)} pressed Destroy now: ${what} is destroyed within about ${duration(60_000)}, by the bot's process that serves its server. Its deployer is told how it went.` };
  }
}
