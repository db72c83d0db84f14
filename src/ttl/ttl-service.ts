/**
 * What a member may do to a deployment with a time to live, decided at the moment of each press from the row
 * (durable buttons: src/interaction/durable-components.ts): Extend, within the guild's maximum for whoever may
 * deploy there, beyond it for an admin only; and Destroy now, for those who may destroy (as the destroy command).
 * Another guild's deployment is never found; in a DM, only the deployer's own are.
 */
import type { AppContext } from '../app/context.js';
import type { Provider } from '../db/schema.js';
import type { Member } from '../deploy/steps.js';
import { PermissionDenied } from '../jit/errors.js';
import { satisfies } from '../jit/levels.js';
import { DESTROYABLE } from '../projects/resource-statuses.js';
import type { Clock } from '../shared/clock.js';
import { UserError } from '../shared/errors.js';
import { code, command, duration, text } from '../shared/text.js';
import { MINUTE_MS } from './ttl-duration.js';
import type { ExpireOutcome, TtlDestroyer } from './ttl-destroyer.js';
import type { TtlSubject } from './ttl-notices.js';
import { typedForm } from './ttl-policy.js';
import type { TtlDeployment, TtlRepository } from './ttl-repository.js';

/**
 * A press in a DM carries no server permissions (Discord sends no member there), so Manage Server cannot count: the
 * member is told to press on the notice in the server's channel, where it does, or what grant works anywhere.
 */
function permissionsUnknownInDm(button: string, denied: PermissionDenied): UserError {
  return new UserError(
    'ttl.dm_permissions_unknown',
    text`In a direct message the bot cannot see your server permissions (Manage Server). Press ${button} on the same notice in the server's notification channel, or run ${command('destroy')} there. ${denied.text}`,
  );
}

/** Where a press came from: a server (its id) or a DM (null). */
export interface TtlRef {
  guildId: string | null;
  resourceId: number;
}

export class TtlDeploymentNotFound extends UserError {
  constructor(resourceId: number) {
    super('ttl.not_found', text`There is no deployment #${resourceId} with a time to live here that you can act on. ${command('projects')} lists this server's deployments.`);
  }
}

export class TtlDeploymentEnded extends UserError {}

export type TtlServiceDeps = Pick<AppContext, 'jit' | 'policies' | 'audit' | 'projects'> & {
  clock: Clock;
  ttls: TtlRepository;
  destroyer: () => TtlDestroyer;
  /**
   * Whether this process serves the guild (default: every guild). With shards, a press in a DM arrives at shard 0
   * whatever the guild; a destroy must run in the process that holds the guild's runs and vault sessions.
   */
  servesGuild?: (guildId: string) => boolean;
};

/** How Destroy now went: as the destroy at the end, or `handed_over` to the janitor of the shard serving the guild. */
export type DestroyNowOutcome = ExpireOutcome | 'handed_over';

export interface ExtendOffer {
  subject: TtlSubject;
  /** What the form suggests: the time to live the deployment was given. */
  suggestedMinutes: number;
  /** The most time left the presser may set without an admin (null: no maximum). */
  maxMinutes: number | null;
}

export class DeploymentTtls {
  constructor(private readonly deps: TtlServiceDeps) {}

  /** Records the time to live a planned deployment asked for; the clock starts at its apply (`start`). */
  async ask(guildId: string, resourceId: number, ttlMs: number | null): Promise<void> {
    if (ttlMs !== null) await this.deps.ttls.setTtl(guildId, resourceId, ttlMs);
  }

  /** Starts the clock once the apply succeeded; the deployment's end, or null for none. */
  start(guildId: string, resourceId: number): Promise<number | null> {
    return this.deps.ttls.start(guildId, resourceId, this.deps.clock.now());
  }

  /** Extend pressed: who may, and what the form offers. @throws TtlDeploymentNotFound, TtlDeploymentEnded, PermissionDenied. */
  async offerExtend(ref: TtlRef, presser: Member): Promise<ExtendOffer> {
    const { row, subject, provider } = await this.#open(ref, presser.id);
    await this.#requireMayExtend(ref, row, provider, presser);
    const max = (await this.deps.policies.get(row.guildId)).maxTtlMinutes;
    return { subject, suggestedMinutes: Math.round((row.ttlMs ?? 60 * MINUTE_MS) / MINUTE_MS), maxMinutes: max };
  }

  /**
   * Adds `minutes` to the deployment's end. The time left after it may be at most the guild's maximum TTL, unless the
   * presser is an admin (Manage Server, or JIT Admin on the project's provider), whose press goes beyond it.
   * @throws as offerExtend; TtlDeploymentEnded when the row changed meanwhile; UserError beyond the maximum.
   */
  async extend(ref: TtlRef, presser: Member, minutes: number): Promise<{ subject: TtlSubject; beyondMax: boolean }> {
    const { row, subject, provider } = await this.#open(ref, presser.id);
    const isAdmin = await this.#requireMayExtend(ref, row, provider, presser);
    const now = this.deps.clock.now();
    const was = row.expiresAt!;
    const expiresAt = Math.max(was, now) + minutes * MINUTE_MS;
    const max = (await this.deps.policies.get(row.guildId)).maxTtlMinutes;
    const beyondMax = max !== null && expiresAt - now > max * MINUTE_MS;
    const audit = (outcome: 'success' | 'denied', details: Record<string, unknown>) =>
      this.deps.audit.record({ guildId: row.guildId, userId: presser.id, action: 'deploy.ttl_extend', target: subject.projectName, outcome, details: { resourceId: row.id, minutes, ...details } });
    if (beyondMax && !isAdmin) {
      audit('denied', { reason: 'beyond_max' });
      throw new UserError(
        'ttl.extend_beyond_max',
        text`That would leave ${duration(expiresAt - now)} before it is destroyed, beyond this server's maximum time to live of ${duration(max * MINUTE_MS)}. Extend by ${code(typedForm(Math.max(1, Math.floor((max * MINUTE_MS - (Math.max(was, now) - now)) / MINUTE_MS))))} or less, or ask a server admin to press Extend: an admin may go beyond it. Nothing was changed.`,
      );
    }
    if (!(await this.deps.ttls.extend(row.guildId, row.id, was, expiresAt, now))) {
      throw new TtlDeploymentEnded('ttl.changed', text`Deployment #${row.id} changed while you were choosing (extended by someone else, or its time ran out). Nothing was changed; press Extend again on its latest notice.`);
    }
    audit('success', { expiresAt, beyondMax });
    return { subject: { ...subject, expiresAt }, beyondMax };
  }

  /**
   * Destroy now pressed: the presser must be allowed to destroy (Admin on the project's provider, or Manage Server)
   * at this moment; then the destroy at the end runs at once, as the janitor would run it. `started` is told before
   * it runs (a press must be answered within seconds, a destroy takes minutes). A deployment of a guild another shard
   * serves is only made due now: that shard's janitor destroys it at its next tick and tells the deployer.
   */
  async destroyNow(ref: TtlRef, presser: Member, started: (subject: TtlSubject) => Promise<void>): Promise<{ subject: TtlSubject; outcome: DestroyNowOutcome }> {
    const { row, subject, provider } = await this.#open(ref, presser.id);
    try {
      await this.deps.jit.require({ guildId: row.guildId, userId: presser.id, provider, isGuildAdmin: presser.isGuildAdmin, needed: 'admin' });
    } catch (error) {
      this.deps.audit.record({ guildId: row.guildId, userId: presser.id, action: 'deploy.ttl_destroy_now', target: subject.projectName, outcome: 'denied', details: { resourceId: row.id } });
      throw ref.guildId === null && error instanceof PermissionDenied ? permissionsUnknownInDm('Destroy now', error) : error;
    }
    this.deps.audit.record({ guildId: row.guildId, userId: presser.id, action: 'deploy.ttl_destroy_now', target: subject.projectName, outcome: 'success', details: { resourceId: row.id } });
    await this.deps.ttls.dueNow(row.guildId, row.id, this.deps.clock.now());
    if (this.deps.servesGuild && !this.deps.servesGuild(row.guildId)) return { subject, outcome: 'handed_over' };
    const due = (await this.deps.ttls.find(row.guildId, row.id))!;
    await started(subject);
    return { subject, outcome: await this.deps.destroyer().expire(due, presser) };
  }

  /** Resolves once every destroy at the end under way in this process has ended (shutdown, tests). */
  settled(): Promise<void> {
    return this.deps.destroyer().settled();
  }

  /** The guild a press in a DM is about (only the deployer's own deployments are found there). */
  async guildOf(ref: TtlRef, presserId: string): Promise<string> {
    return (await this.#row(ref, presserId)).guildId;
  }

  async #row(ref: TtlRef, presserId: string): Promise<TtlDeployment> {
    const row = ref.guildId === null ? await this.deps.ttls.findAnywhere(ref.resourceId) : await this.deps.ttls.find(ref.guildId, ref.resourceId);
    if (!row || row.expiresAt === null || (ref.guildId === null && row.createdBy !== presserId)) throw new TtlDeploymentNotFound(ref.resourceId);
    return row;
  }

  /** The deployment, still running with a time to live. */
  async #open(ref: TtlRef, presserId: string) {
    const row = await this.#row(ref, presserId);
    if (row.expiredAt !== null || !DESTROYABLE.includes(row.status)) {
      throw new TtlDeploymentEnded('ttl.ended', text`Deployment #${row.id} is ${row.expiredAt !== null || row.status === 'destroyed' ? 'already destroyed' : `${row.status} right now`}: there is nothing to extend or destroy from here.`);
    }
    const project = await this.deps.projects.getById(row.guildId, row.projectId);
    const subject: TtlSubject = { resourceId: row.id, guildId: row.guildId, template: row.template, projectName: project.name, deployerId: row.createdBy, expiresAt: row.expiresAt! };
    return { row, subject, provider: project.provider };
  }

  /** The deployer with Deployer access now, or an admin on the provider; whether the presser is such an admin. */
  async #requireMayExtend(ref: TtlRef, row: TtlDeployment, provider: Provider, presser: Member): Promise<boolean> {
    const held = await this.deps.jit.effectiveLevel({ guildId: row.guildId, userId: presser.id, provider, isGuildAdmin: presser.isGuildAdmin });
    if (satisfies(held, 'admin')) return true;
    if (presser.id === row.createdBy && satisfies(held, 'deployer')) return false;
    this.deps.audit.record({ guildId: row.guildId, userId: presser.id, action: 'deploy.ttl_extend', target: String(row.id), outcome: 'denied', details: { resourceId: row.id, reason: 'not_allowed' } });
    if (presser.id === row.createdBy) {
      const denied = new PermissionDenied('deployer', provider, held);
      throw ref.guildId === null ? permissionsUnknownInDm('Extend', denied) : denied;
    }
    throw new UserError('ttl.extend_not_allowed', text`Only the member who deployed #${row.id}, or an admin, can extend it.`);
  }
}
