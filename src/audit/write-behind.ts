/**
 * Audit entries recorded outside a transaction wait here for at most FLUSH_MS (or until BATCH_MAX of them wait) and
 * are written together, in one transaction. A commit of its own per entry was most of what a refused command cost
 * the bot beyond discord.js: a dozen page writes to the WAL and its locks, for one row (docs/performance.md).
 *
 * One queue per connection (SQLite's) or pool (PostgreSQL's), so every AuditLog on it, and every read through one,
 * sees the same entries: a read writes what waits first. What waits is written when `flush` is called (at shutdown,
 * before the connection closes) and, on SQLite, at the latest when the process exits (an 'exit' hook, so
 * `process.exit()` and a fatal error included: SQLite's writer is synchronous, so it can run there). PostgreSQL's
 * writer is asynchronous and cannot finish in an 'exit' hook: there, what waits is written at shutdown's flush, or
 * lost with a process that exits without one, as with one killed outright (SIGKILL, a crash of node itself), which
 * loses the last FLUSH_MS of entries on either dialect; a power cut loses about as much already, with SQLite's
 * `synchronous = NORMAL`.
 */
export const FLUSH_MS = 20;
const BATCH_MAX = 256;

export interface WriteBehindOptions<Row> {
  /**
   * Writes the rows, in order, in one transaction: synchronously (SQLite: done, or thrown, when it returns), or
   * asynchronously (PostgreSQL: it must write batches in the order it was handed them).
   */
  write: (rows: readonly Row[]) => void | Promise<void>;
  /** A batch that could not be written (it is dropped); without it the error is thrown from the timer. */
  onWriteError?: ((error: unknown, rows: number) => void) | undefined;
  /** While true, rows wait for the timer (SQLite: someone's transaction is open on the shared connection). */
  holding?: () => boolean;
  /** True once nothing can be written any more (the connection closed). */
  closed?: () => boolean;
}

export class WriteBehind<Row> {
  #rows: Row[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Asynchronous writes not finished yet, settled either way (their errors go to whoever flushed them). */
  readonly #writing = new Set<Promise<unknown>>();

  constructor(private readonly options: WriteBehindOptions<Row>) {}

  add(row: Row): void {
    this.#rows.push(row);
    waiting.add(this as WriteBehind<unknown>);
    hookExit();
    if (this.#rows.length >= BATCH_MAX) this.#flushFull();
    else this.#timer ??= setTimeout(() => this.#flushReporting(), FLUSH_MS);
  }

  /**
   * Writes what waits, now; resolved once it and every write begun before it are done. A synchronous writer has
   * written when this returns. @throws (or rejects with) the write's error, the batch dropped (as one failed insert
   * was before).
   */
  flush(): Promise<void> {
    // Inside someone's transaction they would be kept or rolled back with it: they wait for the timer instead.
    if (this.options.holding?.() === true) return this.#settled();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    waiting.delete(this as WriteBehind<unknown>);
    const rows = this.#rows;
    this.#rows = [];
    // Closed under us (a test's cleanup, a shutdown that did not flush first): nothing can be written any more.
    if (rows.length === 0 || this.options.closed?.() === true) return this.#settled();
    const before = this.#settled();
    const written = this.options.write(rows);
    if (written === undefined) return before;
    const settled = written.catch(() => undefined);
    this.#writing.add(settled);
    void settled.then(() => this.#writing.delete(settled));
    return Promise.all([before, written]).then(() => undefined);
  }

  #settled(): Promise<void> {
    return Promise.all([...this.#writing]).then(() => undefined);
  }

  /** A full batch, written as its last entry is recorded: a synchronous writer's error reaches that caller. */
  #flushFull(): void {
    const count = this.#rows.length;
    this.flush().catch((error: unknown) => this.#report(error, count));
  }

  #flushReporting(): void {
    const count = this.#rows.length;
    try {
      this.flush().catch((error: unknown) => this.#report(error, count));
    } catch (error) {
      this.#report(error, count);
    }
  }

  #report(error: unknown, count: number): void {
    if (!this.options.onWriteError) throw error;
    this.options.onWriteError(error, count);
  }

  /** The queue of this connection or pool: the first caller's options write for every AuditLog on it. */
  static of<Row>(connection: object, options: WriteBehindOptions<Row>): WriteBehind<Row> {
    let queue = queues.get(connection) as WriteBehind<Row> | undefined;
    if (!queue) {
      queue = new WriteBehind(options);
      queues.set(connection, queue as WriteBehind<unknown>);
    }
    return queue;
  }
}

const queues = new WeakMap<object, WriteBehind<unknown>>();
/** Queues holding entries: what the exit hook writes. */
const waiting = new Set<WriteBehind<unknown>>();
let exitHooked = false;

function reportAtExit(error: unknown): void {
  process.stderr.write(`audit entries could not be written at exit: ${error instanceof Error ? error.message : String(error)}\n`);
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const queue of [...waiting]) {
      try {
        // Synchronous writers finish here; an asynchronous one cannot any more (see the note at the top).
        queue.flush().catch(reportAtExit);
      } catch (error) {
        reportAtExit(error);
      }
    }
  });
}
