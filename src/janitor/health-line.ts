/**
 * The operator's health line (seed 003's "Check Vault Status" monitoring): one `health` log line with how many vault
 * sessions are live (and in how many servers), and how many engine runs hold a slot or wait for one. Counts only,
 * across all guilds: never a session's contents, owner or guild id, so the line is safe to ship to any log store.
 * Written after a janitor tick, at most once per interval, so a per-second schedule does not flood the log.
 */
import type { Logger } from '../logging/logger.js';
import type { Clock } from '../shared/clock.js';

export interface HealthSources {
  vault: { counts(): { sessions: number; guilds: number } };
  runs: { readonly load: { running: number; queued: number } };
}

/** Five minutes: often enough to see a trend, rare enough to read. */
export const HEALTH_INTERVAL_MS = 5 * 60_000;

export class HealthLine {
  #lastAt: number | undefined;

  constructor(
    private readonly sources: HealthSources,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = HEALTH_INTERVAL_MS,
  ) {}

  /** Logs the line if the interval has passed since the last one (the first call always logs). */
  maybeReport(): void {
    const now = this.clock.now();
    if (this.#lastAt !== undefined && now - this.#lastAt < this.intervalMs) return;
    this.#lastAt = now;
    const vault = this.sources.vault.counts();
    const { running, queued } = this.sources.runs.load;
    this.logger.info({ vaultSessions: vault.sessions, vaultGuilds: vault.guilds, runsRunning: running, runsQueued: queued }, 'health');
  }
}
