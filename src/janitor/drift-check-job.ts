import type { Logger } from '../logging/logger.js';
import type { DriftRepository } from '../drift/drift-repository.js';
import type { CheckResult, DriftService } from '../drift/drift-service.js';
import type { Clock } from '../shared/clock.js';
import type { JanitorJob, JobCounts } from './job.js';

export interface DriftCheckJobOptions {
  checks: Pick<DriftRepository, 'due'>;
  service: Pick<DriftService, 'runCheck'>;
  /** Runs holding or waiting for an engine slot, across all guilds (IacRunner.load). */
  load: () => { running: number; queued: number };
  /** Config MAX_CONCURRENT_RUNS: checks start only while a slot is free, so members' runs never queue behind them. */
  maxConcurrentRuns: number;
  /** Whether the guild's plan (tier) lets it start one more run now; a guild at its cap is tried at the next tick. */
  guildMayRun?: (guildId: string) => boolean | Promise<boolean>;
  clock: Clock;
  logger: Logger;
  /** Guilds whose first due check is looked at per tick (default 200). */
  batch?: number;
}

/**
 * Starts the drift checks that are due: at most one at a time per guild, and only while an engine slot is free.
 * A check takes as long as its plan, so the tick does not wait for it (the other jobs keep their minute): it runs in
 * the background and `idle()` waits for every check started. A workspace held by a member's run is skipped by the
 * check itself and tried again at the next tick (its next time is left as it was).
 */
export class DriftCheckJob implements JanitorJob {
  readonly name = 'drift-checks';
  readonly #running = new Map<string, Promise<CheckResult | undefined>>();

  constructor(private readonly options: DriftCheckJobOptions) {}

  async run(): Promise<JobCounts> {
    const { checks, clock, load, maxConcurrentRuns } = this.options;
    const counts = { started: 0, guild_busy: 0, no_slot: 0, tier_cap: 0 };
    const due = await checks.due(clock.now(), this.options.batch ?? 200);
    for (const check of due) {
      if (this.#running.has(check.guildId)) {
        counts.guild_busy++;
        continue;
      }
      if (this.options.guildMayRun && !(await this.options.guildMayRun(check.guildId))) {
        counts.tier_cap++;
        continue;
      }
      const { running, queued } = load();
      // Those started this tick may not hold their slot yet: counted too, so a tick never overshoots.
      if (running + queued + counts.started >= maxConcurrentRuns) {
        counts.no_slot++;
        continue;
      }
      counts.started++;
      const guildId = check.guildId;
      const started = this.options.service
        .runCheck(check)
        .catch((error: unknown) => {
          this.options.logger.error({ err: error, guildId, driftCheckId: check.id }, 'drift check failed unexpectedly');
          return undefined;
        })
        .finally(() => this.#running.delete(guildId));
      this.#running.set(guildId, started);
    }
    return counts;
  }

  /** Resolves once every check started so far has ended (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()]);
  }
}
