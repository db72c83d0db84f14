import type { EngineName, RunKind } from '../db/schema.js';
import { UserError } from '../shared/errors.js';
import { providerDownloadOperatorNote } from './provider-download.js';
import { command, member, text, time } from '../shared/text.js';

const INSTALL_HINT =
  'Install Terraform (https://developer.hashicorp.com/terraform/install) or OpenTofu (https://opentofu.org/docs/intro/install/) ' +
  'on the bot host so that `terraform` or `tofu` is on its PATH, or set IAC_BIN_DIR to the folder that holds them, then restart the bot.';

/** Neither engine could be found (or neither answered `version -json`). */
export class NoEngineInstalled extends UserError {
  constructor() {
    super('engine.none_installed', `Neither Terraform nor OpenTofu is installed on the bot host. ${INSTALL_HINT}`);
  }
}

/** The engine a saved plan was made with is no longer available, so that exact plan cannot be applied. */
export class PlanEngineMissing extends UserError {
  constructor(engine: EngineName) {
    super(
      'engine.plan_engine_missing',
      `This plan was made with ${engineLabel(engine)}, which is no longer installed on the bot host. Run the plan again to review it with the engine that is available.`,
    );
  }
}

export interface WorkspaceHolder {
  runId: number;
  kind: RunKind | 'outputs';
  /** Epoch ms when the holder asked for the workspace. */
  since: number;
  startedBy: string;
}

/** One run at a time per workspace: the second request is refused at once and told who holds it. */
export class WorkspaceBusy extends UserError {
  constructor(
    readonly projectSlug: string,
    readonly holder: WorkspaceHolder,
  ) {
    super(
      'engine.workspace_busy',
      holder.kind === 'outputs'
        ? text`Project "${projectSlug}" is busy: ${member(holder.startedBy)} started reading its outputs ${time(holder.since)}. Try again in a moment.`
        : text`Project "${projectSlug}" is busy: run #${holder.runId} (${holder.kind}) started by ${member(holder.startedBy)} ${time(holder.since)} is still going. Wait for it to finish (or cancel it), then try again.`,
    );
  }
}

/** The engine reported errors. `summary` and `detail` come from its diagnostics, never raw output or a secret. */
export class RunFailed extends UserError {
  constructor(
    readonly runId: number,
    readonly kind: RunKind | 'outputs',
    readonly summary: string,
    readonly detail: string,
  ) {
    super('engine.run_failed', `The ${kind}${runId > 0 ? ` (run #${runId})` : ''} failed: ${summary}${detail ? `\n${detail}` : ''}`);
  }

  override get operatorNote(): string | undefined {
    return providerDownloadOperatorNote(this.summary);
  }
}

export class RunCancelled extends UserError {
  constructor(
    readonly runId: number,
    readonly kind: RunKind | 'outputs',
  ) {
    super(
      'engine.run_cancelled',
      `The ${kind} (run #${runId}) was cancelled. If it had started changing resources, run a plan again to see where things stand.`,
    );
  }
}

export class RunTimedOut extends UserError {
  constructor(
    readonly runId: number,
    readonly kind: RunKind | 'outputs',
    readonly timeoutMs: number,
  ) {
    super(
      'engine.run_timed_out',
      `The ${kind} (run #${runId}) took longer than the ${Math.round(timeoutMs / 60_000) || 1}-minute limit and was stopped. ` +
        'Run a plan again to see where things stand; an operator can raise RUN_TIMEOUT_MINUTES.',
    );
  }
}

/** The run id given to apply is not a plan of this project that can still be applied. */
export class PlanNotApplicable extends UserError {
  constructor(runId: number, why: string) {
    super('engine.plan_not_applicable', `Plan #${runId} cannot be applied: ${why}. Run the plan again and apply the new one.`);
  }
}

export class RunnerShuttingDown extends UserError {
  constructor(runId?: number, kind?: RunKind | 'outputs') {
    super(
      'engine.shutting_down',
      runId === undefined
        ? 'The bot is shutting down and is not starting new runs. Try again in a minute.'
        : text`The bot is restarting, so the ${kind ?? 'run'} (run #${runId}) was stopped cleanly: the engine saved its state and released its lock. Once the bot is back, ${command('projects')} shows where things stand; plan again to finish.`,
    );
  }
}

export class UnsupportedResource extends UserError {
  constructor(what: string) {
    super('engine.unsupported_resource', `That resource cannot be deployed: ${what}.`);
  }
}

export function engineLabel(engine: EngineName): string {
  return engine === 'tofu' ? 'OpenTofu' : 'Terraform';
}
