import { statSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FALLBACK_AUTOCHECKPOINT_PAGES, WalCheckpointer, type CheckpointResult } from '../src/db/wal-checkpointer.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { grantRepositoryFor } from '../src/jit/grant-repository.js';
import { JitExpiryJob } from '../src/janitor/jit-expiry-job.js';
import { createLogger } from '../src/logging/logger.js';
import type { Notifier } from '../src/notify/notifier.js';
import { makeTestDatabase } from './support/tmp.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function database() {
  const db = makeTestDatabase();
  cleanups.push(db.cleanup);
  return db;
}

function insertExpired(db: ReturnType<typeof database>, count: number, guilds = 7): void {
  const insert = db.sqlite.prepare(
    `INSERT INTO jit_permissions (user_id, guild_id, provider, permission_level, granted_at, expires_at, granted_by)
     VALUES (?, ?, 'gcp', 'viewer', ?, ?, '222222222222222222')`,
  );
  db.sqlite.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(String(700000000000000000n + BigInt(i)), String(100000000000000000n + BigInt(i % guilds)), NOW - 3_600_000, NOW - 1 - i);
  })();
}

describe('WAL checkpoints off the event loop', () => {
  it('copies every committed page into the database file from a worker thread', async () => {
    const db = database();
    const checkpointer = WalCheckpointer.start(db.path, db)!;
    cleanups.unshift(() => checkpointer.close());
    insertExpired(db, 2_000);
    const result = await checkpointer.checkpoint();
    expect(result.busy).toBe(0);
    expect(result.log).toBeGreaterThan(0);
    expect(result.checkpointed).toBe(result.log);
    // With everything copied, the next commit starts the WAL over: it stays as small as one batch's writes.
    db.sqlite.prepare('UPDATE jit_permissions SET revoked = 1 WHERE id = 1').run();
    expect((await checkpointer.checkpoint()).log).toBeLessThan(result.log);
  });

  it('raises the connection’s own auto-checkpoint threshold, keeping it only as a fallback', () => {
    const db = database();
    expect(db.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    const checkpointer = WalCheckpointer.start(db.path, db)!;
    cleanups.unshift(() => checkpointer.close());
    expect(db.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
  });

  it('checkpoints ordinary commits by itself too, so the WAL never grows to the fallback threshold', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const db = database();
      const checkpointer = WalCheckpointer.start(db.path, db, { everyMs: 1_000 })!;
      cleanups.unshift(() => checkpointer.close());
      const checkpoint = vi.spyOn(checkpointer, 'checkpoint');
      insertExpired(db, 100);
      vi.advanceTimersByTime(999);
      expect(checkpoint).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(checkpoint).toHaveBeenCalledTimes(1);
      await expect(checkpoint.mock.results[0]!.value).resolves.toMatchObject({ busy: 0 });
      await checkpointer.close();
      vi.advanceTimersByTime(5_000);
      expect(checkpoint).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('lets callers that come while a checkpoint is queued share it', async () => {
    const db = database();
    const checkpointer = WalCheckpointer.start(db.path, db)!;
    cleanups.unshift(() => checkpointer.close());
    const first = checkpointer.checkpoint();
    expect(checkpointer.checkpoint()).toBe(first);
    await first;
    const later = checkpointer.checkpoint();
    expect(later).not.toBe(first);
    await expect(later).resolves.toMatchObject({ busy: 0 });
  });

  it('has nothing to do for an in-memory database, and refuses once closed', async () => {
    expect(WalCheckpointer.start(':memory:')).toBeUndefined();
    const db = database();
    const checkpointer = WalCheckpointer.start(db.path)!;
    await checkpointer.close();
    await expect(checkpointer.checkpoint()).rejects.toThrow(/closed/);
  });
});

describe('the expiry job with a checkpointer', () => {
  function job(db: ReturnType<typeof database>, checkpoint: () => Promise<unknown>) {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const unused = {} as Notifier;
    const expiry = new JitExpiryJob({
      grants: grantRepositoryFor(sqliteDataAccess(db).session),
      clock: { now: () => NOW },
      notifier: unused,
      policies: { get: () => ({ maxJitMinutes: 480 }) },
      logger,
      revokeBatchSize: 100,
      checkpoint,
    });
    return { expiry, lines };
  }

  it('leaves nothing in the WAL that is not in the database file once it has revoked', async () => {
    const db = database();
    const checkpointer = WalCheckpointer.start(db.path, db)!;
    cleanups.unshift(() => checkpointer.close());
    insertExpired(db, 450);
    await checkpointer.checkpoint();
    const results: CheckpointResult[] = [];
    const { expiry } = job(db, async () => results.push(await checkpointer.checkpoint()));
    expect(await expiry.revokeDue()).toBe(450);
    expect(results.length).toBeGreaterThan(0);
    expect(results.at(-1)!.checkpointed).toBe(results.at(-1)!.log);
  });

  it('keeps the WAL below the fallback threshold however small its batches, so the bot’s thread never checkpoints', async () => {
    const db = database();
    // No periodic checkpoint, and the connection's own fallback off: what bounds the WAL here is the job alone.
    const checkpointer = WalCheckpointer.start(db.path, db, { everyMs: 3_600_000 })!;
    cleanups.unshift(() => checkpointer.close());
    db.sqlite.pragma('wal_autocheckpoint = 0');
    // 100 guilds in batches of 100: each commit rewrites a page of each guild's part of the audit indexes, about
    // 250 frames for 100 grants, so 20,000 grants write some 50,000 frames, five times the threshold.
    insertExpired(db, 20_000, 100);
    await checkpointer.checkpoint();
    const reports: CheckpointResult[] = [];
    const { expiry } = job(db, async () => {
      const report = await checkpointer.checkpoint();
      reports.push(report);
      return report;
    });
    expect(await expiry.revokeDue()).toBe(20_000);
    const frameBytes = 24 + (db.sqlite.pragma('page_size', { simple: true }) as number);
    const walFrames = Math.floor(statSync(`${db.path}-wal`).size / frameBytes);
    expect(walFrames).toBeLessThan(FALLBACK_AUTOCHECKPOINT_PAGES);
    expect(Math.max(...reports.map((r) => r.log))).toBeLessThan(FALLBACK_AUTOCHECKPOINT_PAGES);
    expect(reports.length).toBeGreaterThan(5);
  }, 60_000);

  it('still revokes everything when checkpoints fail, saying so once', async () => {
    const db = database();
    insertExpired(db, 450);
    let calls = 0;
    const { expiry, lines } = job(db, async () => {
      calls += 1;
      throw new Error('the checkpoint worker exited (code 1)');
    });
    // A chain of setImmediate callbacks stands in for commands arriving meanwhile: they run between batches.
    let turns = 0;
    let counting = true;
    const turn = () => {
      turns += 1;
      if (counting) setImmediate(turn);
    };
    setImmediate(turn);
    expect(await expiry.revokeDue()).toBe(450);
    counting = false;
    expect(turns).toBeGreaterThanOrEqual(4);
    expect(await expiry.revokeDue()).toBe(0);
    insertExpired(db, 10);
    await expiry.revokeDue();
    expect(calls).toBeGreaterThan(1);
    expect(lines.filter((l) => String(l.msg).includes('WAL checkpoint off the event loop failed'))).toHaveLength(1);
    expect(db.sqlite.prepare('SELECT count(*) AS n FROM jit_permissions WHERE revoked = 0').get()).toEqual({ n: 0 });
  });
});
