/**
 * Keeps the best `capacity` items seen in a stream, in O(capacity) memory: a min-heap whose root is the worst item
 * kept, replaced whenever a better one arrives.
 */
export class TopN<T> {
  private readonly heap: T[] = [];

  /** `better(a, b)` is true when a ranks above b. */
  constructor(
    private readonly capacity: number,
    private readonly better: (a: T, b: T) => boolean,
  ) {}

  offer(item: T): void {
    if (this.capacity <= 0) return;
    if (this.heap.length < this.capacity) {
      this.heap.push(item);
      this.siftUp(this.heap.length - 1);
      return;
    }
    const worst = this.heap[0];
    if (worst !== undefined && this.better(item, worst)) {
      this.heap[0] = item;
      this.siftDown(0);
    }
  }

  get size(): number {
    return this.heap.length;
  }

  /** The kept items, best first. */
  sorted(): T[] {
    return [...this.heap].sort((a, b) => (this.better(a, b) ? -1 : this.better(b, a) ? 1 : 0));
  }

  /** Heap order: a parent is never better than its children. */
  private outranks(i: number, j: number): boolean {
    return this.better(this.heap[i] as T, this.heap[j] as T);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i] as T;
    this.heap[i] = this.heap[j] as T;
    this.heap[j] = a;
  }

  private siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.outranks(parent, i)) return;
      this.swap(parent, i);
      i = parent;
    }
  }

  private siftDown(index: number): void {
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < this.heap.length && this.outranks(worst, left)) worst = left;
      if (right < this.heap.length && this.outranks(worst, right)) worst = right;
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }
}
