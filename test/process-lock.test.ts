import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseInUse, acquireProcessLock, lockPathFor } from '../src/app/process-lock.js';
import { makeTempDir } from './support/tmp.js';

const SINCE = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('the process lock', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).reverse().forEach((cleanup) => cleanup()));

  function databasePath(): string {
    const tmp = makeTempDir('chatops-lock-');
    cleanups.push(tmp.cleanup);
    return join(tmp.dir, 'nested', 'chatops.db');
  }

  it('refuses a second holder of one database, naming the first by pid, host and start time', () => {
    const path = databasePath();
    const first = acquireProcessLock(path, SINCE);
    cleanups.push(first.release);
    let refusal: unknown;
    try {
      acquireProcessLock(path, SINCE + 1);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DatabaseInUse);
    expect((refusal as DatabaseInUse).holder).toEqual({ pid: process.pid, host: hostname(), since: SINCE });
    expect((refusal as Error).message).toContain(`process ${process.pid} on host "${hostname()}", running since 2026-01-01T12:00:00.000Z`);
    expect((refusal as Error).message).toMatch(/another DATABASE_PATH/);
  });

  it('is free again once released, and another database has its own lock', () => {
    const path = databasePath();
    acquireProcessLock(path, SINCE).release();
    const again = acquireProcessLock(path, SINCE + 5);
    cleanups.push(again.release);
    const other = acquireProcessLock(databasePath(), SINCE);
    cleanups.push(other.release);
  });

  it('says what to do with a lock file it did not write', () => {
    const path = databasePath();
    acquireProcessLock(path, SINCE).release();
    writeFileSync(lockPathFor(path), 'not a database, just some text that is long enough to be read as a header '.repeat(10));
    expect(() => acquireProcessLock(path, SINCE)).toThrow(/is not a lock file this bot wrote.*remove it/s);
  });

  it('needs no lock for an in-memory database', () => {
    const a = acquireProcessLock(':memory:', SINCE);
    const b = acquireProcessLock(':memory:', SINCE);
    a.release();
    b.release();
  });
});

describe('the process lock with shards', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).reverse().forEach((cleanup) => cleanup()));

  function databasePath(): string {
    const tmp = makeTempDir('chatops-lock-');
    cleanups.push(tmp.cleanup);
    return join(tmp.dir, 'chatops.db');
  }

  it('lets the manager hold the database while each shard holds its own, and refuses a second of one shard', () => {
    const path = databasePath();
    const manager = acquireProcessLock(path, SINCE);
    cleanups.push(manager.release);
    const shard0 = acquireProcessLock(path, SINCE, { id: 0, count: 2 });
    cleanups.push(shard0.release);
    const shard1 = acquireProcessLock(path, SINCE, { id: 1, count: 2 });
    cleanups.push(shard1.release);
    expect(lockPathFor(path, { id: 1, count: 2 })).toMatch(/chatops\.db\.shard-1\.lock$/);
    let refusal: unknown;
    try {
      acquireProcessLock(path, SINCE + 1, { id: 1, count: 2 });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DatabaseInUse);
    expect((refusal as Error).message).toMatch(/chatops\.db \(its shard 1\) is already in use by process \d+/);
    // A second manager (or a bot started without shards) is refused by the manager's lock.
    expect(() => acquireProcessLock(path, SINCE + 2)).toThrow(DatabaseInUse);
  });
});
