import { UserError } from '../shared/errors.js';

/** A policy update was refused; lists every problem and what is allowed. */
export class InvalidPolicy extends UserError {
  constructor(readonly problems: string[]) {
    super('policy.invalid', `Those policy settings were not saved:\n${problems.map((p) => `• ${p}`).join('\n')}`);
  }
}

/** The deployment request itself is malformed (not a policy violation). */
export class InvalidDeploymentRequest extends UserError {
  constructor(problems: string[]) {
    super('policy.invalid_request', `That deployment request is not valid: ${problems.join('; ')}.`);
  }
}
