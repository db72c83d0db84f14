/**
 * The steps a run is made of (write the configuration, init, a streaming command, a command printing one JSON
 * document), each running its engine command through the run's executor. A step that the run's stop cut short
 * throws StoppedDuringRun; an engine error throws RunFailed with the engine's own diagnostics, redacted.
 */
import { join } from 'node:path';
import type { RunKind } from '../db/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Project, Resource } from '../projects/index.js';
import { MAY_EXIST_IN_CLOUD } from '../projects/resource-statuses.js';
import type { Redactor } from '../shared/redaction.js';
import { backendBlock, parseBackendSettings, writeBackendFile } from '../state/index.js';
import { writePrivateFile } from '../state/private-file.js';
import { initArgs } from './commands/index.js';
import { MAIN_CONFIG_FILE, generateConfig, type GeneratedConfig, type ResourceForConfig } from './config-generator.js';
import type { DiscoveredEngine, EngineSelection } from './discovery.js';
import { RunFailed, engineLabel } from './errors.js';
import type { EngineExecutor } from './executor.js';
import { describeFailure, describeWarning } from './failure.js';
import { EngineEventParser } from './json-stream.js';
import { MAX_COLLECTED_BYTES, MAX_LINE_BYTES, megabytes } from './output-limits.js';
import type { EngineCommandResult, RunStopper } from './process.js';
import { MAX_WARNINGS, RunEventDigest, redactEvent } from './run-events.js';
import { interruptingStop } from './run-outcome.js';
import type { EngineUsed, RunEvent, Warning } from './run-types.js';
import { StoppedDuringRun } from './stop-reasons.js';

/** Everything one started run's steps need: its workspace, engine, environment and stopper. */
export interface StepContext {
  runId: number;
  kind: RunKind | 'outputs';
  project: Project;
  /** The folder the run works in: the project's, or a template deployment's inside it. */
  workspace: string;
  /** The template deployment's folder name, when the run is in one (see run-workspace.ts). */
  deployment: string | undefined;
  env: Record<string, string>;
  engine: DiscoveredEngine;
  selection: EngineSelection;
  stopper: RunStopper;
  executor: EngineExecutor;
  logger: Logger;
  emit: (event: RunEvent) => void;
  /** Built from this run's secret values; everything shown, stored or logged passes through it. */
  redactor: Redactor;
  warnings: Warning[];
}

/** The engine that ran, as results show it. */
export function engineUsed(ctx: StepContext): EngineUsed {
  const notice = ctx.selection.notice;
  return { name: ctx.engine.name, version: ctx.engine.version, ...(notice ? { fallbackNotice: notice } : {}) };
}

/**
 * Writes main.tf.json (owner-only) and backend.tf.json for the project's built-in resources that may exist in the
 * cloud, plus `extra` (rows planned in this run). Template deployments have folders of their own and are left out.
 * The caller holds the workspace.
 */
export function writeConfiguration(ctx: StepContext, resources: readonly Resource[], extra: readonly Resource[] = []): GeneratedConfig {
  const { project, workspace } = ctx;
  const rows = resources.filter(isBuiltin).filter((r) => MAY_EXIST_IN_CLOUD.includes(r.status));
  const included = [...rows, ...extra.filter(isBuiltin).filter((e) => !rows.some((r) => r.id === e.id))];
  const config = generateConfig(project, included);
  writePrivateFile(join(workspace, MAIN_CONFIG_FILE), `${JSON.stringify(config.document, null, 2)}\n`);
  const settings = parseBackendSettings({ ...project.backendSettings, kind: project.stateBackend });
  writeBackendFile(workspace, backendBlock(project.stateBackend, project.guildId, project.slug, settings));
  return config;
}

function isBuiltin(resource: Resource): resource is Resource & ResourceForConfig {
  return resource.resourceType !== null;
}

export async function init(ctx: StepContext): Promise<void> {
  ctx.emit({ type: 'phase', phase: 'init' });
  const result = await run(ctx, { args: initArgs() });
  if (result.exitCode !== 0) fail(ctx, result, `${engineLabel(ctx.engine.name)} init failed`);
}

/** Runs a `-json` streaming command, passing events on as they come; throws RunFailed on error diagnostics. */
export async function stream(ctx: StepContext, args: string[], label: string): Promise<RunEventDigest> {
  return (await streamCommand(ctx, args, label, false)).digest;
}

/**
 * A streaming command run with `-detailed-exitcode`: exit 2 is not a failure but "there are changes" (`changed`).
 * Any other exit but 0, or an error diagnostic, throws RunFailed as `stream` does.
 */
export async function streamDetailed(ctx: StepContext, args: string[], label: string): Promise<{ digest: RunEventDigest; changed: boolean }> {
  return streamCommand(ctx, args, label, true);
}

async function streamCommand(ctx: StepContext, args: string[], label: string, detailed: boolean): Promise<{ digest: RunEventDigest; changed: boolean }> {
  const parser = new EngineEventParser();
  const digest = new RunEventDigest();
  const result = await run(ctx, {
    args,
    onStdoutLine: (line) => {
      const event = parser.parseLine(line);
      if (!event) return;
      const safe = redactEvent(event, ctx.redactor);
      digest.add(safe);
      if (safe.type === 'diagnostic' && safe.severity === 'warning' && ctx.warnings.length < MAX_WARNINGS) {
        ctx.warnings.push(describeWarning(safe, ctx.redactor));
      }
      ctx.emit(safe);
    },
  });
  if (parser.stats.malformed + parser.stats.ignored > 0) {
    ctx.logger.debug({ runId: ctx.runId, command: label, ...parser.stats }, 'engine output lines skipped');
  }
  if (result.overlongLines > 0) {
    ctx.logger.warn({ runId: ctx.runId, command: label, overlongLines: result.overlongLines }, 'engine printed over-long lines; skipped');
    ctx.warnings.push({
      summary: `The engine printed ${result.overlongLines} line${result.overlongLines === 1 ? '' : 's'} longer than ${megabytes(MAX_LINE_BYTES)}; skipped`,
      detail: 'Whatever those lines held (such as very large output values) is missing from this result.',
    });
  }
  const changed = detailed && result.exitCode === 2;
  if ((result.exitCode !== 0 && !changed) || digest.errorCount > 0) {
    const exit = result.exitCode ?? result.signal ?? 'unknown';
    const { summary, detail } = describeFailure(digest.errors(), result.stderrTail, `${engineLabel(ctx.engine.name)} ${label} stopped unexpectedly (exit ${exit})`, ctx.redactor, digest.errorCount);
    throw new RunFailed(ctx.runId, ctx.kind, summary, detail);
  }
  return { digest, changed };
}

/** Runs a command whose whole stdout is one JSON document (`show -json`, `output -json`) and returns that text. */
export async function collect(ctx: StepContext, args: string[], label: string): Promise<string> {
  const result = await run(ctx, { args, collectStdout: true });
  if (result.exitCode !== 0) fail(ctx, result, `${engineLabel(ctx.engine.name)} ${label} failed`);
  if (result.stdoutOverflowed) {
    throw new RunFailed(
      ctx.runId,
      ctx.kind,
      `the engine printed more than ${megabytes(MAX_COLLECTED_BYTES)} for \`${label}\`, more than this bot reads`,
      'Split the project into smaller ones, or ask the operators to check the engine and its providers.',
    );
  }
  return result.stdout;
}

/** One engine command in the run's workspace; a stop that cut it short (or kept it from starting) ends the run. */
async function run(ctx: StepContext, command: { args: string[]; onStdoutLine?: (line: string) => void; collectStdout?: boolean }): Promise<EngineCommandResult> {
  const result = await ctx.executor.run({
    binary: ctx.engine.path,
    cwd: ctx.workspace,
    env: ctx.env,
    stopper: ctx.stopper,
    logger: ctx.logger,
    guildId: ctx.project.guildId,
    ...command,
  });
  const stop = interruptingStop(result);
  if (stop) throw new StoppedDuringRun(stop);
  return result;
}

function fail(ctx: StepContext, result: EngineCommandResult, fallback: string): never {
  const { summary, detail } = describeFailure([], result.stderrTail, fallback, ctx.redactor);
  throw new RunFailed(ctx.runId, ctx.kind, summary, detail);
}
