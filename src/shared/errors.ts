import { plain, type RichText } from './text.js';

/**
 * An error whose message is written for the person who caused it: what was wrong and what to do.
 * `text` is what the member reads, as rich text (members, times, commands typed; each front end renders them);
 * `message` is its plain rendering, for logs. Anything that is not a UserError becomes a generic reply with an error id.
 * Messages must never contain a secret.
 */
export class UserError extends Error {
  /** What the member reads. */
  readonly text: RichText;

  constructor(
    /** A stable identifier, for logs and tests (e.g. `vault.expired`). */
    readonly code: string,
    text: RichText,
  ) {
    // A refusal is an expected answer, not a fault: where it was thrown tells nobody anything, and capturing the
    // stack was the dearest part of refusing a command (a few µs, more on a busy loop). Its `code` identifies it.
    const message = plain(text);
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.text = text;
    this.name = new.target.name;
  }

  /** What the bot's operator must do about it, when only the operator can (logged at warn; the member never sees it). */
  get operatorNote(): string | undefined {
    return undefined;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
