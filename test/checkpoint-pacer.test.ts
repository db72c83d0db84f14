import { describe, expect, it } from 'vitest';
import { FALLBACK_AUTOCHECKPOINT_PAGES } from '../src/db/wal-checkpointer.js';
import { CheckpointPacer, WAL_FRAMES_PER_STRETCH } from '../src/janitor/checkpoint-pacer.js';

/** Commits batches of `size` until the pacer asks for a checkpoint; how many it took. */
function stretch(pacer: CheckpointPacer, size: number): number {
  let commits = 0;
  do {
    pacer.committed(size);
    commits += 1;
  } while (!pacer.due && commits < 100_000);
  return commits;
}

describe('CheckpointPacer', () => {
  it('stays under half the fallback threshold, so the bot’s own connection never checkpoints on the event loop', () => {
    expect(WAL_FRAMES_PER_STRETCH).toBeLessThanOrEqual(FALLBACK_AUTOCHECKPOINT_PAGES / 2);
  });

  it('asks early before any checkpoint has said what a commit writes', () => {
    expect(stretch(new CheckpointPacer(5_000), 100)).toBeLessThanOrEqual(5);
    expect(stretch(new CheckpointPacer(5_000), 5_000)).toBe(1);
  });

  it('keeps the WAL under the fallback threshold whether batches shrink or grow (a busy machine, then a quiet one)', () => {
    // A commit's frames: a fixed part (audit index pages, one per guild) and a part per grant.
    const frames = (size: number) => 250 + 0.3 * size;
    const pacer = new CheckpointPacer();
    const sizes = [...Array<number>(10).fill(1_000), ...Array<number>(10).fill(100), ...Array<number>(10).fill(5_000), ...Array<number>(10).fill(300)];
    const walAtCheckpoints: number[] = [];
    for (const size of sizes) {
      const commits = stretch(pacer, size);
      const wal = commits * frames(size);
      walAtCheckpoints.push(wal);
      pacer.checkpointed({ busy: 0, log: wal, checkpointed: wal });
    }
    expect(Math.max(...walAtCheckpoints)).toBeLessThan(FALLBACK_AUTOCHECKPOINT_PAGES);
    // …and it does not checkpoint after every commit once it knows what a commit costs.
    expect(walAtCheckpoints.slice(5, 10).every((wal) => wal > WAL_FRAMES_PER_STRETCH / 2)).toBe(true);
  });

  it('keeps its estimate when a checkpoint failed or reported nothing it can read', () => {
    const pacer = new CheckpointPacer(5_000);
    stretch(pacer, 1_000);
    pacer.checkpointed({ log: 2_500 });
    const known = stretch(pacer, 1_000);
    pacer.checkpointed(undefined);
    expect(stretch(pacer, 1_000)).toBe(known);
    pacer.checkpointed(17);
    expect(stretch(pacer, 1_000)).toBe(known);
  });

  it('lengthens a stretch by a third at most after a low report (the WAL restarted in the middle of it)', () => {
    const pacer = new CheckpointPacer(5_000);
    for (let i = 0; i < 10; i++) pacer.checkpointed({ log: stretch(pacer, 1_000) * 500 });
    const settled = stretch(pacer, 1_000);
    pacer.checkpointed({ log: 10 });
    expect(stretch(pacer, 1_000)).toBeLessThanOrEqual(Math.ceil((settled * 4) / 3));
  });
});
