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

/** Reads one file from where it was last read, handing on what was written since as a fresh buffer. */
class Follower {
  #position = 0;
  readonly #buffer = Buffer.alloc(CHUNK_BYTES);

  constructor(
    readonly fd: number,
    private readonly onChunk: (chunk: Buffer) => void,
  ) {}

  /** Everything written since the last call. */
  drain(): void {
    for (;;) {
      const read = readSync(this.fd, this.#buffer, 0, CHUNK_BYTES, this.#position);
      if (read === 0) return;
      this.#position += read;
      // A copy: consumers may hold on to a partial line, and the read buffer is reused.
      this.onChunk(Buffer.from(this.#buffer.subarray(0, read)));
    }
  }
}

export interface OutputHandlers {
  /** Raw stdout bytes as they are written (see output-limits.ts for reading them bounded). */
  onStdout: (chunk: Buffer) => void;
  /** Stdout is complete: the engine exited and everything it wrote was handed on. */
  onStdoutEnd: () => void;
  /** Stderr as text. */
  onStderr: (text: string) => void;
}

export class EngineOutputFiles {
  readonly stdoutFd: number;
  readonly stderrFd: number;
  readonly #stdout: Follower;
  readonly #stderr: Follower;
  readonly #stderrDecoder = new StringDecoder('utf8');
  readonly #handlers: OutputHandlers;

  /** Opens the two files in `dir` (the engine's working folder). */
  constructor(dir: string, handlers: OutputHandlers) {
    this.#handlers = handlers;
    this.stdoutFd = anonymousFile(dir, 'stdout');
    try {
      this.stderrFd = anonymousFile(dir, 'stderr');
    } catch (error) {
      closeSync(this.stdoutFd);
      throw error;
    }
    this.#stdout = new Follower(this.stdoutFd, handlers.onStdout);
    this.#stderr = new Follower(this.stderrFd, (chunk) => handlers.onStderr(this.#stderrDecoder.write(chunk)));
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
      this.#stdout.drain();
      this.#stderr.drain();
      this.#handlers.onStdoutEnd();
      const rest = this.#stderrDecoder.end();
      if (rest) this.#handlers.onStderr(rest);
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
