/**
 * Where an engine writes its stdout and stderr: two files, not pipes. A pipe dies with the bot, and Terraform
 * (a Go program) is killed by SIGPIPE at its next write to a pipe nobody reads, so after kill -9 of the bot the
 * engine would die mid-step, its state lock left behind, instead of stopping gracefully on its parent-death SIGINT
 * (see death-signal.ts). A file always takes the write. The bot follows the files as they grow.
 *
 * The files are removed from the folder as soon as they are opened: they live on as long as the engine or the bot
 * holds them, so nothing of the engine's output stays on disk and nothing is left behind by a crash.
 */
import { closeSync, constants, openSync, readSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

const POLL_MS = 40;
const CHUNK_BYTES = 64 * 1024;

let counter = 0;

/** An unlinked file open for reading and appending, owner-only. */
function anonymousFile(dir: string, label: string): number {
  const path = join(dir, `.engine-${label}-${process.pid}-${++counter}`);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND, 0o600);
  unlinkSync(path);
  return fd;
}

/** Reads one file from where it was last read, handing on complete lines (or raw text). */
class Follower {
  #position = 0;
  readonly #decoder = new StringDecoder('utf8');
  readonly #buffer = Buffer.alloc(CHUNK_BYTES);

  constructor(
    readonly fd: number,
    private readonly onText: (text: string) => void,
  ) {}

  /** Everything written since the last call. */
  drain(): void {
    for (;;) {
      const read = readSync(this.fd, this.#buffer, 0, CHUNK_BYTES, this.#position);
      if (read === 0) return;
      this.#position += read;
      this.onText(this.#decoder.write(this.#buffer.subarray(0, read)));
    }
  }

  end(): void {
    this.drain();
    const rest = this.#decoder.end();
    if (rest) this.onText(rest);
  }

  /** For line-wise consumers: splits text into lines, keeping a partial last line for the next call. */
  static lines(onLine: (line: string) => void): { onText: (text: string) => void; flush: () => void } {
    let pending = '';
    return {
      onText: (text) => {
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      },
      flush: () => {
        if (pending) onLine(pending);
        pending = '';
      },
    };
  }
}

export class EngineOutputFiles {
  readonly stdoutFd: number;
  readonly stderrFd: number;
  readonly #stdout: Follower;
  readonly #stderr: Follower;
  readonly #flushLines: () => void;

  /** Opens the two files in `dir` (the engine's working folder). */
  constructor(dir: string, handlers: { onStdoutLine: (line: string) => void; onStderr: (text: string) => void }) {
    const lines = Follower.lines(handlers.onStdoutLine);
    this.#flushLines = lines.flush;
    this.stdoutFd = anonymousFile(dir, 'stdout');
    try {
      this.stderrFd = anonymousFile(dir, 'stderr');
    } catch (error) {
      closeSync(this.stdoutFd);
      throw error;
    }
    this.#stdout = new Follower(this.stdoutFd, lines.onText);
    this.#stderr = new Follower(this.stderrFd, handlers.onStderr);
  }

  /** Hands on output as it is written until `exited` settles, then the rest; closes the files. */
  async follow(exited: Promise<unknown>): Promise<void> {
    let done = false;
    const settled = exited.then(
      () => (done = true),
      () => (done = true),
    );
    try {
      while (!done) {
        this.#stdout.drain();
        this.#stderr.drain();
        await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, POLL_MS))]);
      }
      this.#stdout.end();
      this.#stderr.end();
      this.#flushLines();
    } finally {
      this.close();
    }
  }

  close(): void {
    for (const fd of [this.stdoutFd, this.stderrFd]) {
      try {
        closeSync(fd);
      } catch {
        // Already closed.
      }
    }
  }
}
