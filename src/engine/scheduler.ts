/**
 * When a run may start, in this process: at most `maxConcurrent` engine runs at once (engines run on this host's
 * cores). Runs waiting for a slot queue FIFO per guild, and guilds are served round-robin, so one guild with many
 * queued runs cannot hold back another guild's single run. A waiting run hears its position in its own guild's
 * queue, never a figure that counts other guilds' runs. Which run holds a workspace is not decided here but in the
 * database, across processes (workspace-leases.ts).
 */
export class QueueWaitAborted extends Error {
  constructor() {
    super('the run was cancelled while it waited for a slot');
    this.name = 'QueueWaitAborted';
  }
}

export class SchedulerClosed extends Error {
  constructor() {
    super('the scheduler is closed');
    this.name = 'SchedulerClosed';
  }
}

interface Waiter {
  guildId: string;
  grant: (release: () => void) => void;
  fail: (error: Error) => void;
  onPosition?: (position: number) => void;
  lastPosition?: number;
}

export class RunScheduler {
  readonly #queues = new Map<string, Waiter[]>();
  /** Guilds with waiting runs, in the order they will next be served. */
  readonly #ring: string[] = [];
  #running = 0;
  #closed = false;

  constructor(readonly maxConcurrent: number) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new RangeError('maxConcurrent must be a positive integer');
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    let n = 0;
    for (const queue of this.#queues.values()) n += queue.length;
    return n;
  }

  /**
   * Waits for an engine slot. `onPosition` hears the 1-based queue position when the run has to wait and again
   * whenever it changes. Resolves with the slot's release function (call it exactly when the run ends).
   */
  acquireSlot(guildId: string, options: { onPosition?: (position: number) => void; signal?: AbortSignal } = {}): Promise<() => void> {
    if (this.#closed) return Promise.reject(new SchedulerClosed());
    if (options.signal?.aborted) return Promise.reject(new QueueWaitAborted());
    if (this.#running < this.maxConcurrent && this.queued === 0) return Promise.resolve(this.#take());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        guildId,
        grant: (release) => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        fail: (error) => {
          options.signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        ...(options.onPosition ? { onPosition: options.onPosition } : {}),
      };
      const onAbort = (): void => {
        if (this.#remove(waiter)) {
          waiter.fail(new QueueWaitAborted());
          this.#reportPositions();
        }
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      let queue = this.#queues.get(guildId);
      if (!queue) {
        queue = [];
        this.#queues.set(guildId, queue);
        this.#ring.push(guildId);
      }
      queue.push(waiter);
      this.#reportPositions();
    });
  }

  /** Refuses new work and fails every waiting run with SchedulerClosed. Running slots are released as usual. */
  close(): void {
    this.#closed = true;
    const waiting = [...this.#queues.values()].flat();
    this.#queues.clear();
    this.#ring.length = 0;
    for (const waiter of waiting) waiter.fail(new SchedulerClosed());
  }

  #take(): () => void {
    this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#serveNext();
    };
  }

  #serveNext(): void {
    while (this.#running < this.maxConcurrent && this.#ring.length > 0) {
      const guildId = this.#ring.shift() as string;
      const queue = this.#queues.get(guildId) ?? [];
      const waiter = queue.shift();
      if (queue.length > 0) this.#ring.push(guildId);
      else this.#queues.delete(guildId);
      if (waiter) waiter.grant(this.#take());
    }
    this.#reportPositions();
  }

  #remove(waiter: Waiter): boolean {
    const queue = this.#queues.get(waiter.guildId);
    const index = queue?.indexOf(waiter) ?? -1;
    if (!queue || index === -1) return false;
    queue.splice(index, 1);
    if (queue.length === 0) {
      this.#queues.delete(waiter.guildId);
      this.#ring.splice(this.#ring.indexOf(waiter.guildId), 1);
    }
    return true;
  }

  /**
   * Tells each waiting run its position among its own guild's waiting runs. Only those: a position counted across
   * guilds would tell a guild how many runs the others have queued.
   */
  #reportPositions(): void {
    for (const queue of this.#queues.values()) {
      queue.forEach((waiter, index) => {
        const position = index + 1;
        if (waiter.lastPosition === position) return;
        waiter.lastPosition = position;
        try {
          waiter.onPosition?.(position);
        } catch {
          // A listener's failure must not stall the queue.
        }
      });
    }
  }
}
