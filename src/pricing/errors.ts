import { UserError } from '../shared/errors.js';
import { escapeMarkdown } from '../shared/member-text.js';

export class UnknownInstanceType extends UserError {
  constructor(provider: string, instanceType: string, known: readonly string[]) {
    super(
      'pricing.unknown_instance_type',
      `"${escapeMarkdown(instanceType)}" is not an instance type this bot knows for ${provider.toUpperCase()}. Choose one of: ${known.join(', ')}.`,
    );
  }
}

export class InvalidEstimateRequest extends UserError {
  constructor(problem: string) {
    super('pricing.invalid_request', `Cannot estimate that: ${problem}.`);
  }
}

/** The operator's overrides file is unreadable or wrong. Raised at start-up; names the file and the field. */
export class PricingOverridesError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`PRICING_OVERRIDES_FILE ${file} is not a valid pricing file:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PricingOverridesError';
  }
}
