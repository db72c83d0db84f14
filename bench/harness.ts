/** What every benchmark module provides, and the machine facts each result is printed with. */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export interface BenchmarkResult {
  /** Printed to the console as they are. */
  lines: string[];
  /** The body of this benchmark's section in docs/performance.md (without heading or machine facts). */
  markdown: string;
  /** The section written, when a flag picked another than the benchmark's own (e.g. `--loaded`). */
  section?: { id: string; title: string };
}

export interface Benchmark {
  /** Stable id: names the section in docs/performance.md and selects the benchmark on the command line. */
  id: string;
  title: string;
  /** `flags`: the `--name` / `--name=value` arguments given on the command line, for the benchmarks that take any. */
  run(flags: readonly string[]): Promise<BenchmarkResult>;
}

/** A benchmark that cannot run as asked (a flag it refuses): its message says why, and nothing was started. */
export class BenchmarkRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchmarkRefused';
  }
}

/** The value of `--name=value` among the flags, or undefined. */
export function flagValue(flags: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  return flags.find((flag) => flag.startsWith(prefix))?.slice(prefix.length);
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAverage: number;
  date: string;
}

export function machineInfo(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) cpuModel = match[1].trim();
  } catch {
    // not Linux: os.cpus() is good enough
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    date: new Date().toISOString(),
  };
}

export function describeMachine(info: MachineInfo): string {
  return `${info.cpus} CPU (${info.cpuModel}), ${info.memoryGiB} GiB RAM, Node ${info.node}, ${info.platform}; load average ${info.loadAverage} at start; run ${info.date}`;
}

export interface SliceReport {
  /** Longest time the event loop could not run anything else, in ms. */
  maxMs: number;
  p99Ms: number;
  p50Ms: number;
  samples: number;
  /** monitorEventLoopDelay's maximum (1 ms resolution timer), in ms: an independent check of maxMs. */
  loopDelayMaxMs: number;
  /**
   * The same longest stretch counted in this process's CPU time: what the code itself costs, without the time the
   * OS gave the CPU to other processes (on a shared machine, wall-clock slices include that).
   */
  maxCpuMs: number;
  /** Longest garbage-collection pause meanwhile, in ms: GC holds the loop too, whatever the code does. */
  gcMaxMs: number;
}

/**
 * Measures how long the event loop stays busy at a stretch while `work` runs. A chain of setImmediate callbacks
 * stands in for incoming commands: the gap between two of them is the longest a command would have waited.
 */
export async function measureSlices<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; slices: SliceReport }> {
  const gaps: number[] = [];
  let maxCpuMs = 0;
  let running = true;
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  const probe = () => {
    const now = performance.now();
    const cpu = process.cpuUsage();
    gaps.push(now - last);
    maxCpuMs = Math.max(maxCpuMs, (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000);
    last = now;
    lastCpu = cpu;
    if (running) setImmediate(probe);
  };
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, entry.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  setImmediate(probe);
  const started = performance.now();
  const result = await work();
  const ms = performance.now() - started;
  running = false;
  histogram.disable();
  // GC entries are delivered asynchronously: let the last ones arrive.
  await new Promise((resolve) => setImmediate(resolve));
  gc.disconnect();
  gaps.sort((a, b) => a - b);
  const at = (q: number) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))] ?? 0;
  return {
    result,
    ms,
    slices: {
      maxMs: gaps[gaps.length - 1] ?? ms,
      p99Ms: at(0.99),
      p50Ms: at(0.5),
      samples: gaps.length,
      loopDelayMaxMs: histogram.max / 1e6,
      maxCpuMs,
      gcMaxMs,
    },
  };
}

export function fmtMs(ms: number): string {
  return ms >= 100 ? `${Math.round(ms).toLocaleString('en-US')} ms` : `${ms.toFixed(2)} ms`;
}

export function fmtCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * This process and everything it starts (the bots, the hogs, which keep their offset) at `nice`. Linux schedules
 * each session as a group (autogroup): a nice value alone only orders processes inside the group, so the group's
 * own nice is set too. Children inherit both.
 */
export function raisePriority(nice: number): void {
  os.setPriority(nice);
  try {
    writeFileSync('/proc/self/autogroup', String(nice));
  } catch {
    // No autogroups (or not Linux): the process nice is all there is.
  }
}
