/**
 * Rows a process holds in the shared database while its work lives: workspace leases (src/engine/workspace-leases.ts)
 * and budget holds (src/deploy/budget-reservations.ts). Every row names its owner, the process; the process's
 * heartbeat pushes the expiry of its own rows forward, and the work that took a row deletes it when it ends. A
 * process that crashed (kill -9, a lost machine) stops renewing, so its rows stop counting once they expire and
 * another process may take them over: no row outlives its holder by more than LEASE_MS.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from './clock.js';

/**
 * How long a row counts without being renewed. Long enough that a busy event loop (a large plan parsed, a slow
 * disk) never lets a live holder's row lapse between two beats, short enough that a member waits at most a minute
 * after a crash before the workspace or the budget is free again.
 */
export const LEASE_MS = 60_000;

/** How often the heartbeat renews: three beats fit in one lease, so two missed beats still leave it held. */
export const HEARTBEAT_EVERY_MS = LEASE_MS / 4;

/**
 * What a table of leased rows offers the heartbeat: push this owner's rows to `expiresAt`; how many there were.
 * Synchronous (a SQLite-only table) or asynchronous (one on the data-access seam, either dialect).
 */
export interface LeaseRenewer {
  renewOwn(expiresAt: number): number | Promise<number>;
}

/**
 * This process as the owner of rows: host, pid and shard for the operator who reads the table, and a random part so
 * that a later process given the same pid is never taken for this one.
 */
export function processOwnerId(shard?: { id: number; count: number }): string {
  const shardPart = shard && shard.count > 1 ? `/shard-${shard.id}` : '';
  return `${hostname()}/${process.pid}${shardPart}/${randomUUID().slice(0, 8)}`;
}

export class LeaseHeartbeat {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly renewers: readonly LeaseRenewer[],
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void,
  ) {}

  /**
   * Renews every row this process holds, now; one table failing does not keep the others from being renewed.
   * Never rejects: failures go to `onError`. Beats may overlap on a slow database; each one pushes the rows at least
   * a lease from its own start, which is all a beat promises.
   */
  async beat(): Promise<void> {
    const expiresAt = this.clock.now() + LEASE_MS;
    await Promise.all(
      this.renewers.map(async (renewer) => {
        try {
          await renewer.renewOwn(expiresAt);
        } catch (error) {
          this.onError(error);
        }
      }),
    );
  }

  /** Beats every HEARTBEAT_EVERY_MS until `stop`; never keeps the process alive on its own. */
  start(): void {
    this.#timer ??= setInterval(() => void this.beat(), HEARTBEAT_EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
