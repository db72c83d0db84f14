import type { UserError } from '../shared/errors.js';
import type { Logger } from './logger.js';

/**
 * A refusal only the bot's operator can fix (an engine that cannot download its providers) is also written to the
 * log, at warn, with what to do: the member is told to ask the operator, and this is where the operator looks.
 */
export function logOperatorNote(logger: Logger | undefined, error: UserError, bindings: Record<string, unknown> = {}): void {
  const note = error.operatorNote;
  if (note) logger?.warn({ ...bindings, code: error.code, operatorNote: note }, 'refused for a reason only the operator can fix');
}
