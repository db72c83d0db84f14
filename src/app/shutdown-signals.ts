/**
 * SIGINT/SIGTERM: stop taking work, let runs end gracefully, then exit; a second request exits at once.
 *
 * One request can arrive twice. `npm start` runs the bot under npm, which relays SIGINT and SIGTERM to it; a
 * process manager that signals the whole process group (systemd, a terminal's Ctrl-C) reaches the bot directly
 * as well, so the same signal lands twice within milliseconds. The repeat of the first signal within
 * REPEAT_WINDOW_MS is taken as that same request, once; any other signal, or the same one later, is a person
 * insisting, and exits now.
 */
import type { Logger } from '../logging/logger.js';
import type { Clock } from '../shared/clock.js';

/** Relayed copies arrive within a few milliseconds (a loaded machine: tens); a person pressing again takes longer. */
export const REPEAT_WINDOW_MS = 1_000;

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

/** Where the signals come from: the process in production. */
export interface SignalSource {
  on(event: ShutdownSignal, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownSignalOptions {
  logger: Logger;
  /**
   * Graceful shutdown: stop taking work, drain, close. Given the signal that asked for it, which a sharding manager
   * passes on as it is: a shard that gets a terminal's SIGINT from the process group and the manager's copy of it
   * takes the two as one request, where a SIGTERM after a SIGINT would mean "exit now".
   */
  stop: (signal: NodeJS.Signals) => Promise<void>;
  /** `process.exit` in production. */
  exit: (code: number) => void;
  /** A monotonic clock (performance.now()): the window must not move with the wall clock. */
  clock: Clock;
}

export function handleShutdownSignals(source: SignalSource, { logger, stop, exit, clock }: ShutdownSignalOptions): void {
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  let repeatForgiven = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (first) {
      const relayed = !repeatForgiven && signal === first.signal && clock.now() - first.at < REPEAT_WINDOW_MS;
      if (relayed) {
        repeatForgiven = true;
        logger.debug({ signal }, 'same signal again at once (relayed by npm or the process group): already shutting down');
        return;
      }
      logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    first = { signal, at: clock.now() };
    logger.info({ signal }, 'shutting down');
    stop(signal)
      .then(() => exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      });
  };
  for (const signal of SHUTDOWN_SIGNALS) source.on(signal, handler);
}
