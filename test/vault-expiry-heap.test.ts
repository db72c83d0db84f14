import { describe, expect, it } from 'vitest';
import { ExpiryHeap, type Expiring } from '../src/vault/expiry-heap.js';

interface Item extends Expiring {
  readonly name: number;
}

/** A small deterministic generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('the vault expiry heap', () => {
  it('gives back exactly the due items, soonest first, whatever order they came in and whichever were removed', () => {
    const random = lcg(42);
    const heap = new ExpiryHeap<Item>();
    const live = new Set<Item>();
    for (let i = 0; i < 2_000; i++) {
      const item: Item = { name: i, expiresAt: Math.floor(random() * 500), heapSlot: -1 };
      heap.push(item);
      live.add(item);
      if (random() < 0.3) {
        const victims = [...live];
        const victim = victims[Math.floor(random() * victims.length)]!;
        heap.remove(victim);
        live.delete(victim);
        expect(victim.heapSlot).toBe(-1);
      }
    }
    expect(heap.size).toBe(live.size);
    const popped: Item[] = [];
    for (let item = heap.popDue(250); item; item = heap.popDue(250)) popped.push(item);
    const expected = [...live].filter((item) => item.expiresAt <= 250).map((item) => item.expiresAt).sort((a, b) => a - b);
    expect(popped.map((item) => item.expiresAt)).toEqual(expected);
    expect(heap.size).toBe(live.size - expected.length);
    expect(heap.popDue(250)).toBeUndefined();
  });

  it('ignores removing an item twice or one it never held', () => {
    const heap = new ExpiryHeap<Item>();
    const a: Item = { name: 1, expiresAt: 10, heapSlot: -1 };
    const b: Item = { name: 2, expiresAt: 20, heapSlot: -1 };
    heap.push(a);
    heap.remove(a);
    heap.remove(a);
    heap.remove(b);
    heap.push(b);
    expect(heap.size).toBe(1);
    expect(heap.popDue(100)).toBe(b);
    expect(heap.drain()).toEqual([]);
  });
});
