import { z } from 'zod';
import { FALLBACK_AUTOCHECKPOINT_PAGES } from '../db/wal-checkpointer.js';

/**
 * How many WAL frames a long revocation may write between two of its checkpoints: half the size at which the bot's
 * own connection checkpoints on a commit, on the event loop. Half, because the estimate below is from the last
 * stretch and other writers (commands) add frames too.
 */
export const WAL_FRAMES_PER_STRETCH = FALLBACK_AUTOCHECKPOINT_PAGES / 2;

/**
 * Frames guessed per commit and per grant before the first checkpoint has measured them: more than a batch writes
 * (a commit rewrites a leaf page of each audit index per guild in it, ~600 frames for 1,000 grants of 100 guilds),
 * so the first stretch is a short one.
 */
const FIRST_GUESS = { perCommit: 1_000, perGrant: 2 };
/**
 * An estimate falls by a quarter at most per stretch: a report can be low because a periodic checkpoint let the WAL
 * restart in the middle of the stretch, and a stretch planned on it alone could run past the budget.
 */
const MOST_KEPT = 0.75;

/** What a checkpoint reports (WalCheckpointer's result): the frames in the WAL when it ran. */
const checkpointReport = z.object({ log: z.number().int().nonnegative() });

/**
 * Says when a long revocation should stop for a checkpoint, from the WAL frames it wrote, not from how many grants
 * it revoked: a commit's frames are mostly a fixed cost (audit index pages, one per guild in the batch), so on a busy
 * machine, where batches shrink, the same grants write several times the frames. Counting grants let the WAL pass
 * the threshold at which SQLite checkpoints on the bot's thread (a copy and two fsyncs there: stalls of 60-110 ms,
 * every commit until the WAL restarts).
 *
 * The frames of a stretch are estimated two ways from the last one, per commit and per grant, and the larger is
 * used. With frames ≈ a·commits + b·grants, the per-grant rate over-estimates a stretch of larger batches and the
 * per-commit rate one of smaller batches, so the larger of the two never under-estimates when batch sizes change.
 * A checkpoint that could not restart the WAL (a reader holding an old snapshot) reports every frame since, which
 * only makes the next stretch shorter; one that is low (the WAL restarted meanwhile) lowers the estimates by a
 * quarter at most.
 */
export class CheckpointPacer {
  #commits = 0;
  #grants = 0;
  #perCommit = FIRST_GUESS.perCommit;
  #perGrant = FIRST_GUESS.perGrant;

  constructor(private readonly framesPerStretch = WAL_FRAMES_PER_STRETCH) {}

  /** Counts a committed batch of `grants`. */
  committed(grants: number): void {
    this.#commits += 1;
    this.#grants += grants;
  }

  /** Whether the WAL is estimated to be at its budget: time to wait for a checkpoint. */
  get due(): boolean {
    return Math.max(this.#commits * this.#perCommit, this.#grants * this.#perGrant) >= this.framesPerStretch;
  }

  /** Learns from a checkpoint's report (anything else, such as a failure, keeps the last estimate) and starts a new stretch. */
  checkpointed(report: unknown): void {
    const parsed = checkpointReport.safeParse(report);
    if (parsed.success && this.#commits > 0) {
      this.#perCommit = Math.max(parsed.data.log / this.#commits, this.#perCommit * MOST_KEPT);
      this.#perGrant = Math.max(parsed.data.log / Math.max(this.#grants, 1), this.#perGrant * MOST_KEPT);
    }
    this.#commits = 0;
    this.#grants = 0;
  }
}
