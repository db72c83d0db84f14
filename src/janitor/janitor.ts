import { performance } from 'node:perf_hooks';
import cron, { type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { Logger } from '../logging/logger.js';
import { describeError } from '../jit/delivery.js';
import type { JanitorJob, JobCounts } from './job.js';

export interface JanitorOptions {
  /** node-cron expression (config JANITOR_SCHEDULE, default every minute). */
  schedule: string;
  jobs: JanitorJob[];
  logger: Logger;
  /** Run one tick as soon as start() is called, so grants that expired while the bot was down go at once. */
  tickOnStart?: boolean;
  /** The operator's health line, written after each tick (it rate-limits itself). */
  health?: { maybeReport(): void };
}

export type JobReport = { job: string; ok: true; counts: JobCounts; ms: number } | { job: string; ok: false; error: string; ms: number };

export interface TickReport {
  tick: number;
  jobs: JobReport[];
  ms: number;
}

/**
 * Runs the background jobs on a cron schedule. Ticks never overlap: a tick asked for while one runs joins the
 * running one instead of starting a second. A failing job is logged and the other jobs, and later ticks, still run.
 */
export class Janitor {
  private task: ScheduledTask | undefined;
  private running: Promise<TickReport> | undefined;
  private ticks = 0;

  constructor(private readonly options: JanitorOptions) {
    if (!cron.validate(options.schedule)) throw new Error(`invalid janitor schedule "${options.schedule}"`);
  }

  start(): void {
    if (this.task) return;
    // Our own guard (tick()) already prevents overlap; noOverlap also spares node-cron from queuing executions.
    this.task = cron.schedule(this.options.schedule, () => this.tick(), {
      name: 'janitor',
      noOverlap: true,
      logger: cronLogger(this.options.logger),
    });
    if (this.options.tickOnStart ?? true) void this.tick();
  }

  /** Stops scheduling and waits for a running tick to finish, so shutdown does not cut a batch in half. */
  async stop(): Promise<void> {
    const task = this.task;
    this.task = undefined;
    if (task) await task.destroy();
    if (this.running) await this.running;
  }

  /** Runs every job once, or joins the tick already under way. Never rejects. */
  tick(): Promise<TickReport> {
    this.running ??= this.runTick().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runTick(): Promise<TickReport> {
    const tick = ++this.ticks;
    const started = performance.now();
    const jobs: JobReport[] = [];
    for (const job of this.options.jobs) {
      const jobStarted = performance.now();
      try {
        const counts = await job.run();
        jobs.push({ job: job.name, ok: true, counts, ms: Math.round(performance.now() - jobStarted) });
      } catch (error) {
        const description = describeError(error);
        jobs.push({ job: job.name, ok: false, error: description, ms: Math.round(performance.now() - jobStarted) });
        this.options.logger.error({ tick, job: job.name, error: description }, 'janitor job failed');
      }
    }
    const report: TickReport = { tick, jobs, ms: Math.round(performance.now() - started) };
    // A tick that did nothing is only worth a debug line: at one tick a minute (or a second) info would drown the log.
    const didSomething = jobs.some((job) => !job.ok || Object.values(job.counts).some((count) => count > 0));
    if (didSomething) this.options.logger.info(summarize(report), 'janitor tick');
    else this.options.logger.debug(summarize(report), 'janitor tick');
    try {
      this.options.health?.maybeReport();
    } catch (error) {
      this.options.logger.error({ tick, error: describeError(error) }, 'health line failed');
    }
    return report;
  }
}

/** node-cron's own messages (a tick still running when the next is due, missed executions) into our log. */
function cronLogger(logger: Logger): CronLogger {
  const log = logger.child({ component: 'node-cron' });
  const describe = (message: string | Error, error?: Error): string => {
    if (message instanceof Error) return describeError(message);
    return error ? `${message}: ${describeError(error)}` : message;
  };
  return {
    info: (message) => log.info(message),
    warn: (message) => log.warn(message),
    error: (message, error) => log.error(describe(message, error)),
    debug: (message, error) => log.debug(describe(message, error)),
  };
}

/** One flat object per tick: `{ tick, ms, "jit-expiry.expired": 3, ..., failed: ["vault-purge"] }`. */
function summarize(report: TickReport): Record<string, unknown> {
  const summary: Record<string, unknown> = { tick: report.tick, ms: report.ms };
  const failed: string[] = [];
  for (const job of report.jobs) {
    if (!job.ok) {
      failed.push(job.job);
      continue;
    }
    for (const [name, count] of Object.entries(job.counts)) summary[`${job.job}.${name}`] = count;
  }
  if (failed.length > 0) summary.failed = failed;
  return summary;
}
