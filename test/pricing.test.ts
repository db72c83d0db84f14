import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { InvalidEstimateRequest, PricingOverridesError, UnknownInstanceType } from '../src/pricing/errors.js';
import { BUILT_IN_PRICES } from '../src/pricing/prices.js';
import { PROVIDERS } from '../src/db/schema.js';
import { makeTempDir } from './support/tmp.js';

describe('price catalogue', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function overridesFile(content: string): string {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'prices.json');
    writeFileSync(file, content);
    return file;
  }

  it('knows common instance types of every provider, with a source and a date', () => {
    const catalogue = PriceCatalogue.load();
    expect(catalogue.instanceTypes('gcp')).toEqual(expect.arrayContaining(['e2-micro', 'n1-standard-32', 'n2-standard-4']));
    expect(catalogue.instanceTypes('aws')).toEqual(expect.arrayContaining(['t3.micro', 'm5.2xlarge', 'c5.large']));
    expect(catalogue.instanceTypes('azure')).toEqual(expect.arrayContaining(['Standard_B1s', 'Standard_D4s_v5']));
    for (const provider of PROVIDERS) {
      expect(catalogue.sourceOf(provider).source).not.toBe('');
      expect(catalogue.sourceOf(provider).asOf).toMatch(/^\d{4}-\d{2}$/);
    }
  });

  it('estimates a VM as its instance plus its disk, in dollars and cents', () => {
    const estimate = PriceCatalogue.load().estimate({
      provider: 'gcp',
      resourceType: 'vm',
      instanceType: 'e2-medium',
      diskSizeGb: 50,
    });
    const gcp = BUILT_IN_PRICES.gcp;
    expect(estimate.lines).toEqual([
      { label: 'e2-medium instance (on-demand)', monthlyUsd: gcp.instances['e2-medium'] },
      { label: '50 GB disk', monthlyUsd: 50 * gcp.diskPerGbMonthUsd },
    ]);
    expect(estimate.monthlyUsd).toBeCloseTo(gcp.instances['e2-medium']! + 50 * gcp.diskPerGbMonthUsd, 2);
  });

  it('estimates a bucket from its base price and expected storage', () => {
    const estimate = PriceCatalogue.load().estimate({ provider: 'aws', resourceType: 'bucket', diskSizeGb: 100 });
    expect(estimate.lines.map((l) => l.label)).toEqual(['bucket (base)', '100 GB stored']);
    expect(estimate.monthlyUsd).toBe(BUILT_IN_PRICES.aws.bucket.baseMonthlyUsd + 2.3);
  });

  it('rejects an unknown instance type, listing the ones known for that provider', () => {
    const catalogue = PriceCatalogue.load();
    let error: unknown;
    try {
      catalogue.estimate({ provider: 'aws', resourceType: 'vm', instanceType: 'e2-micro' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownInstanceType);
    const message = (error as Error).message;
    expect(message).toContain('t3.micro');
    expect(message).not.toContain('Standard_B1s');
    // inherited object properties are not instance types
    expect(() => catalogue.estimate({ provider: 'aws', resourceType: 'vm', instanceType: 'constructor' })).toThrow(
      UnknownInstanceType,
    );
  });

  it('rejects a VM without an instance type and impossible disk sizes', () => {
    const catalogue = PriceCatalogue.load();
    expect(() => catalogue.estimate({ provider: 'gcp', resourceType: 'vm' })).toThrow(InvalidEstimateRequest);
    for (const diskSizeGb of [-1, 1.5, Number.NaN, 10_000_000]) {
      expect(() => catalogue.estimate({ provider: 'gcp', resourceType: 'vm', instanceType: 'e2-micro', diskSizeGb })).toThrow(
        InvalidEstimateRequest,
      );
    }
    expect(() =>
      catalogue.estimate({ provider: 'oracle' as 'gcp', resourceType: 'vm', instanceType: 'e2-micro' }),
    ).toThrow(/provider: gcp, aws, azure/);
  });

  it('applies an overrides file: changed prices, new types, untouched providers kept', () => {
    const file = overridesFile(
      JSON.stringify({
        asOf: '2026-01',
        source: 'negotiated rates',
        providers: { aws: { instances: { 't3.micro': 5, 't3.nano': 3.8 }, diskPerGbMonthUsd: 0.1 } },
      }),
    );
    const catalogue = PriceCatalogue.load(file);
    expect(catalogue.estimate({ provider: 'aws', resourceType: 'vm', instanceType: 't3.micro', diskSizeGb: 10 }).monthlyUsd).toBe(6);
    expect(catalogue.instanceTypes('aws')).toContain('t3.nano');
    expect(catalogue.instanceTypes('aws')).toContain('m5.large');
    expect(catalogue.sourceOf('aws')).toEqual({ asOf: '2026-01', source: expect.stringContaining('negotiated rates') });
    expect(catalogue.sourceOf('gcp')).toEqual({ asOf: BUILT_IN_PRICES.gcp.asOf, source: BUILT_IN_PRICES.gcp.source });
    // the built-in table itself is not modified
    expect(PriceCatalogue.load().hasInstanceType('t3.nano')).toBe(false);
  });

  it('names the file and every bad field of an invalid overrides file', () => {
    const file = overridesFile(
      JSON.stringify({ providers: { aws: { instances: { 't3.micro': -5, '../x': 1 } }, oracle: {} }, pricez: 1 }),
    );
    let error: unknown;
    try {
      PriceCatalogue.load(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PricingOverridesError);
    const message = (error as Error).message;
    expect(message).toContain(file);
    expect(message).toContain('providers.aws.instances.t3.micro');
    expect(message).toMatch(/oracle/);
    expect(message).toMatch(/pricez/);
  });

  it('reports an overrides file that is not JSON or does not exist', () => {
    expect(() => PriceCatalogue.load(overridesFile('{ not json'))).toThrow(/not valid JSON/);
    expect(() => PriceCatalogue.load('/nonexistent/prices.json')).toThrow(/\/nonexistent\/prices.json.*\n.*cannot be read/);
  });
});
