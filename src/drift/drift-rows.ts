/** A `drift_checks` row into a DriftCheck, and the columns each change writes: the same on both dialects. */
import type { driftChecks } from '../db/schema.js';
import { driftReportSchema, type DriftReport } from './drift-report.js';
import type { CheckOutcome, DriftCheck, DriftCheckSchedule } from './drift-repository.js';

export type DriftCheckRow = typeof driftChecks.$inferSelect;

export function toCheck(row: DriftCheckRow): DriftCheck {
  let report: DriftReport | null = null;
  if (row.drift_summary) {
    try {
      const parsed = driftReportSchema.safeParse(JSON.parse(row.drift_summary));
      report = parsed.success ? parsed.data : null;
    } catch {
      report = null;
    }
  }
  return {
    id: row.id,
    guildId: row.guild_id,
    projectId: row.project_id,
    deploymentId: row.deployment_id === 0 ? null : row.deployment_id,
    schedule: row.schedule,
    enabledBy: row.enabled_by,
    channelId: row.channel_id,
    nextCheckAt: row.next_check_at,
    lastCheckedAt: row.last_checked_at,
    lastStatus: row.last_status,
    lastFailure: row.last_failure,
    driftRunId: row.drift_run_id,
    report,
    reconcilePlanRunId: row.reconcile_plan_run_id,
    reconcilePlanned: row.reconcile_planned,
  };
}

type Columns = Partial<typeof driftChecks.$inferInsert>;

/** A new check's row; the workspace's own check is deployment 0, so the unique index covers it. */
export function scheduleRow(values: DriftCheckSchedule) {
  return {
    guild_id: values.guildId,
    project_id: values.projectId,
    deployment_id: values.deploymentId ?? 0,
    schedule: values.schedule,
    enabled_by: values.enabledBy,
    channel_id: values.channelId,
    next_check_at: values.nextCheckAt,
    created_at: values.now,
    updated_at: values.now,
  };
}

/** What re-enabling a workspace's check changes (what it last found is kept). */
export function rescheduleColumns(values: DriftCheckSchedule) {
  return { schedule: values.schedule, enabled_by: values.enabledBy, channel_id: values.channelId, next_check_at: values.nextCheckAt, updated_at: values.now };
}

/** What a finished check leaves on its row. */
export function outcomeColumns(outcome: CheckOutcome, at: number, nextCheckAt: number): Columns {
  const base = { last_checked_at: at, next_check_at: nextCheckAt, last_status: outcome.status, updated_at: at };
  if (outcome.status === 'drifted') return { ...base, last_failure: null, drift_run_id: outcome.runId, drift_summary: JSON.stringify(outcome.report), reconcile_plan_run_id: null };
  if (outcome.status === 'clean') return { ...base, last_failure: null, drift_run_id: null, drift_summary: null, reconcile_plan_run_id: null };
  // A failed check says nothing about drift: a report that stands keeps its buttons working.
  return { ...base, last_failure: outcome.failure };
}

/** Accepted or reconciled: the cloud and the state agree again, so the report and its buttons are done with. */
export function settledColumns(at: number): Columns {
  return { last_status: 'clean', drift_run_id: null, drift_summary: null, reconcile_plan_run_id: null, updated_at: at };
}

export function reconcilePlanColumns(planRunId: number | null, at: number, plannedJson: string | null): Columns {
  return { reconcile_plan_run_id: planRunId, reconcile_planned: plannedJson, updated_at: at };
}
