/**
 * The last resort: an error nothing caught (`uncaughtException`, or a rejection nobody handled) leaves the bot in
 * a state nobody planned for, so it does not carry on. It logs the error, stops the running engines (SIGINT through
 * the runner, so they save state and release their locks), tells each member whose run was under way that it
 * failed because the bot hit an internal error (a DM, or the guild's notification channel when DMs are closed),
 * marks those runs failed and exits non-zero, for the supervisor to restart it. Every step is bounded in time:
 * a bot in trouble must not hang on its way out. Start-up recovery then marks resources left mid-change
 * interrupted.
 */
import { command, member, text } from '../shared/text.js';
import type { AppContext } from './context.js';
import type { IacRunRow } from '../engine/run-store.js';
import { deliverToMember, describeError } from '../jit/delivery.js';
import type { Logger } from '../logging/logger.js';
import type { Notice } from '../notify/notifier.js';

export type LastResortApp = Pick<AppContext, 'clock' | 'runner' | 'notifier' | 'policies' | 'projects'>;

export interface LastResortOptions {
  logger: Logger;
  /** `process.exit` in production. */
  exit: (code: number) => void;
  /** How long engines get to stop after their SIGINT before the bot goes on without them. */
  stopEnginesMs?: number;
  /** How long telling members may take. */
  notifyMs?: number;
}

/** Where errors nothing caught are reported: the process in production. */
export interface FatalErrorSource {
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
}

/** The exit code after an internal error. */
export const INTERNAL_ERROR_EXIT_CODE = 1;

export const RUN_FAILED_INTERNAL_ERROR = 'The bot hit an internal error and restarted; the run was stopped.';

export class LastResort {
  readonly #logger: Logger;
  readonly #exit: (code: number) => void;
  readonly #stopEnginesMs: number;
  readonly #notifyMs: number;
  #app: LastResortApp | undefined;
  #handling: Promise<void> | undefined;

  constructor(options: LastResortOptions) {
    this.#logger = options.logger;
    this.#exit = options.exit;
    this.#stopEnginesMs = options.stopEnginesMs ?? 5_000;
    this.#notifyMs = options.notifyMs ?? 5_000;
  }

  /** Listens for errors nothing else caught, on `target` (the process in production). */
  install(target: FatalErrorSource): this {
    target.on('uncaughtException', (error: Error) => void this.handle(error, 'uncaughtException'));
    target.on('unhandledRejection', (reason: unknown) => void this.handle(reason, 'unhandledRejection'));
    return this;
  }

  /** Once the app is built: from then on, a fatal error also stops its runs and tells their members. */
  attach(app: LastResortApp): void {
    this.#app = app;
  }

  /** Handles one fatal error and exits; a second one while handling is logged and waits for the first. */
  handle(error: unknown, origin: string): Promise<void> {
    if (this.#handling) {
      this.#logger.error({ err: error, origin }, 'another internal error while stopping after the first');
      return this.#handling;
    }
    this.#handling = this.#stopEverything(error, origin);
    return this.#handling;
  }

  async #stopEverything(error: unknown, origin: string): Promise<void> {
    this.#logger.fatal({ err: error, origin }, 'internal error: stopping runs, telling their members, then exiting');
    // Should anything below hang in a way the timeouts do not cover, exit all the same.
    const backstop = setTimeout(() => this.#exit(INTERNAL_ERROR_EXIT_CODE), this.#stopEnginesMs + this.#notifyMs + 2_000);
    try {
      if (this.#app) await this.#failRuns(this.#app);
    } catch (failure) {
      this.#logger.error({ err: failure }, 'could not stop every run after an internal error');
    } finally {
      clearTimeout(backstop);
      this.#exit(INTERNAL_ERROR_EXIT_CODE);
    }
  }

  async #failRuns(app: LastResortApp): Promise<void> {
    const runs = app.runner.runs;
    const underWay = await runs.unfinished();
    await settleWithin(app.runner.shutdown(), this.#stopEnginesMs);
    const ids = underWay.map((run) => run.id);
    // Marked now, in case telling members takes all the time left; again after, over any run the shutdown
    // marked interrupted meanwhile. A run whose engine finished in the meantime keeps its own outcome.
    const failed = new Set(await runs.failUnlessEnded(ids, RUN_FAILED_INTERNAL_ERROR));
    const toTell = underWay.filter((run) => failed.has(run.id));
    await settleWithin(Promise.allSettled(toTell.map((run) => this.#tell(app, run))), this.#notifyMs);
    await runs.failUnlessEnded([...failed], RUN_FAILED_INTERNAL_ERROR);
    this.#logger.warn({ runs: [...failed] }, 'runs under way marked failed after an internal error');
  }

  async #tell(app: LastResortApp, run: IacRunRow): Promise<void> {
    try {
      const projectName = (await app.projects.getById(run.guild_id, run.project_id, { includeArchived: true })).name;
      const channelId = (await app.policies.get(run.guild_id)).notificationChannelId;
      const delivery = await deliverToMember(app.notifier, run.started_by, runFailedNotices(run, projectName), channelId);
      if (delivery.via === 'none') this.#logger.warn({ runId: run.id, refused: delivery.refused }, 'could not tell the member their run failed');
    } catch (error) {
      this.#logger.warn({ runId: run.id, error: describeError(error) }, 'could not tell the member their run failed');
    }
  }
}

function runFailedNotices(run: IacRunRow, projectName: string): { direct: Notice; channel: Notice } {
  const what = text`${run.kind} of ${projectName} (run #${String(run.guild_run_number)})`;
  const description = text`It was stopped because the bot hit an internal error and is restarting; the engine was asked to stop safely first. When the bot is back, check ${command('projects')} and ${command('runs.list')}: a resource left half-changed is marked interrupted, and you can deploy it again or destroy it.`;
  return {
    direct: { title: text`❌ Your ${what} failed`, description, tone: 'danger' },
    channel: { title: text`❌ A ${what} failed`, description: text`${member(run.started_by)}: ${description}`, tone: 'danger' },
  };
}

/** Waits for `promise` (whatever its outcome) but no longer than `ms`. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise.then(() => undefined, () => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
