/**
 * Monthly cost estimates from the built-in price list (prices.ts), optionally corrected or extended by an operator's
 * JSON file (config PRICING_OVERRIDES_FILE). Shape of that file, every part optional:
 *
 *   { "asOf": "2026-01", "source": "our negotiated rates",
 *     "providers": { "aws": { "instances": { "t3.nano": 3.8 }, "diskPerGbMonthUsd": 0.08,
 *                             "bucket": { "baseMonthlyUsd": 0, "perGbMonthUsd": 0.023 } } } }
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PROVIDERS, RESOURCE_TYPES, type Provider, type ResourceType } from '../db/schema.js';
import { instanceTypeSchema } from '../shared/instance-type.js';
import { InvalidEstimateRequest, PricingOverridesError, UnknownInstanceType } from './errors.js';
import { jsonErrorLocation } from '../shared/json-location.js';
import { INSTANCE_SPECS, type InstanceSpec } from './instance-specs.js';
import { BUILT_IN_PRICES, type PriceTable, type ProviderPrices } from './prices.js';

/** One instance type as the catalogue knows it: its price, and its size when the catalogue has it. */
export interface InstanceOffer {
  instanceType: string;
  monthlyUsd: number;
  spec?: InstanceSpec;
}

export interface CostLine {
  label: string;
  monthlyUsd: number;
}

export interface CostEstimate {
  /** Sum of the lines, in US dollars per month, rounded to cents. */
  monthlyUsd: number;
  lines: CostLine[];
}

export interface EstimateRequest {
  provider: Provider;
  resourceType: ResourceType;
  instanceType?: string;
  /** Disk for a VM; expected stored data for a bucket. */
  diskSizeGb?: number;
}

const MAX_PRICE = 1_000_000;
const MAX_DISK_GB = 1_000_000;

const price = z.number().finite().min(0).max(MAX_PRICE);
const overridesSchema = z.strictObject({
  asOf: z.string().max(32).optional(),
  source: z.string().max(300).optional(),
  providers: z
    .strictObject({
      gcp: providerOverride(),
      aws: providerOverride(),
      azure: providerOverride(),
    })
    .partial()
    .optional(),
});

function providerOverride() {
  return z
    .strictObject({
      instances: z.record(instanceTypeSchema, price),
      diskPerGbMonthUsd: price,
      bucket: z.strictObject({ baseMonthlyUsd: price, perGbMonthUsd: price }).partial(),
    })
    .partial();
}

const requestSchema = z.object({
  provider: z.enum(PROVIDERS, { error: `a provider: ${PROVIDERS.join(', ')}` }),
  resourceType: z.enum(RESOURCE_TYPES, { error: `a resource type: ${RESOURCE_TYPES.join(', ')}` }),
  instanceType: z.string().optional(),
  diskSizeGb: z
    .number({ error: 'a disk size in whole GB' })
    .int('a disk size in whole GB')
    .min(0, 'a disk size of at least 0 GB')
    .max(MAX_DISK_GB, `a disk size of at most ${MAX_DISK_GB} GB`)
    .optional(),
});

/** A field name from the file, shown only when it looks like one (a key may be any text the file holds). */
function fieldName(part: PropertyKey): string {
  const text = String(part);
  return /^[A-Za-z0-9._-]{1,64}$/.test(text) ? text : '(a field name that is not shown)';
}

/** One problem, by field path; zod's own text is not used where it would repeat keys or values from the file. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(fieldName).join('.') || '(top level)';
  if (issue.code === 'unrecognized_keys') return `${path}: unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map(fieldName).join(', ')}`;
  if (issue.code === 'invalid_key') return `${path}: a key that is not ${issue.origin === 'record' ? 'an instance type name' : 'allowed'}`;
  return `${path}: ${issue.message}`;
}

export class PriceCatalogue {
  private constructor(private readonly table: PriceTable) {}

  /** The built-in prices, with the operator's overrides file (if any) applied on top. */
  static load(overridesFile?: string): PriceCatalogue {
    if (!overridesFile) return new PriceCatalogue(BUILT_IN_PRICES);
    let text: string;
    try {
      text = readFileSync(overridesFile, 'utf8');
    } catch (error) {
      const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? ` (${error.code})` : '';
      throw new PricingOverridesError(overridesFile, [`cannot be read${code}`]);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      // JSON.parse's message quotes the text, and the file may not be a pricing file at all: only the place is named.
      throw new PricingOverridesError(overridesFile, [`not valid JSON at ${jsonErrorLocation(text)}`]);
    }
    const parsed = overridesSchema.safeParse(raw);
    if (!parsed.success) throw new PricingOverridesError(overridesFile, parsed.error.issues.map(describeIssue));
    return new PriceCatalogue(merge(BUILT_IN_PRICES, parsed.data));
  }

  /** Known instance types of a provider, sorted. */
  instanceTypes(provider: Provider): string[] {
    return Object.keys(this.table[provider].instances).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  }

  /** Whether a provider (or, without one, any provider) lists this instance type. */
  hasInstanceType(instanceType: string, provider?: Provider): boolean {
    const providers = provider ? [provider] : PROVIDERS;
    return providers.some((p) => Object.hasOwn(this.table[p].instances, instanceType));
  }

  /** Every priced instance type of a provider with its vCPU and memory where known (instance-specs.ts), sorted. */
  instanceOffers(provider: Provider): InstanceOffer[] {
    const specs = INSTANCE_SPECS[provider];
    return this.instanceTypes(provider).map((instanceType) => {
      const spec = Object.hasOwn(specs, instanceType) ? specs[instanceType] : undefined;
      return { instanceType, monthlyUsd: cents(this.table[provider].instances[instanceType] ?? 0), ...(spec ? { spec } : {}) };
    });
  }

  /** One instance type's offer, or undefined when the provider does not list it. */
  instanceOffer(provider: Provider, instanceType: string): InstanceOffer | undefined {
    return this.instanceOffers(provider).find((offer) => offer.instanceType === instanceType);
  }

  /** Block storage price of a provider, USD per GB-month. */
  diskPerGbMonthUsd(provider: Provider): number {
    return this.table[provider].diskPerGbMonthUsd;
  }

  /** Where a provider's figures come from and when they were written down. */
  sourceOf(provider: Provider): { source: string; asOf: string } {
    const { source, asOf } = this.table[provider];
    return { source, asOf };
  }

  /**
   * Monthly estimate with one line per priced part.
   * @throws UnknownInstanceType listing the provider's known types.
   * @throws InvalidEstimateRequest for a missing instance type on a VM or an impossible disk size.
   */
  estimate(request: EstimateRequest): CostEstimate {
    const parsed = requestSchema.safeParse(request);
    if (!parsed.success) throw new InvalidEstimateRequest(parsed.error.issues.map((i) => `expected ${i.message}`).join('; '));
    const { provider, resourceType, instanceType, diskSizeGb } = parsed.data;
    const prices = this.table[provider];
    const lines: CostLine[] = [];
    if (resourceType === 'vm') {
      if (!instanceType) throw new InvalidEstimateRequest('a virtual machine needs an instance type');
      const monthly = Object.hasOwn(prices.instances, instanceType) ? prices.instances[instanceType] : undefined;
      if (monthly === undefined) throw new UnknownInstanceType(provider, instanceType, this.instanceTypes(provider));
      lines.push({ label: `${instanceType} instance (on-demand)`, monthlyUsd: cents(monthly) });
      if (diskSizeGb) {
        lines.push({ label: `${diskSizeGb} GB disk`, monthlyUsd: cents(diskSizeGb * prices.diskPerGbMonthUsd) });
      }
    } else {
      lines.push({ label: 'bucket (base)', monthlyUsd: cents(prices.bucket.baseMonthlyUsd) });
      if (diskSizeGb) {
        lines.push({ label: `${diskSizeGb} GB stored`, monthlyUsd: cents(diskSizeGb * prices.bucket.perGbMonthUsd) });
      }
    }
    return { monthlyUsd: cents(lines.reduce((sum, line) => sum + line.monthlyUsd, 0)), lines };
  }
}

function cents(usd: number): number {
  return Math.round(usd * 100) / 100;
}

function merge(base: PriceTable, overrides: z.infer<typeof overridesSchema>): PriceTable {
  const merged = { ...base };
  for (const provider of PROVIDERS) {
    const patch = overrides.providers?.[provider];
    if (!patch) continue;
    const current: ProviderPrices = base[provider];
    merged[provider] = {
      source: overrides.source ? `${overrides.source} (over ${current.source})` : current.source,
      asOf: overrides.asOf ?? current.asOf,
      instances: { ...current.instances, ...patch.instances },
      diskPerGbMonthUsd: patch.diskPerGbMonthUsd ?? current.diskPerGbMonthUsd,
      bucket: { ...current.bucket, ...patch.bucket },
    };
  }
  return merged;
}
