/**
 * Drives the console front end through its input and output streams, with the real core on a temporary database
 * and deployments folder, and the stand-in engine as IAC_BIN_DIR.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { runConsoleFrontEnd } from '../../src/console/console-front-end.js';
import type { Timers } from '../../src/console/timers.js';
import { parseConfig, type Config } from '../../src/config/index.js';
import type { Command } from '../../src/interaction/command.js';
import { createLogger } from '../../src/logging/logger.js';
import { FakeClock } from './clock.js';
import { FAKE_ENGINE_BIN } from './engine-env.js';
import { makeTempDir } from './tmp.js';

/** Timers the test fires by hand: forms and buttons time out only when told to. */
export class ManualTimers implements Timers {
  private pending: Array<{ ms: number; fire: () => void; cancelled: boolean }> = [];

  schedule(ms: number, fire: () => void) {
    const entry = { ms, fire, cancelled: false };
    this.pending.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Fires every live timer of at most `ms` (all of them by default). */
  fire(ms = Number.POSITIVE_INFINITY): number {
    const due = this.pending.filter((t) => !t.cancelled && t.ms <= ms);
    this.pending = this.pending.filter((t) => !due.includes(t));
    for (const timer of due) timer.fire();
    return due.length;
  }
}

export interface ConsoleDriverOptions {
  argv?: string[];
  env?: Record<string, string>;
  commands?: readonly Command[];
  /** Make the streams look like a terminal (readline's raw, echoing mode). */
  tty?: boolean;
}

/** The longest a scenario step may take before the test fails with the transcript; a safety net, not a timing check. */
const STEP_LIMIT_MS = 20_000;

export class ConsoleDriver {
  readonly input = new PassThrough();
  readonly output = new PassThrough();
  readonly clock = new FakeClock();
  readonly timers = new ManualTimers();
  readonly config: Config;
  readonly root: string;
  /** Everything the console printed. */
  transcript = '';
  /** Every log line. */
  logs = '';
  private cursor = 0;
  private listeners: Array<() => void> = [];
  readonly finished: Promise<void>;
  private readonly cleanupDir: () => void;

  constructor(options: ConsoleDriverOptions = {}) {
    const tmp = makeTempDir('chatops-console-');
    this.root = tmp.dir;
    this.cleanupDir = tmp.cleanup;
    this.config = parseConfig({
      DATABASE_PATH: join(tmp.dir, 'chatops.db'),
      DEPLOYMENTS_DIR: join(tmp.dir, 'deployments'),
      IAC_BIN_DIR: FAKE_ENGINE_BIN,
      TF_PLUGIN_CACHE_DIR: join(tmp.dir, 'plugin-cache'),
      RATE_LIMIT_MEMBER_PER_MINUTE: '1000',
      LOG_LEVEL: 'info',
      ...options.env,
    });
    if (options.tty) {
      Object.assign(this.input, { isTTY: true, setRawMode: () => this.input });
      Object.assign(this.output, { isTTY: true, columns: 120 });
    }
    this.output.setEncoding('utf8');
    this.output.on('data', (chunk: string) => {
      this.transcript += chunk;
      for (const listener of this.listeners) listener();
    });
    const logSink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.logs += chunk.toString('utf8');
        callback();
      },
    });
    this.finished = runConsoleFrontEnd({
      config: this.config,
      logger: createLogger('info', logSink),
      argv: options.argv ?? [],
      input: this.input,
      output: this.output,
      clock: this.clock,
      timers: this.timers,
      commands: options.commands,
    });
  }

  /** Types a line (Enter included). */
  send(line: string): void {
    this.input.write(`${line}\n`);
  }

  /** Types a line and waits for the console to print `expected` after it; returns what was printed since. */
  async run(line: string, expected: string | RegExp): Promise<string> {
    this.cursor = this.transcript.length;
    this.send(line);
    return this.waitFor(expected);
  }

  /** Waits for `expected` in what was printed since the last `run` (or `waitFor`); returns that output. */
  async waitFor(expected: string | RegExp): Promise<string> {
    const from = this.cursor;
    const found = () => {
      const text = this.transcript.slice(from);
      const match = typeof expected === 'string' ? text.indexOf(expected) : text.search(expected);
      return match < 0 ? undefined : text;
    };
    const text = await new Promise<string>((resolve, reject) => {
      const check = () => {
        const result = found();
        if (result === undefined) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve(result);
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(new Error(`the console never printed ${String(expected)}; it printed:\n${this.transcript.slice(from)}`));
      }, STEP_LIMIT_MS);
      this.listeners.push(check);
      check();
    });
    this.cursor = this.transcript.length;
    return text;
  }

  /**
   * Waits until every running command has finished or waits for an answer, and returns what was printed since the
   * last step. The console reads the next line only then, so the answer to a harmless `/members` marks the moment.
   * Not while a form field waits: the line would be taken as the answer.
   */
  async settle(): Promise<string> {
    const from = this.cursor;
    this.send('/members');
    await this.waitFor('Members of "Console"');
    return this.transcript.slice(from);
  }

  /** The raw bytes of the database file, to look for what must never be stored. */
  databaseBytes(): string {
    return readFileSync(this.config.DATABASE_PATH).toString('latin1');
  }

  /** Leaves with /quit and waits for the graceful shutdown. */
  async quit(): Promise<void> {
    this.send('/quit');
    await this.finished;
  }

  async close(): Promise<void> {
    if (!this.input.writableEnded) this.input.end();
    await this.finished.catch(() => undefined);
    this.cleanupDir();
  }
}
