/**
 * Drift checks, for any front end and for the janitor: admins enable, disable and list schedules per project (or
 * template deployment); a check runs a refresh-only plan and says what it found. No drift: one log line, nothing
 * posted. Drift: the report (with Plan to reconcile and Accept) goes to the guild's notification channel, unless the
 * very same drift is already reported. A check that cannot run is reported once, then again only when the reason
 * changes. A workspace another run holds is skipped, not waited for: the next tick tries again.
 */
import cron from 'node-cron';
import type { Member } from '../deploy/steps.js';
import { RunnerShuttingDown, UnsupportedResource, WorkspaceBusy } from '../engine/errors.js';
import { describeError } from '../jit/delivery.js';
import type { Notice } from '../notify/notifier.js';
import { ResourceNotFound } from '../projects/errors.js';
import type { Project } from '../projects/project-repository.js';
import type { Resource } from '../projects/resource-repository.js';
import { isUserError } from '../shared/errors.js';
import { strong, text, type RichText } from '../shared/text.js';
import { DriftAnswers } from './drift-answers.js';
import { driftCheckFailedNotice, driftReportNotice, type DriftTargetLabel } from './drift-notices.js';
import type { DriftReport } from './drift-report.js';
import type { DriftCheck } from './drift-repository.js';
import { nextRunAfter } from './drift-schedule.js';
import { labelOf, liveTarget, reportChannel, requireAdmin, runRequest, type DriftDeps } from './drift-targets.js';
import { DriftCheckNotFound, DriftStepUnavailable } from './errors.js';

export interface TargetInput {
  guildId: string;
  admin: Member;
  /** The project's name or slug. */
  project: string;
  /** A template deployment of the project (its resource id); left out: the project's built-ins. */
  deploymentId?: number | undefined;
}

/** How one check went. `busy`: the workspace was held by another run, nothing recorded; the next tick tries again. */
export type CheckResult =
  | { outcome: 'busy' }
  | { outcome: 'gone' }
  | { outcome: 'clean'; runId: number }
  | { outcome: 'drifted'; runId: number; report: DriftReport; posted: boolean }
  | { outcome: 'failed'; reason: RichText; reported: boolean };

/** Failures whose code says the check had no credential to run with (see src/credentials/resolve.ts). */
const NO_CREDENTIAL = /^(vault|credentials)\./;

export class DriftService {
  /** The answers to a report's buttons: Accept, Plan to reconcile, Apply. */
  readonly answers: DriftAnswers;

  constructor(readonly deps: DriftDeps) {
    this.answers = new DriftAnswers(deps);
  }

  /**
   * Enables (or reschedules) the check of a project's built-ins or of one of its template deployments. `schedule` is
   * a node-cron expression already validated (driftScheduleSchema); it is checked again here.
   */
  async enable(input: TargetInput & { schedule: string; channelId: string | null }): Promise<{ check: DriftCheck; label: DriftTargetLabel }> {
    requireAdmin(this.deps, input.guildId, input.admin, 'drift.enable');
    if (!cron.validate(input.schedule)) throw new TypeError(`not a validated schedule: ${input.schedule}`);
    const { project, deploymentId } = await this.#target(input);
    const now = this.deps.clock.now();
    const nextCheckAt = nextRunAfter(input.schedule, now);
    if (nextCheckAt === undefined) throw new TypeError(`schedule never matches: ${input.schedule}`);
    const check = await this.deps.checks.upsert({ guildId: input.guildId, projectId: project.id, deploymentId, schedule: input.schedule, enabledBy: input.admin.id, channelId: input.channelId, nextCheckAt, now });
    this.deps.audit.record({ guildId: input.guildId, userId: input.admin.id, action: 'drift.enable', target: project.name, outcome: 'success', details: { checkId: check.id, deploymentId, schedule: input.schedule } });
    return { check, label: await labelOf(this.deps, check) };
  }

  /** @throws DriftCheckNotFound when that workspace has no check (in this guild). */
  async disable(input: TargetInput): Promise<DriftTargetLabel> {
    requireAdmin(this.deps, input.guildId, input.admin, 'drift.disable');
    const check = await this.#existing(input);
    const label = await labelOf(this.deps, check);
    await this.deps.checks.remove(input.guildId, check.id);
    this.deps.audit.record({ guildId: input.guildId, userId: input.admin.id, action: 'drift.disable', target: label.project, outcome: 'success', details: { checkId: check.id } });
    return label;
  }

  /** This guild's checks, with what each found last. */
  async list(guildId: string, admin: Member): Promise<Array<{ check: DriftCheck; label: DriftTargetLabel }>> {
    requireAdmin(this.deps, guildId, admin, 'drift.list');
    return Promise.all((await this.deps.checks.list(guildId)).map(async (check) => ({ check, label: await labelOf(this.deps, check) })));
  }

  /** An admin's "check now": the same check as the schedule's, reported the same way; the schedule is unchanged. */
  async checkNow(input: TargetInput): Promise<{ result: CheckResult; label: DriftTargetLabel }> {
    requireAdmin(this.deps, input.guildId, input.admin, 'drift.check');
    const check = await this.#existing(input);
    return { result: await this.runCheck(check, input.admin.id), label: await labelOf(this.deps, check) };
  }

  /**
   * Runs one check (`by`: who asked; the schedule's runs are in the name of whoever enabled it) and records what it
   * found. Never throws for what a check may meet (a missing credential, an engine failure, a busy workspace).
   */
  async runCheck(check: DriftCheck, by: string = check.enabledBy): Promise<CheckResult> {
    const { checks, clock, logger } = this.deps;
    const log = logger.child({ guildId: check.guildId, driftCheckId: check.id });
    const target = await liveTarget(this.deps, check);
    if (!target) {
      // The project was forgotten or the deployment destroyed: nothing is left to drift.
      await checks.remove(check.guildId, check.id);
      log.info('drift check removed: its project or deployment is gone');
      return { outcome: 'gone' };
    }
    let result: { runId: number; drifted: boolean; report: DriftReport };
    let failure: { code: string; reason: RichText } | undefined;
    try {
      const credentials = await this.deps.credentialsFor(target.project);
      result = await this.deps.runner.drift.check(await runRequest(this.deps, target, by, credentials, await reportChannel(this.deps, check)));
    } catch (error) {
      if (error instanceof WorkspaceBusy || error instanceof RunnerShuttingDown) {
        log.info({ reason: error.code }, 'drift check skipped: the workspace is busy; trying again at the next tick');
        return { outcome: 'busy' };
      }
      if (isUserError(error)) failure = { code: error.code, reason: error.text };
      else {
        log.error({ err: error }, 'drift check failed unexpectedly');
        failure = { code: 'internal', reason: 'Something went wrong inside the bot while checking; the operators can find the details in the bot log.' };
      }
      result = { runId: 0, drifted: false, report: { resources: [], moreResources: 0 } };
    }
    const now = clock.now();
    const next = nextRunAfter(check.schedule, now) ?? now + 24 * 60 * 60_000;
    if (failure) {
      const repeated = check.lastStatus === 'failed' && check.lastFailure === failure.code;
      await checks.recordOutcome(check.guildId, check.id, { status: 'failed', failure: failure.code }, now, next);
      log.warn({ failure: failure.code, reported: !repeated }, 'drift check could not run');
      if (!repeated) await this.#post(check, driftCheckFailedNotice(target.label, failure.reason, NO_CREDENTIAL.test(failure.code)), log);
      return { outcome: 'failed', reason: failure.reason, reported: !repeated };
    }
    if (!result.drifted) {
      await checks.recordOutcome(check.guildId, check.id, { status: 'clean' }, now, next);
      log.info({ runId: result.runId }, 'drift check: no drift');
      return { outcome: 'clean', runId: result.runId };
    }
    // The same drift as the report that stands is not posted again; its buttons act on the check as it is now.
    const same = check.lastStatus === 'drifted' && check.report !== null && JSON.stringify(check.report) === JSON.stringify(result.report);
    await checks.recordOutcome(check.guildId, check.id, { status: 'drifted', runId: result.runId, report: result.report }, now, next);
    log.info({ runId: result.runId, resources: result.report.resources.length + result.report.moreResources, posted: !same }, 'drift check: drift found');
    if (!same) await this.#post(check, driftReportNotice(check.id, target.label, result.runId, result.report), log);
    return { outcome: 'drifted', runId: result.runId, report: result.report, posted: !same };
  }

  async #post(check: DriftCheck, notice: Notice, log: DriftDeps['logger']): Promise<void> {
    const channelId = await reportChannel(this.deps, check);
    if (!channelId) {
      log.warn('drift notice not posted: the guild has no notification channel');
      return;
    }
    try {
      await this.deps.notifier.sendToChannel(channelId, notice);
    } catch (error) {
      log.warn({ channelId, error: describeError(error) }, 'could not post a drift notice');
    }
  }

  async #target(input: TargetInput): Promise<{ project: Project; deploymentId: number | null }> {
    const project = await this.deps.projects.get(input.guildId, input.project);
    if (input.deploymentId === undefined) return { project, deploymentId: null };
    let deployment: Resource;
    try {
      deployment = await this.deps.resources.get(input.guildId, input.deploymentId);
    } catch {
      throw new ResourceNotFound(input.deploymentId);
    }
    if (deployment.projectId !== project.id) throw new ResourceNotFound(input.deploymentId);
    if (!deployment.workspace) {
      throw new DriftStepUnavailable(`Resource #${deployment.id} of ${project.name} is a built-in resource, not a template deployment: leave the deployment out to check the project's built-ins.`);
    }
    if (deployment.status === 'destroyed' || deployment.status === 'planned') throw new UnsupportedResource(`deployment #${deployment.id} is ${deployment.status}: nothing of it is deployed to check`);
    return { project, deploymentId: deployment.id };
  }

  async #existing(input: TargetInput): Promise<DriftCheck> {
    const project = await this.deps.projects.get(input.guildId, input.project);
    const check = await this.deps.checks.find(input.guildId, project.id, input.deploymentId ?? null);
    if (!check) throw new DriftCheckNotFound(input.deploymentId === undefined ? strong(project.name) : text`deployment #${input.deploymentId} of ${strong(project.name)}`);
    return check;
  }
}
