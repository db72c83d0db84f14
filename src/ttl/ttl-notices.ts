/**
 * The words (and durable buttons) of deployments that expire: the reminders before the end, the destroy at the end
 * (starting, done, failed), and the answers to Extend and Destroy now. One place, so every channel says the same.
 */
import { durableId } from '../interaction/durable-components.js';
import type { DurableButton, Notice } from '../notify/notifier.js';
import { command, duration, member, strong, text, time, type RichText, type Text } from '../shared/text.js';

/** Custom ids `ttl:<action>:<resourceId>`: Extend (and its form) and Destroy now on a deployment's notices. */
export const TTL_NAMESPACE = 'ttl';

export const ttlIds = {
  extend: (resourceId: number) => durableId(TTL_NAMESPACE, 'extend', resourceId),
  extendForm: (resourceId: number) => durableId(TTL_NAMESPACE, 'extend-form', resourceId),
  destroy: (resourceId: number) => durableId(TTL_NAMESPACE, 'destroy', resourceId),
};

/** What every notice about one deployment names. */
export interface TtlSubject {
  resourceId: number;
  guildId: string;
  template: string;
  projectName: string;
  deployerId: string;
  expiresAt: number;
}

export function ttlButtons(resourceId: number): DurableButton[] {
  return [
    { customId: ttlIds.extend(resourceId), label: 'Extend', style: 'primary' },
    { customId: ttlIds.destroy(resourceId), label: 'Destroy now', style: 'danger' },
  ];
}

function serverName(guildName: string | undefined): Text {
  return guildName ? text`server "${guildName}"` : text`this server`;
}

function deployment(subject: TtlSubject): Text {
  return text`deployment #${subject.resourceId} (${subject.template}) of project ${strong(subject.projectName)}`;
}

function whose(subject: TtlSubject, viaChannel: boolean): Text {
  return viaChannel ? text`${member(subject.deployerId)}, your` : text`Your`;
}

/**
 * The reminder before the end, with Extend and Destroy now. `cannotDestroy` says why the bot could not destroy it
 * at the end as things stand (no vault session, no stored credential...), so the deployer can fix it in time.
 */
export function ttlReminder(subject: TtlSubject, guildName: string | undefined, viaChannel: boolean, cannotDestroy: RichText | undefined): Notice {
  const fields = [
    { name: 'Destroyed', value: time(subject.expiresAt, 'datetime') },
    { name: 'Deployment', value: text`#${subject.resourceId}` },
  ];
  if (cannotDestroy) {
    fields.push({
      name: '⚠️ It cannot be destroyed unattended yet',
      value: text`${cannotDestroy} Until then, the bot cannot destroy it when its time is up and it keeps running (and costing).`,
    });
  }
  return {
    title: 'Deployment ending soon',
    tone: 'warning',
    description: text`${whose(subject, viaChannel)} ${deployment(subject)} in ${serverName(guildName)} reaches the end of its time to live ${time(subject.expiresAt)}: it will be destroyed then. Press Extend for more time, or Destroy now if it is no longer needed.`,
    fields,
    buttons: ttlButtons(subject.resourceId),
  };
}

/** Posted in the notification channel as the destroy at the end starts: the run's progress message. */
export function ttlDestroyingNotice(subject: TtlSubject, attempt: number): Notice {
  return {
    title: '🧨 Time to live over: destroying',
    tone: 'info',
    description: text`The time to live of ${deployment(subject)}, deployed by ${member(subject.deployerId)}, ran out: destroying it now${attempt > 1 ? text` (try ${attempt})` : undefined}.`,
  };
}

/** The deployer (and the channel) are told once it is destroyed. */
export function ttlExpiredNotice(subject: TtlSubject, guildName: string | undefined, viaChannel: boolean): Notice {
  return {
    title: 'Deployment expired and destroyed',
    tone: 'success',
    description: text`${whose(subject, viaChannel)} ${deployment(subject)} in ${serverName(guildName)} reached the end of its time to live and was destroyed. Deploy it again with ${command('deploy')} if you still need it.`,
  };
}

/**
 * A destroy at the end that failed: what is still running, why, and when it is tried again. Said every time, so
 * resources are never left running in silence; Extend and Destroy now stay on it.
 */
export function ttlDestroyFailedNotice(subject: TtlSubject, guildName: string | undefined, viaChannel: boolean, failure: { attempt: number; reason: RichText; nextAttemptAt: number }): Notice {
  return {
    title: '❌ Expired deployment not destroyed',
    tone: 'danger',
    description: text`${whose(subject, viaChannel)} ${deployment(subject)} in ${serverName(guildName)} reached the end of its time to live, but it could not be destroyed (try ${failure.attempt}), so it is still running and still costs money.`,
    fields: [
      { name: 'Why', value: failure.reason },
      { name: 'Next try', value: time(failure.nextAttemptAt) },
    ],
    buttons: ttlButtons(subject.resourceId),
  };
}

/** The answer to Extend: the new end, and whether an admin's press went beyond the guild's maximum. */
export function ttlExtendedNotice(subject: TtlSubject, by: string, beyondMax: boolean): Notice {
  return {
    title: '⏳ Deployment extended',
    tone: 'success',
    description: text`${member(by)} extended ${deployment(subject)}: it is now destroyed ${time(subject.expiresAt)} (${time(subject.expiresAt, 'datetime')})${beyondMax ? text`, beyond this server's maximum time to live, as an admin may` : undefined}.`,
    buttons: ttlButtons(subject.resourceId),
  };
}

/** How long is left, for the form's default. */
export function timeLeft(subject: TtlSubject, now: number): Text {
  return duration(Math.max(0, subject.expiresAt - now));
}
