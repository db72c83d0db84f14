/**
 * The one owner of the `drift_checks` table: the schedules admins enabled, when each is due, and what its last check
 * found, asynchronous, on either dialect (src/db/data-access.ts says how; sqlite-drift-repository.ts and
 * pg-drift-repository.ts are the two). Every read a member's action leads to is scoped to a guild: another guild's
 * check is not found, exactly like a missing id. The janitor alone reads across guilds (what is due), and with shards
 * only across the guilds its shard serves: with several shards on one database (SQLite or PostgreSQL), each guild's
 * checks are offered to exactly one process, the one that holds the guild's runs.
 */
import type { Session } from '../db/data-access.js';
import type { DriftStatus } from '../db/index.js';
import type { ShardScope } from '../sharding/shard-scope.js';
import type { DriftReport } from './drift-report.js';
import { PgDriftRepository } from './pg-drift-repository.js';
import { SqliteDriftRepository } from './sqlite-drift-repository.js';

export interface DriftCheck {
  id: number;
  guildId: string;
  projectId: number;
  /** The template deployment checked; null for the project's own workspace. */
  deploymentId: number | null;
  schedule: string;
  enabledBy: string;
  /** Where it was enabled, for reports when the guild has no notification channel. */
  channelId: string | null;
  nextCheckAt: number;
  lastCheckedAt: number | null;
  lastStatus: DriftStatus;
  lastFailure: string | null;
  /** The check run whose drift was reported, while it stands. */
  driftRunId: number | null;
  report: DriftReport | null;
  reconcilePlanRunId: number | null;
  /** The reconcile plan's resources as the policy reads them (JSON), checked again at its Apply. */
  reconcilePlanned: string | null;
}

/** What a finished check leaves on its row. */
export type CheckOutcome =
  | { status: 'clean' }
  | { status: 'drifted'; runId: number; report: DriftReport }
  | { status: 'failed'; failure: string };

/** A check to enable, or to reschedule when the workspace has one. */
export interface DriftCheckSchedule {
  guildId: string;
  projectId: number;
  deploymentId: number | null;
  schedule: string;
  enabledBy: string;
  channelId: string | null;
  nextCheckAt: number;
  now: number;
}

export interface DriftRepository {
  /** Enables (or reschedules) the check of one workspace; what it last found is kept. */
  upsert(values: DriftCheckSchedule): Promise<DriftCheck>;
  find(guildId: string, projectId: number, deploymentId: number | null): Promise<DriftCheck | undefined>;
  /** A check of this guild by id; undefined for a missing id and for another guild's. */
  get(guildId: string, id: number): Promise<DriftCheck | undefined>;
  /** The guild's checks, by project, then deployment. */
  list(guildId: string): Promise<DriftCheck[]>;
  remove(guildId: string, id: number): Promise<boolean>;
  /**
   * The check due first in each guild at `now`, earliest first, at most `limit` guilds (the janitor's: it runs one
   * check per guild at a time, so a guild with many due checks does not crowd the others out of a tick); only the
   * guilds of this process's shard.
   */
  due(now: number, limit: number): Promise<DriftCheck[]>;
  /** Records a finished check and when the next is due. */
  recordOutcome(guildId: string, id: number, outcome: CheckOutcome, at: number, nextCheckAt: number): Promise<void>;
  /** Accept succeeded: the state now matches the cloud, so the report and its buttons are done with. */
  markAccepted(guildId: string, id: number, at: number): Promise<void>;
  setReconcilePlan(guildId: string, id: number, planRunId: number | null, at: number, plannedJson?: string | null): Promise<void>;
  /**
   * Takes the reconcile plan the report offers, if it is still `planRunId`: a conditional UPDATE, so of two presses
   * of Apply at once (in one process or two) exactly one gets true and applies it.
   */
  takeReconcilePlan(guildId: string, id: number, planRunId: number, at: number): Promise<boolean>;
  /** A reconcile was applied: the cloud is as configured again, the report is done with. */
  markReconciled(guildId: string, id: number, at: number): Promise<void>;
}

export interface DriftRepositoryOptions {
  /** `due` sees only the guilds this shard serves, so each check runs once, in the process that holds its guild's runs. */
  shard?: ShardScope;
}

/** The drift-check repository of the session's dialect. */
export function driftRepositoryFor(session: Session, options: DriftRepositoryOptions = {}): DriftRepository {
  return session.dialect === 'sqlite' ? new SqliteDriftRepository(session.db, options) : new PgDriftRepository(session, options);
}
