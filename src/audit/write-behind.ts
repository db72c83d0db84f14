/**
 * Audit entries recorded outside a transaction wait here for at most FLUSH_MS (or until BATCH_MAX of them wait) and
 * are written together, in one transaction. A commit of its own per entry was most of what a refused command cost
 * the bot beyond discord.js: a dozen page writes to the WAL and its locks, for one row (docs/performance.md).
 *
 * One queue per connection, so every AuditLog on it, and every read through one, sees the same entries: a read
 * writes what waits first. What waits is written at the latest when the process exits (an 'exit' hook, so
 * `process.exit()` and a fatal error included) or when `flush` is called (at shutdown, before the connection
 * closes). Only a process killed outright (SIGKILL, a crash of node itself) loses the last FLUSH_MS of entries; a
 * power cut loses about as much already, with `synchronous = NORMAL`.
 */
import type Database from 'better-sqlite3';

export const FLUSH_MS = 20;
const BATCH_MAX = 256;

export interface WriteBehindOptions<Row> {
  /** Writes the rows, in order, in one transaction. */
  write: (rows: readonly Row[]) => void;
  /** A batch that could not be written (it is dropped); without it the error is thrown from the timer. */
  onWriteError?: ((error: unknown, rows: number) => void) | undefined;
}

export class WriteBehind<Row> {
  #rows: Row[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: Database.Database,
    private readonly options: WriteBehindOptions<Row>,
  ) {}

  add(row: Row): void {
    this.#rows.push(row);
    waiting.add(this as WriteBehind<unknown>);
    hookExit();
    if (this.#rows.length >= BATCH_MAX) this.flush();
    else this.#timer ??= setTimeout(() => this.#flushReporting(), FLUSH_MS);
  }

  /** Writes what waits, now. @throws the write's error, the batch dropped (as one failed insert was before). */
  flush(): void {
    // Inside someone's transaction they would be kept or rolled back with it: they wait for the timer instead.
    if (this.connection.inTransaction) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    waiting.delete(this as WriteBehind<unknown>);
    const rows = this.#rows;
    if (rows.length === 0) return;
    this.#rows = [];
    // Closed under us (a test's cleanup, a shutdown that did not flush first): nothing can be written any more.
    if (!this.connection.open) return;
    this.options.write(rows);
  }

  #flushReporting(): void {
    const count = this.#rows.length;
    try {
      this.flush();
    } catch (error) {
      if (!this.options.onWriteError) throw error;
      this.options.onWriteError(error, count);
    }
  }

  /** The queue of this connection: the first caller's options write for every AuditLog on it. */
  static of<Row>(connection: Database.Database, options: WriteBehindOptions<Row>): WriteBehind<Row> {
    let queue = queues.get(connection) as WriteBehind<Row> | undefined;
    if (!queue) {
      queue = new WriteBehind(connection, options);
      queues.set(connection, queue as WriteBehind<unknown>);
    }
    return queue;
  }
}

const queues = new WeakMap<Database.Database, WriteBehind<unknown>>();
/** Queues holding entries: what the exit hook writes. */
const waiting = new Set<WriteBehind<unknown>>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const queue of [...waiting]) {
      try {
        queue.flush();
      } catch (error) {
        process.stderr.write(`audit entries could not be written at exit: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  });
}
