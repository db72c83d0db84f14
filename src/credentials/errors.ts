/**
 * Errors a member or an operator can cause around cloud credentials. Every message says what was wrong and what to
 * do, and none contains a secret: field names, credential names and key ids only.
 */
import { UserError } from '../shared/errors.js';
import { code, command, text } from '../shared/text.js';
import { withArticle } from '../shared/article.js';

/** Secret material for a provider is missing fields or has malformed ones. */
export class InvalidCredentialSecrets extends UserError {
  constructor(
    readonly provider: string,
    readonly problems: string[],
  ) {
    super(
      'credentials.invalid_secrets',
      `The ${provider} credential is not usable: ${problems.join('; ')}. Enter the missing or corrected fields and try again.`,
    );
  }
}

/** Name, region, endpoint or another non-secret detail of a credential is malformed. */
export class InvalidCredentialInput extends UserError {
  constructor(readonly problems: string[]) {
    super('credentials.invalid_input', `The credential details are not valid: ${problems.join('; ')}.`);
  }
}

export class MasterKeyMissing extends UserError {
  constructor() {
    super(
      'credentials.master_key_missing',
      text`Stored credentials need CREDENTIALS_MASTER_KEY (32 random bytes, base64: ${code('openssl rand -base64 32')}) in the bot's configuration. Ask the operator to set it, or use an ephemeral credential for this run.`,
    );
  }
}

/** CREDENTIALS_PREVIOUS_MASTER_KEYS (or the current key id) is malformed: an operator error caught at start-up. */
export class MasterKeyConfigInvalid extends UserError {
  constructor(problem: string) {
    super('credentials.master_key_config', `Master key configuration is invalid: ${problem}.`);
  }
}

/**
 * A stored credential could not be decrypted: the master key is wrong, the key that encrypted it is no longer
 * configured, or the row was altered or copied. Never decrypted into garbage.
 */
export class CredentialUnreadable extends UserError {
  constructor(
    readonly credentialName: string,
    reason: string,
  ) {
    super(
      'credentials.unreadable',
      text`The stored credential '${credentialName}' cannot be read: ${reason}. Ask the operator to check the master key configuration, or remove the credential and store it again.`,
    );
  }
}

export class CredentialNotFound extends UserError {
  constructor(readonly credentialName: string) {
    super(
      'credentials.not_found',
      text`There is no stored credential named '${credentialName}' in this server. List them with ${command('credentials.list')}.`,
    );
  }
}

export class CredentialNameTaken extends UserError {
  constructor(readonly credentialName: string) {
    super(
      'credentials.name_taken',
      text`A stored credential named '${credentialName}' already exists in this server. Pick another name or remove it first.`,
    );
  }
}

/** A credential of one provider was asked for where another provider is needed. */
export class CredentialProviderMismatch extends UserError {
  constructor(credentialName: string, actual: string, wanted: string) {
    super(
      'credentials.provider_mismatch',
      text`The stored credential '${credentialName}' is for ${actual}, but this needs ${withArticle(wanted)} credential.`,
    );
  }
}

export class NoCredentialAvailable extends UserError {
  constructor(provider: string, storedNames: string[]) {
    const stored =
      storedNames.length > 0
        ? text` This server has stored ${provider} credentials (${storedNames.join(', ')}) but none is the default: name one for this run or make one the default with ${command('credentials.default')}.`
        : undefined;
    super(
      'credentials.none_available',
      text`No ${provider} credential is available for this run.${stored} The options are: (1) enter credentials for this session with ${command('init')} (a private form; kept in memory only, until the session expires); (2) store a credential with ${command('credentials.add')} (encrypted at rest) and make it the default; (3) use the service's own credentials, if the operator has allowed this server.`,
    );
  }
}

export class ServiceCredentialsNotAllowed extends UserError {
  constructor() {
    super(
      'credentials.service_not_allowed',
      "This server may not use the service's own cloud credentials. Use an ephemeral or stored credential, " +
        'or ask the operator to add this server to SERVICE_CREDENTIALS_GUILDS.',
    );
  }
}

export class ServiceCredentialsUnavailable extends UserError {
  constructor(provider: string) {
    super(
      'credentials.service_unavailable',
      `The service has no ${provider} credentials configured. Use an ephemeral or stored credential instead.`,
    );
  }
}

/** The service credential variables or SERVICE_CREDENTIALS_GUILDS are malformed: an operator error caught at start-up. */
export class ServiceCredentialsConfigInvalid extends UserError {
  constructor(problem: string) {
    super('credentials.service_config', `Service credential configuration is invalid: ${problem}.`);
  }
}
