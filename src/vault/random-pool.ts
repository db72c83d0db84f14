/**
 * Random bytes drawn from the CSPRNG a few kilobytes at a time and handed out in small pieces: one `randomFillSync`
 * costs a few microseconds whatever its size, which at one call per vault session was a fifth of the cost of
 * opening one. Node's own `crypto.randomUUID` keeps a pool the same way. Bytes handed out are zeroed in the pool at
 * once, so the pool only ever holds bytes nobody has used yet, never a live key.
 */
import { randomFillSync } from 'node:crypto';

export class RandomPool {
  readonly #pool: Buffer;
  #at: number;

  constructor(bytes = 4096) {
    this.#pool = Buffer.allocUnsafeSlow(bytes);
    this.#at = bytes;
  }

  /** Writes `length` fresh random bytes into `target` at `offset`. */
  fill(target: Buffer, offset: number, length: number): void {
    if (length > this.#pool.length) {
      randomFillSync(target, offset, length);
      return;
    }
    if (this.#at + length > this.#pool.length) {
      randomFillSync(this.#pool);
      this.#at = 0;
    }
    this.#pool.copy(target, offset, this.#at, this.#at + length);
    this.#pool.fill(0, this.#at, this.#at + length);
    this.#at += length;
  }
}
