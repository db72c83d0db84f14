/**
 * The destroy at the end of a time to live, through the normal destroy path (DestroyService: the workspace lock, the
 * sandbox, the audit entry), for the janitor and for Destroy now. Each try is claimed on the row before it starts
 * and pushes the next one back (doubling each time), so a crash mid-destroy never starts a storm of tries; a try
 * that fails, whatever the cause (no credential, the engine, a run holding the workspace), is recorded on the row
 * and reported to the deployer and the notification channel, every time.
 */
import { SYSTEM_USER } from '../audit/audit-log.js';
import type { AppContext } from '../app/context.js';
import { DestroyService } from '../deploy/destroy-service.js';
import type { Member, ShowProgress } from '../deploy/steps.js';
import { describeError } from '../jit/delivery.js';
import type { Logger } from '../logging/logger.js';
import { DirectMessageRefused, type Notice, type Notifier } from '../notify/notifier.js';
import type { Project, ProjectRepository } from '../projects/project-repository.js';
import type { Clock } from '../shared/clock.js';
import { isUserError } from '../shared/errors.js';
import { command, plain, text, type RichText } from '../shared/text.js';
import { ttlDestroyFailedNotice, ttlDestroyingNotice, ttlExpiredNotice, type TtlSubject } from './ttl-notices.js';
import type { TtlDeployment, TtlRepository } from './ttl-repository.js';

/** The janitor, as the one who destroys at the end: a server admin's standing, the audit log's `system`. */
export const TTL_SYSTEM: Member = { id: SYSTEM_USER, isGuildAdmin: true };
/** However many tries failed, the next one is at most this far off. */
export const MAX_RETRY_MS = 6 * 60 * 60_000;

export type ExpireOutcome = 'destroyed' | 'failed' | 'gone' | 'skipped';

export interface TtlDestroyerDeps {
  ttls: TtlRepository;
  destroys: Pick<DestroyService, 'prepare' | 'destroy'>;
  projects: Pick<ProjectRepository, 'getById'>;
  policies: { get(guildId: string): Promise<{ notificationChannelId: string | null }> };
  audit: AppContext['audit'];
  notifier: Notifier;
  clock: Clock;
  logger?: Logger | undefined;
  /** The wait after the first failed try (TTL_DESTROY_RETRY_MINUTES); it doubles with each failure. */
  retryBaseMs: number;
}

type Readiness =
  | { ready: true; run: () => Promise<{ ok: true } | { ok: false; reason: RichText }> }
  /** `gone`: nothing left to destroy; `busy`: a run (someone's /cloud-destroy, say) is changing it right now. */
  | { ready: false; reason: RichText; gone?: boolean; busy?: boolean };

export class TtlDestroyer {
  /** Destroys under way, by deployment: never two at once for one, and shutdown (and tests) can wait for them. */
  readonly #running = new Map<number, Promise<ExpireOutcome>>();

  constructor(private readonly deps: TtlDestroyerDeps) {}

  /** Whether a destroy of this deployment is under way in this process. */
  isRunning(resourceId: number): boolean {
    return this.#running.has(resourceId);
  }

  /** Starts `expire` without waiting for it (the janitor's tick must not wait minutes for an engine). */
  start(row: TtlDeployment): boolean {
    if (this.#running.has(row.id)) return false;
    void this.expire(row);
    return true;
  }

  /** Resolves once every destroy under way has ended. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()]);
  }

  static from(app: AppContext, ttls: TtlRepository, retryBaseMs: number): TtlDestroyer {
    return new TtlDestroyer({ ...app, ttls, destroys: DestroyService.from(app), retryBaseMs });
  }

  /** When the try after `attempt` failed ones may start. */
  nextAttemptAt(attempt: number, now: number): number {
    return now + Math.min(MAX_RETRY_MS, this.deps.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  }

  /** What the notices say about the deployment; undefined when its project is gone. */
  async subject(row: TtlDeployment): Promise<{ subject: TtlSubject; project: Project } | undefined> {
    try {
      const project = await this.deps.projects.getById(row.guildId, row.projectId);
      return { project, subject: { resourceId: row.id, guildId: row.guildId, template: row.template, projectName: project.name, deployerId: row.createdBy, expiresAt: row.expiresAt ?? 0 } };
    } catch {
      return undefined;
    }
  }

  /**
   * Why the deployment could not be destroyed unattended right now (no credential for its project, secret inputs the
   * vault no longer holds), or undefined when it could. Nothing runs.
   */
  async cannotDestroy(row: TtlDeployment): Promise<RichText | undefined> {
    const found = await this.subject(row);
    if (!found) return undefined;
    const readiness = await this.#prepare(row, found.project, TTL_SYSTEM);
    return readiness.ready ? undefined : readiness.reason;
  }

  /**
   * One try at destroying a deployment whose time is up, by the janitor or by `by` (Destroy now, whose access the
   * caller checked). Skipped when the row is not due or someone else claimed this try.
   */
  async expire(row: TtlDeployment, by: Member = TTL_SYSTEM): Promise<ExpireOutcome> {
    if (this.#running.has(row.id)) return 'skipped';
    const running = this.#expire(row, by).catch((error: unknown) => {
      this.deps.logger?.error({ guildId: row.guildId, resourceId: row.id, error: describeError(error) }, 'TTL destroy could not be recorded');
      return 'failed' as const;
    });
    this.#running.set(row.id, running);
    try {
      return await running;
    } finally {
      this.#running.delete(row.id);
    }
  }

  async #expire(row: TtlDeployment, by: Member): Promise<ExpireOutcome> {
    const { ttls, clock } = this.deps;
    const now = clock.now();
    const attempt = row.attempts + 1;
    const nextAttemptAt = this.nextAttemptAt(attempt, now);
    if (!(await ttls.claim(row.id, now, nextAttemptAt))) return 'skipped';
    const found = await this.subject(row);
    if (!found) {
      await ttls.clear(row.id);
      return 'gone';
    }
    const { subject, project } = found;
    const channelId = (await this.deps.policies.get(row.guildId)).notificationChannelId;
    const readiness = await this.#prepare(row, project, by, channelId, subject, attempt);
    if (!readiness.ready && readiness.gone) {
      await ttls.clear(row.id);
      return 'gone';
    }
    if (!readiness.ready && readiness.busy) {
      // Not a failure to report: whatever run holds it (most often a destroy) decides; the next try comes after it.
      await ttls.recordFailure(row.id, plain(readiness.reason));
      this.deps.logger?.info({ guildId: row.guildId, resourceId: row.id, nextAttemptAt }, 'TTL destroy waits for a run on the deployment');
      return 'skipped';
    }
    let outcome: { ok: true } | { ok: false; reason: RichText };
    try {
      outcome = readiness.ready ? await readiness.run() : { ok: false, reason: readiness.reason };
    } catch (error) {
      this.deps.logger?.error({ guildId: row.guildId, resourceId: row.id, error: describeError(error) }, 'TTL destroy failed unexpectedly');
      outcome = { ok: false, reason: text`An unexpected error stopped the destroy (the operator's log has it).` };
    }
    if (outcome.ok) {
      await ttls.markExpired(row.id, clock.now());
      await this.deliverExpiredNotice(row.id);
      return 'destroyed';
    }
    await ttls.recordFailure(row.id, plain(outcome.reason));
    this.deps.audit.record({ guildId: row.guildId, userId: by.id, action: 'deploy.ttl_destroy', target: project.name, outcome: 'failed', details: { resourceId: row.id, attempt } });
    this.deps.logger?.warn({ guildId: row.guildId, resourceId: row.id, attempt, nextAttemptAt }, 'TTL destroy failed; will try again');
    await this.#tell(subject, channelId, (viaChannel, guildName) => ttlDestroyFailedNotice(subject, guildName, viaChannel, { attempt, reason: outcome.reason, nextAttemptAt }));
    return 'failed';
  }

  /**
   * Sends the one "expired and destroyed" notice of a row, if still pending (the outbox a crash leaves is swept up).
   * Not while another delivery of these notices runs (the janitor's, in this process or another): that one, or the
   * next tick's, sends it.
   */
  async deliverExpiredNotice(resourceId: number): Promise<boolean> {
    const sent = await this.deps.ttls.deliveringNotices(async () => {
      const row = await this.deps.ttls.findAnywhere(resourceId);
      return row?.noticeStatus === 'pending' ? this.deliverNotice(row) : false;
    });
    return sent ?? false;
  }

  /** Sends a pending notice read just now; the caller runs it inside TtlRepository.deliveringNotices. */
  async deliverNotice(row: TtlDeployment): Promise<boolean> {
    const found = await this.subject(row);
    if (!found) {
      await this.deps.ttls.markNotice(row.id, 'failed');
      return false;
    }
    const channelId = (await this.deps.policies.get(row.guildId)).notificationChannelId;
    const sent = await this.#tell(found.subject, channelId, (viaChannel, guildName) => ttlExpiredNotice(found.subject, guildName, viaChannel), {
      directDone: row.noticeDirectDone,
      onDirectDone: () => this.deps.ttls.markNoticeDirectDone(row.id),
    });
    await this.deps.ttls.markNotice(row.id, sent ? 'sent' : 'failed');
    return sent;
  }

  /** What stands between the deployment and its destroy, or the destroy itself, ready to run. */
  async #prepare(row: TtlDeployment, project: Project, by: Member, channelId?: string | null, subject?: TtlSubject, attempt = 1): Promise<Readiness> {
    if (row.status === 'destroyed') return { ready: false, reason: text`It is already destroyed.`, gone: true };
    if (row.status === 'applying' || row.status === 'destroying') {
      return { ready: false, reason: text`A run is changing it right now; it is tried again once that run is over.`, busy: true };
    }
    let prepared;
    try {
      prepared = await this.deps.destroys.prepare({ guildId: row.guildId, requester: by, channelId: channelId ?? undefined, project: project.slug, resourceId: row.id, forget: false });
    } catch (error) {
      if (!isUserError(error)) throw error;
      return { ready: false, reason: error.text };
    }
    if (!prepared.ready) return { ready: false, reason: text`There is nothing left to destroy.`, gone: true };
    const destruction = prepared.destruction;
    if (destruction.secretSteps.length > 0) {
      return {
        ready: false,
        reason: text`The engine needs this deployment's secret inputs to destroy it, and its project's vault session no longer holds them. Destroy it yourself with ${command('destroy', { project: project.name, resource: row.id })}: you will be asked for them.`,
      };
    }
    return {
      ready: true,
      run: async () => {
        const show: ShowProgress = async (run) => {
          if (channelId && subject) await this.deps.notifier.sendToChannel(channelId, ttlDestroyingNotice(subject, attempt)).catch(() => undefined);
          return run({ onEvent: () => undefined, onQueued: () => undefined });
        };
        const destroyed = await this.deps.destroys.destroy(destruction, show);
        return destroyed.ok ? { ok: true } : { ok: false, reason: destroyed.error.text };
      },
    };
  }

  /**
   * To the deployer by DM and to the notification channel; true when at least one of them got it. An outbox notice
   * passes `directDone` (the DM was delivered before a crash: not again) and `onDirectDone` (recorded once the DM is
   * delivered, before the post).
   */
  async #tell(
    subject: TtlSubject,
    channelId: string | null,
    notice: (viaChannel: boolean, guildName: string | undefined) => Notice,
    outbox?: { directDone: boolean; onDirectDone: () => Promise<void> },
  ): Promise<boolean> {
    const { notifier, logger } = this.deps;
    const guildName = await notifier.guildName(subject.guildId).catch(() => undefined);
    let told = outbox?.directDone ?? false;
    if (!outbox?.directDone) {
      try {
        await notifier.sendDirect(subject.deployerId, notice(false, guildName));
        told = true;
        await outbox?.onDirectDone();
      } catch (error) {
        // A refused DM is not recorded as done: `directDone` must mean "the deployer has it", so that after a crash a
        // failing channel post cannot count as told. Asking again after a crash delivers nothing twice.
        if (!(error instanceof DirectMessageRefused)) logger?.warn({ guildId: subject.guildId, error: describeError(error) }, 'TTL notice DM failed');
      }
    }
    if (channelId) {
      try {
        await notifier.sendToChannel(channelId, notice(true, guildName));
        told = true;
      } catch (error) {
        logger?.warn({ guildId: subject.guildId, error: describeError(error) }, 'TTL notice post failed');
      }
    }
    return told;
  }
}
