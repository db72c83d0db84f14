/**
 * How much of an engine's output the bot will hold. An engine (or a provider plugin speaking through it) is not
 * trusted to be well-behaved: one 512 MB line, read whole, would exceed V8's string limit and crash the bot. So
 * output is read as bytes and split here, never holding more than a fixed amount of one line; a longer line is
 * dropped and counted, and collected output (`show -json`) stops at a generous cap the caller turns into a clear
 * failure.
 */

/**
 * The longest `-json` stream line kept. The engines' own messages are a few KB; the largest legitimate line is the
 * final `outputs` message, which carries every output value.
 */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

/** The most stdout kept for a command whose whole output is one JSON document (`show -json`, `output -json`). */
export const MAX_COLLECTED_BYTES = 32 * 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits a byte stream into lines (LF or CRLF). A line longer than `maxLineBytes` is skipped as it arrives — its
 * bytes are dropped, not buffered — and counted in `overlong`. Splitting on the LF byte is safe for UTF-8, whose
 * multi-byte sequences never contain it.
 */
export class BoundedLineSplitter {
  /** Lines skipped because they were longer than the limit. */
  overlong = 0;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #skipping = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineBytes: number = MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) {
        this.#hold(chunk.subarray(start));
        return;
      }
      if (this.#pendingBytes === 0 && !this.#skipping) {
        // The common case: a whole line inside one chunk, decoded without copying.
        if (newline - start > this.maxLineBytes) this.overlong++;
        else this.#emit(chunk.subarray(start, newline));
      } else {
        this.#hold(chunk.subarray(start, newline));
        this.#endLine();
      }
      start = newline + 1;
    }
  }

  /** The stream ended: a last line without a newline is still a line. */
  end(): void {
    if (this.#pendingBytes > 0 || this.#skipping) this.#endLine();
  }

  #hold(piece: Buffer): void {
    if (this.#skipping || piece.length === 0) return;
    if (this.#pendingBytes + piece.length > this.maxLineBytes) {
      this.#skipping = true;
      this.#pending = [];
      this.#pendingBytes = 0;
      return;
    }
    // A copy, so a small tail does not keep its whole (up to 64 KB) read buffer alive.
    this.#pending.push(Buffer.from(piece));
    this.#pendingBytes += piece.length;
  }

  #endLine(): void {
    if (this.#skipping) this.overlong++;
    else this.#emit(Buffer.concat(this.#pending, this.#pendingBytes));
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#skipping = false;
  }

  #emit(bytes: Buffer): void {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.length - 1 : bytes.length;
    this.onLine(bytes.toString('utf8', 0, end));
  }
}

/** Keeps a stream's bytes up to `maxBytes`; past that it keeps nothing more and says so (`overflowed`). */
export class BoundedCollector {
  overflowed = false;
  #chunks: Buffer[] = [];
  #bytes = 0;

  constructor(readonly maxBytes: number = MAX_COLLECTED_BYTES) {}

  push(chunk: Buffer): void {
    if (this.overflowed) return;
    if (this.#bytes + chunk.length > this.maxBytes) {
      this.overflowed = true;
      this.#chunks = [];
      this.#bytes = 0;
      return;
    }
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
  }

  /** Everything kept, as text; empty once overflowed. */
  text(): string {
    return Buffer.concat(this.#chunks, this.#bytes).toString('utf8');
  }
}

/** "32 MB", for messages. */
export function megabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}
