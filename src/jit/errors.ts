import { UserError } from '../shared/errors.js';
import { command, text } from '../shared/text.js';
import { levelLabel, providerLabel, type PermissionLevel, type Provider } from './levels.js';

/** The member does not hold the level a command needs, right now. */
export class PermissionDenied extends UserError {
  constructor(
    readonly needed: PermissionLevel,
    readonly provider: Provider,
    readonly held: PermissionLevel | null,
  ) {
    const has = held === null ? 'You have no access' : `You have ${levelLabel(held)} access`;
    super(
      'jit.permission_denied',
      text`This needs ${levelLabel(needed)} access to ${providerLabel(provider)}. ${has} to ${providerLabel(provider)}. Ask a server admin for temporary access with ${command('jit.grant', { provider, level: needed })}.`,
    );
  }
}

/** A grant request that cannot be accepted as given (bad duration, self-grant, bot, malformed input). */
export class InvalidGrant extends UserError {}

export class GrantNotFound extends UserError {
  constructor(grantId: number) {
    super('jit.not_found', text`There is no JIT grant #${grantId} in this server. Use ${command('jit.list')} to see the active ones.`);
  }
}

export class GrantNotActive extends UserError {
  constructor(grantId: number, why: 'revoked' | 'expired') {
    super('jit.not_active', `JIT grant #${grantId} has already ${why === 'revoked' ? 'been revoked' : 'expired'}; nothing to revoke.`);
  }
}
