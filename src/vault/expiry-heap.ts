/**
 * The vault's expiry order: a binary min-heap on `expiresAt` that knows where each item sits, so an item closed
 * early is taken out at once (O(log n)) instead of lingering until its time. With one TTL for every session, new
 * items arrive in expiry order and an insert costs O(1); purging the due ones costs O(log n) each, and nothing
 * ever walks every session.
 */

/** What the heap orders. `heapSlot` is the heap's own bookkeeping: -1 when not in a heap. */
export interface Expiring {
  readonly expiresAt: number;
  heapSlot: number;
}

export class ExpiryHeap<T extends Expiring> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    item.heapSlot = this.#items.length;
    this.#items.push(item);
    this.#siftUp(item.heapSlot);
  }

  /** Takes `item` out; a no-op when it is not in this heap. */
  remove(item: T): void {
    const slot = item.heapSlot;
    if (slot < 0 || this.#items[slot] !== item) return;
    const last = this.#items.pop()!;
    item.heapSlot = -1;
    if (last === item) return;
    this.#place(last, slot);
    this.#siftDown(slot);
    this.#siftUp(last.heapSlot);
  }

  /** Takes out and returns the item expiring first if it is due at `now` (expiresAt <= now). */
  popDue(now: number): T | undefined {
    const first = this.#items[0];
    if (first === undefined || first.expiresAt > now) return undefined;
    this.remove(first);
    return first;
  }

  /** Empties the heap, returning what it held. */
  drain(): T[] {
    const items = this.#items.splice(0);
    for (const item of items) item.heapSlot = -1;
    return items;
  }

  #place(item: T, slot: number): void {
    this.#items[slot] = item;
    item.heapSlot = slot;
  }

  #siftUp(start: number): void {
    const items = this.#items;
    const item = items[start]!;
    let slot = start;
    while (slot > 0) {
      const parentSlot = (slot - 1) >> 1;
      const parent = items[parentSlot]!;
      if (parent.expiresAt <= item.expiresAt) break;
      this.#place(parent, slot);
      slot = parentSlot;
    }
    if (slot !== start) this.#place(item, slot);
  }

  #siftDown(start: number): void {
    const items = this.#items;
    const item = items[start];
    if (item === undefined) return;
    let slot = start;
    for (;;) {
      const left = 2 * slot + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && items[right]!.expiresAt < items[left]!.expiresAt ? right : left;
      if (items[child]!.expiresAt >= item.expiresAt) break;
      this.#place(items[child]!, slot);
      slot = child;
    }
    if (slot !== start) this.#place(item, slot);
  }
}
