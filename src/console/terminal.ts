/**
 * The console's line I/O over node:readline: prints without garbling what the user is typing, and reads secret
 * answers without echo (the typed characters go to a muted stream while a secret is being typed) and without
 * keeping them in readline's history.
 */
import { Writable, type Readable } from 'node:stream';
import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';

export type Completer = (line: string) => Promise<[string[], string]>;

interface TtyLike {
  isTTY?: boolean;
  columns?: number;
}

/** Forwards readline's echo to the real output unless muted. */
class MutableOutput extends Writable {
  muted = false;

  constructor(private readonly target: NodeJS.WritableStream & TtyLike) {
    super();
  }

  get columns(): number {
    return this.target.columns ?? 80;
  }

  get isTTY(): boolean {
    return Boolean(this.target.isTTY);
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.muted) this.target.write(chunk);
    callback();
  }
}

export interface TerminalOptions {
  input: Readable;
  output: NodeJS.WritableStream & TtyLike;
  completer?: Completer;
  /** Called on Ctrl-C when the input is a terminal (readline swallows the signal in raw mode). */
  onInterrupt?: () => void;
}

export class ConsoleTerminal {
  /** Whether a person is typing at a terminal (prompts, redraws, echo) or lines come from a pipe or a test. */
  readonly interactive: boolean;
  private readonly echo: MutableOutput;
  private readonly readline: Interface;
  private readonly output: NodeJS.WritableStream & TtyLike;
  private secretActive = false;
  private secretLabel = '';
  private closed = false;
  private promptText = '> ';

  constructor(options: TerminalOptions) {
    this.output = options.output;
    this.interactive = Boolean((options.input as TtyLike).isTTY && options.output.isTTY);
    this.echo = new MutableOutput(options.output);
    const completer = options.completer;
    this.readline = createInterface({
      input: options.input,
      output: this.echo,
      terminal: this.interactive,
      historySize: 100,
      removeHistoryDuplicates: true,
      completer: completer
        ? (line: string, callback: (error: Error | null, result: [string[], string]) => void) => {
            completer(line).then(
              (result) => callback(null, result),
              () => callback(null, [[], line]),
            );
          }
        : undefined,
    });
    // A secret must never stay in the history the up arrow walks through; readline lets a listener edit it.
    this.readline.on('history', (history: string[]) => {
      if (this.secretActive) history.splice(0, 1);
    });
    this.readline.on('SIGINT', () => options.onInterrupt?.());
    this.readline.on('close', () => {
      this.closed = true;
    });
  }

  lines(): AsyncIterable<string> {
    return this.readline;
  }

  /** The commands typed so far that readline keeps for the up arrow (secrets are never among them). */
  history(): readonly string[] {
    return (this.readline as Interface & { history?: string[] }).history ?? [];
  }

  /** Writes text above the line being typed, then redraws the prompt and what was typed. */
  print(text: string): void {
    if (this.closed && !this.output.writable) return;
    if (!this.interactive) {
      this.output.write(text.endsWith('\n') ? text : `${text}\n`);
      return;
    }
    clearLine(this.output, 0);
    cursorTo(this.output, 0);
    this.output.write(text.endsWith('\n') ? text : `${text}\n`);
    // While a secret is typed the echo is muted, so readline's redraw would not show the label: write it here.
    if (this.secretActive) this.output.write(this.secretLabel);
    else if (!this.closed) this.readline.prompt(true);
  }

  setPrompt(text: string): void {
    this.promptText = text;
    if (!this.secretActive) this.readline.setPrompt(text);
  }

  /** Shows the prompt for the next command (only at a terminal: piped transcripts stay clean). */
  prompt(): void {
    if (this.interactive && !this.closed && !this.secretActive) this.readline.prompt();
  }

  /** The next line the user types is a secret: show the label, then stop echoing and stop recording history. */
  beginSecret(label: string): void {
    this.secretActive = true;
    this.secretLabel = label;
    if (this.interactive) {
      this.readline.setPrompt(label);
      this.readline.prompt();
    } else {
      this.output.write(label);
    }
    this.echo.muted = true;
  }

  endSecret(): void {
    this.echo.muted = false;
    this.secretActive = false;
    this.readline.setPrompt(this.promptText);
    // The Enter key's newline was muted too.
    this.output.write('\n');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.readline.close();
  }
}
