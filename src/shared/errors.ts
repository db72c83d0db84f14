/**
 * An error whose message is written for the person who caused it: what was wrong and what to do.
 * The front end shows `message` as it is; anything that is not a UserError becomes a generic reply with an error id.
 * Messages must never contain a secret.
 */
export class UserError extends Error {
  constructor(
    /** A stable identifier, for logs and tests (e.g. `vault.expired`). */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
