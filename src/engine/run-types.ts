/**
 * The runner's public shapes: what callers pass in and what they get back. Every `runId` here is the run's number
 * within its guild (iac_runs.guild_run_number): what members see and type. The global row id stays in RunStore.
 */
import type { AuditLog } from '../audit/index.js';
import type { MasterKey } from '../credentials/master-keys.js';
import type { EngineName, RunKind, RunStatus } from '../db/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Clock } from '../shared/clock.js';
import type { StateLayout } from '../state/index.js';
import type { EngineEvent, OutputValue } from './json-stream.js';
import type { PlanSummary } from './plan-summary.js';
import type { PlannedResource } from '../policy/planned-resources.js';
import type { ProjectRepository, ResourceRepository } from '../projects/index.js';
import type { EngineExecutor } from './executor.js';
import type { ResourceTransitions } from './resource-transitions.js';
import type { RunScheduler } from './scheduler.js';
import type { WorkspaceLeases } from './workspace-leases.js';
import type { RunStore } from './run-store.js';
import type { TemplateCatalogue } from '../templates/template.js';

/** What the Discord layer hears while a run goes on, in order. */
export type RunEvent =
  | EngineEvent
  | { type: 'run_created'; runId: number; kind: RunKind }
  | { type: 'run_started'; runId: number; kind: RunKind | 'outputs'; engine: EngineName; engineVersion: string; fallbackNotice?: string }
  | { type: 'phase'; phase: 'init' | 'plan' | 'show' | 'apply' | 'destroy' | 'output' };

export interface RunRequest {
  guildId: string;
  /** The project's slug (or name: resolved as ProjectRepository.get does). */
  projectSlug: string;
  /** Discord id of the member who asked. */
  userId: string;
  /** The channel the member asked in: where they are told if the bot dies during the run. */
  channelId?: string;
  /** The provider credentials for this run, from `toEngineEnv` (plus any backend credentials). Never stored. */
  credentialEnv: Record<string, string>;
  enginePreference: EngineName;
  onEvent?: (event: RunEvent) => void;
  /** 1-based position while the run waits for an engine slot; called again whenever it changes. */
  onQueued?: (position: number) => void;
  signal?: AbortSignal;
}

export interface EngineUsed {
  name: EngineName;
  version: string;
  /** Set when the guild's preferred engine was missing and the other one ran: show it to the user. */
  fallbackNotice?: string;
}

export type Warning = { summary: string; detail: string; address?: string };

export interface PlanResult {
  /** Pass this to `apply` to apply exactly this plan. */
  runId: number;
  engine: EngineUsed;
  summary: PlanSummary;
  /** The addresses the planned resource will own. */
  resourceAddresses: string[];
  /**
   * What the plan will make for this deployment, read from `show -json`: the planned resource's own addresses and
   * those no other resource owns (shared by the project), created, replaced, updated or unchanged.
   */
  plannedResources: PlannedResource[];
  /** The planned resource's estimate from its row when planned (from the options), per month; the plan's own is the policy's (PlanDecision). */
  estimatedMonthlyCost: number;
  warnings: Warning[];
}

export interface ApplyResult {
  runId: number;
  planRunId: number;
  engine: EngineUsed;
  changes: { add: number; change: number; remove: number };
  /** Addresses whose apply completed, in order. */
  applied: string[];
  outputs: Record<string, OutputValue>;
  warnings: Warning[];
}

export interface DestroyResult {
  runId: number;
  engine: EngineUsed;
  /** The resource rows now destroyed. */
  resourceIds: number[];
  changes: { add: number; change: number; remove: number };
  destroyed: string[];
  warnings: Warning[];
}

export interface OutputsResult {
  engine: EngineUsed;
  outputs: Record<string, OutputValue>;
}

/** A run as the Discord layer may show it. */
export interface RunRecord {
  /** The run's number in its guild. */
  number: number;
  guildId: string;
  projectId: number;
  resourceId: number | null;
  kind: RunKind;
  status: RunStatus;
  engine: EngineName | null;
  engineVersion: string | null;
  startedBy: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  /** Whether `apply` would still accept this run id (a succeeded plan whose plan file is still there). */
  applicable: boolean;
}

/** What the runner is given by the composition root (src/app/bootstrap.ts): it builds no store or lock itself. */
export interface IacRunnerOptions {
  /** The `iac_runs` rows. */
  runs: RunStore;
  /** Engine slots in this process (config MAX_CONCURRENT_RUNS). */
  scheduler: RunScheduler;
  /** Workspace locks, as database leases shared by every process. */
  leases: WorkspaceLeases;
  projects: ProjectRepository;
  resources: ResourceRepository;
  /** What each moment of an apply or destroy means for the resources (the deploy domain's). */
  transitions: ResourceTransitions;
  /** Runs each engine command (locally, sandboxed, remotely). */
  executor: EngineExecutor;
  /**
   * Writes each template deployment's module files into its folder before init, and checks those a destroy uses
   * again; without it, only built-ins run.
   */
  templates?: Pick<TemplateCatalogue, 'materialise' | 'recheckWritten'>;
  layout: StateLayout;
  clock: Clock;
  logger: Logger;
  /** Longest a run may take once started (config RUN_TIMEOUT_MINUTES). */
  runTimeoutMs: number;
  /** Folder searched for the binaries before PATH (config IAC_BIN_DIR). */
  binDir?: string;
  /** Shared provider cache (config TF_PLUGIN_CACHE_DIR). */
  pluginCacheDir: string;
  /** Wait between SIGINT, SIGTERM and SIGKILL; default 10 s. */
  killGraceMs?: number;
  /** PATH for discovery and for the child; default the bot's own. */
  pathEnv?: string;
  /** How long a plan stays applicable; default 24 hours. Older plan files are removed at the next plan. */
  planTtlMs?: number;
  /** Where every plan, apply and destroy is recorded (`iac.<kind>`); required so no composition root can forget it. */
  audit: AuditLog;
  /**
   * Master keys (current first) from which each project's OpenTofu state-encryption passphrase is derived; empty or
   * absent: state and plans are not encrypted and the member is told so.
   */
  stateEncryptionKeys?: readonly MasterKey[];
}

