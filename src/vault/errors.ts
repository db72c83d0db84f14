import { UserError } from '../shared/errors.js';
import { command, duration, text } from '../shared/text.js';

/**
 * No such session for this guild. Also what a session of another guild looks like from here: the two cases
 * are indistinguishable on purpose, so a session id cannot be probed across guilds.
 */
export class VaultSessionNotFound extends UserError {
  constructor() {
    super(
      'vault.not_found',
      text`That vault session does not exist (it may have been closed, or the bot restarted). Run ${command('init')} again to enter your project details.`,
    );
  }
}

export class VaultSessionExpired extends UserError {
  constructor(ttlMinutes: number) {
    super(
      'vault.expired',
      text`That vault session has expired (sessions last ${duration(ttlMinutes * 60_000)}) and its contents were erased. Run ${command('init')} again to enter your project details.`,
    );
  }
}

export class VaultLimitReached extends UserError {
  constructor(max: number) {
    super(
      'vault.limit',
      `This server already has ${max} open vault sessions, the most allowed at once. Close one you no longer need, or wait for old ones to expire, then try again.`,
    );
  }
}

/** The data handed to the vault is not a small map of named strings. The message never repeats a value. */
export class InvalidVaultSecrets extends UserError {
  constructor(problem: string) {
    super('vault.invalid_secrets', `Those details cannot be stored in the vault: ${problem}.`);
  }
}

/** Stored ciphertext did not authenticate. The session has been erased; the user must enter the details again. */
export class VaultSessionCorrupted extends UserError {
  constructor() {
    super(
      'vault.corrupted',
      text`That vault session could not be decrypted and has been erased. Run ${command('init')} again to enter your project details.`,
    );
  }
}
