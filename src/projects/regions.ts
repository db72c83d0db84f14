import type { Provider } from '../db/schema.js';
import { InvalidRegion } from './errors.js';

/** Region name shapes by provider: loose enough for new regions, strict enough to keep out anything else. */
const REGION_RULES: Record<Provider, { pattern: RegExp; examples: string }> = {
  // us-central1, europe-west4, northamerica-northeast2, me-central2
  gcp: { pattern: /^[a-z]+-[a-z]+\d{1,2}$/, examples: 'us-central1 or europe-west4' },
  // us-east-1, ap-southeast-2, us-gov-west-1, eu-central-2
  aws: { pattern: /^[a-z]{2}(-[a-z]+){1,2}-\d{1,2}$/, examples: 'us-east-1 or eu-west-2' },
  // eastus, westeurope, eastus2, southcentralus ("East US" is accepted and normalised)
  azure: { pattern: /^[a-z]+[a-z0-9]*$/, examples: 'eastus or westeurope' },
};

/** What is wrong with a region name for this provider, for an option validator; undefined when it is fine. */
export function regionProblem(provider: Provider, region: string): string | undefined {
  try {
    normaliseRegion(provider, region);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidRegion) return error.message;
    throw error;
  }
}

/**
 * The region as the provider's Terraform provider expects it; Azure display names ("East US") are folded
 * to their programmatic form ("eastus").
 * @throws InvalidRegion naming examples of valid regions for the provider.
 */
export function normaliseRegion(provider: Provider, region: string): string {
  const trimmed = region.trim();
  const candidate = provider === 'azure' ? trimmed.toLowerCase().replace(/\s+/g, '') : trimmed;
  const rule = REGION_RULES[provider];
  if (candidate.length > 40 || !rule.pattern.test(candidate)) {
    // eslint-disable-next-line no-control-regex
    throw new InvalidRegion(provider, trimmed.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 40), rule.examples);
  }
  return candidate;
}
