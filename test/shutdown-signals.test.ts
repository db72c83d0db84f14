/**
 * One request to stop gives one graceful shutdown, even when it arrives twice (npm relays the signal that the
 * process group got as well); a person asking again exits at once. The real process-group case, through
 * `npm start`, is in bot-lifecycle.test.ts.
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { REPEAT_WINDOW_MS, handleShutdownSignals } from '../src/app/shutdown-signals.js';
import { createLogger } from '../src/logging/logger.js';
import { FakeClock } from './support/clock.js';

function harness() {
  const source = new EventEmitter();
  const clock = new FakeClock();
  const exits: number[] = [];
  let stops = 0;
  const stoppedBy: NodeJS.Signals[] = [];
  let finishStop: () => void = () => {};
  let failStop: (error: Error) => void = () => {};
  let logs = '';
  const logger = createLogger('debug', new Writable({ write: (chunk: Buffer, _e, done) => ((logs += chunk.toString()), done()) }));
  handleShutdownSignals(source, {
    logger,
    clock,
    exit: (code) => exits.push(code),
    stop: (signal) => {
      stops += 1;
      stoppedBy.push(signal);
      return new Promise<void>((resolve, reject) => {
        finishStop = resolve;
        failStop = reject;
      });
    },
  });
  const send = (signal: NodeJS.Signals) => source.emit(signal, signal);
  return { send, clock, exits, stoppedBy, stops: () => stops, finishStop: () => finishStop(), failStop: (e: Error) => failStop(e), logs: () => logs };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('shutdown signals', () => {
  it('tells the stop which signal asked for it, so a sharding manager passes the same one on to its shards', () => {
    const h = harness();
    h.send('SIGINT');
    h.send('SIGINT');
    expect(h.stoppedBy).toEqual(['SIGINT']);
  });

  it('a SIGTERM delivered twice at once (group signal plus npm relay) drains once and exits 0', async () => {
    const h = harness();
    h.send('SIGTERM');
    h.clock.advance(3);
    h.send('SIGTERM');
    expect(h.stops()).toBe(1);
    expect(h.exits).toEqual([]);
    h.finishStop();
    await settle();
    expect(h.exits).toEqual([0]);
    expect(h.logs()).not.toContain('second signal');
    expect(h.logs()).toContain('already shutting down');
  });

  it('Ctrl-C under npm (SIGINT from the terminal and from npm) drains; pressing again later exits at once with 1', () => {
    const h = harness();
    h.send('SIGINT');
    h.send('SIGINT');
    expect(h.exits).toEqual([]);
    h.clock.advance(REPEAT_WINDOW_MS);
    h.send('SIGINT');
    expect(h.exits).toEqual([1]);
    expect(h.stops()).toBe(1);
    expect(h.logs()).toContain('second signal: exiting now');
  });

  it('only one relayed copy is forgiven: a third signal inside the window exits at once', () => {
    const h = harness();
    h.send('SIGINT');
    h.send('SIGINT');
    h.send('SIGINT');
    expect(h.exits).toEqual([1]);
  });

  it('a different signal right after the first is a second request, not a copy', () => {
    const h = harness();
    h.send('SIGTERM');
    h.clock.advance(1);
    h.send('SIGINT');
    expect(h.exits).toEqual([1]);
  });

  it('a shutdown that fails exits 1 and says so', async () => {
    const h = harness();
    h.send('SIGTERM');
    h.failStop(new Error('database locked'));
    await settle();
    expect(h.exits).toEqual([1]);
    expect(h.logs()).toContain('shutdown failed');
  });
});
