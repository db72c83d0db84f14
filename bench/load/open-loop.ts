/**
 * An open-loop sender: interaction i is dispatched at start + i / rate whatever happened to the ones before, as
 * members do (they do not wait for each other's answers). A closed loop (send the next after the last answer)
 * would slow down with the bot and hide its backlog. Latency is the local Discord server's own measure: from the
 * dispatch of INTERACTION_CREATE to the arrival of the interaction callback (the acknowledgement); one later than
 * the deadline, or never, is missed.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { InteractionHandle } from '../../test/discord-server/index.js';

export interface OpenLoopOptions {
  ratePerSecond: number;
  durationMs: number;
  /** Dispatches interaction number `i` (the server stamps its dispatch time). */
  send: (i: number) => Promise<InteractionHandle>;
  /** Discord's 3 s: an acknowledgement later than this is missed. */
  deadlineMs: number;
  /** How long to wait for the stragglers after the last dispatch. */
  drainMs: number;
}

export interface OpenLoopResult {
  sent: number;
  /** Acknowledgement delays in ms, sorted, of every acknowledged interaction (late ones included). */
  latencies: number[];
  /** Acknowledged after the deadline, or not at all. */
  missed: number;
  /** How far behind its schedule the sender fell at worst: above a few ms, the sender, not the bot, set the pace. */
  senderLagMaxMs: number;
  /** This process's CPU (sender and server together) over the phase, in ms. */
  benchCpuMs: number;
  /** Wall time from the first dispatch until the last acknowledgement (or the drain gave up). */
  wallMs: number;
  /** This process's worst event-loop delay: a high one would mean the server itself answered late. */
  benchLoopDelayMaxMs: number;
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const total = Math.round((options.ratePerSecond * options.durationMs) / 1000);
  const intervalMs = 1000 / options.ratePerSecond;
  const acknowledged: Array<Promise<number | null>> = [];
  let senderLagMaxMs = 0;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      // Everything due by now goes out now: a late tick sends a burst, it never thins the schedule.
      while (next < total && started + next * intervalMs <= now) {
        senderLagMaxMs = Math.max(senderLagMaxMs, now - (started + next * intervalMs));
        const handle = options.send(next);
        acknowledged.push(
          handle.then(
            (h) =>
              h.waitForResponse(options.deadlineMs + options.drainMs).then(
                () => h.ackDelayMs ?? null,
                () => null,
              ),
            () => null,
          ),
        );
        next += 1;
      }
      if (next < total) setTimeout(tick, Math.max(0, started + next * intervalMs - performance.now()));
      else resolve();
    };
    tick();
  });
  const delays = await Promise.all(acknowledged);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  loop.disable();
  const latencies = delays.filter((delay): delay is number => delay !== null).sort((a, b) => a - b);
  const missed = delays.filter((delay) => delay === null || delay > options.deadlineMs).length;
  return {
    sent: total,
    latencies,
    missed,
    senderLagMaxMs,
    benchCpuMs: (cpu.user + cpu.system) / 1000,
    wallMs,
    benchLoopDelayMaxMs: loop.max / 1e6,
  };
}

/** The q-quantile (0..1) of sorted values; NaN when there are none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/** What one phase of open-loop load came to, as the benchmarks report it (delays in ms, CPU in % of one core). */
export interface PhaseFigures {
  rate: number;
  sent: number;
  p50: number;
  p99: number;
  max: number;
  missed: number;
  /** The benchmark process's (sender and local Discord server together) CPU. */
  benchCpuPct: number;
  senderLagMaxMs: number;
  benchLoopDelayMaxMs: number;
}

export function phaseFigures(rate: number, result: OpenLoopResult): PhaseFigures {
  return {
    rate,
    sent: result.sent,
    p50: quantile(result.latencies, 0.5),
    p99: quantile(result.latencies, 0.99),
    max: result.latencies.at(-1) ?? Number.NaN,
    missed: result.missed,
    benchCpuPct: (100 * result.benchCpuMs) / result.wallMs,
    senderLagMaxMs: result.senderLagMaxMs,
    benchLoopDelayMaxMs: result.benchLoopDelayMaxMs,
  };
}
