/** The advisor's rules (src/advisor/rules.ts) over the built-in price catalogue: each fires, and each stays quiet. */
import { describe, expect, it } from 'vitest';
import { geographyOf } from '../src/advisor/geography.js';
import { adviseByRules, cheaperInstance, distantRegion, oversizedDisk, type AdviceSubject } from '../src/advisor/rules.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { INSTANCE_SPECS } from '../src/pricing/instance-specs.js';
import { PROVIDERS } from '../src/db/schema.js';
import { plain } from '../src/shared/text.js';

const catalogue = PriceCatalogue.load();
const vm = (over: Partial<AdviceSubject> = {}): AdviceSubject => ({
  provider: 'gcp',
  resourceType: 'vm',
  instanceType: 'e2-standard-2',
  diskSizeGb: 20,
  region: 'us-central1',
  otherProjects: [],
  guildVmDiskSizesGb: [],
  ...over,
});
const said = (advice: { text: Parameters<typeof plain>[0] } | undefined) => (advice ? plain(advice.text) : undefined);

describe('the price catalogue knows the size of every type it prices', () => {
  it('has vCPU and memory for each built-in instance type, and none it does not price', () => {
    for (const provider of PROVIDERS) {
      expect(Object.keys(INSTANCE_SPECS[provider]).sort()).toEqual([...catalogue.instanceTypes(provider)].sort());
    }
  });
});

describe('advisor rule: a cheaper type with the same vCPU and memory', () => {
  it('suggests e2-standard-2 for n2-standard-2 (both 2 vCPU, 8 GiB) with the saving', () => {
    const advice = cheaperInstance(vm({ instanceType: 'n2-standard-2' }), catalogue);
    expect(advice?.rule).toBe('cheaper_instance');
    expect(said(advice)).toMatch(/e2-standard-2 has the same 2 vCPU and 8 GiB as n2-standard-2 for \$48\.92\/month instead of \$70\.90 \(saves \$21\.98\/month\)/);
    expect(said(advice)).not.toMatch(/burstable/);
  });

  it('says so when the only cheaper equal is burstable (m5.large → t3.large)', () => {
    const advice = cheaperInstance(vm({ provider: 'aws', instanceType: 'm5.large', region: 'us-east-1' }), catalogue);
    expect(said(advice)).toMatch(/t3\.large .* instead of \$70\.08/);
    expect(said(advice)).toMatch(/burstable/);
  });

  it('stays quiet for the cheapest type of its size, an unknown size, and a bucket', () => {
    expect(cheaperInstance(vm({ instanceType: 'e2-standard-2' }), catalogue)).toBeUndefined();
    expect(cheaperInstance(vm({ instanceType: 'n1-standard-2' }), catalogue)).toBeUndefined();
    expect(cheaperInstance(vm({ instanceType: 'custom-type-9' }), catalogue)).toBeUndefined();
    expect(cheaperInstance(vm({ resourceType: 'bucket', instanceType: undefined, diskSizeGb: 5000 }), catalogue)).toBeUndefined();
  });
});

describe('advisor rule: an oversized disk', () => {
  it('fires when the disk costs more than the machine itself', () => {
    // 500 GB × $0.10 = $50/month against an e2-micro at $6.11.
    const advice = oversizedDisk(vm({ instanceType: 'e2-micro', diskSizeGb: 500 }), catalogue);
    expect(advice?.rule).toBe('oversized_disk');
    expect(said(advice)).toMatch(/500 GB disk looks oversized: it costs \$50\.00\/month, more than the e2-micro itself \(\$6\.11\/month\)/);
  });

  it('fires when the disk is far above the guild’s typical VM disk, even on a large machine', () => {
    const advice = oversizedDisk(vm({ instanceType: 'n1-standard-32', diskSizeGb: 400, guildVmDiskSizesGb: [20, 30, 50] }), catalogue);
    expect(said(advice)).toMatch(/over 4× this server's typical VM disk \(30 GB, the median of 3 VMs\)/);
    expect(said(advice)).not.toMatch(/more than the/);
  });

  it('stays quiet for a small disk, a disk in proportion, too few VMs to compare, and a bucket', () => {
    expect(oversizedDisk(vm({ instanceType: 'e2-micro', diskSizeGb: 100, guildVmDiskSizesGb: [10, 10, 10] }), catalogue)).toBeUndefined();
    expect(oversizedDisk(vm({ instanceType: 'e2-standard-8', diskSizeGb: 500, guildVmDiskSizesGb: [200, 300, 400] }), catalogue)).toBeUndefined();
    expect(oversizedDisk(vm({ instanceType: 'n1-standard-32', diskSizeGb: 400, guildVmDiskSizesGb: [10, 10] }), catalogue)).toBeUndefined();
    expect(oversizedDisk(vm({ resourceType: 'bucket', instanceType: undefined, diskSizeGb: 50_000 }), catalogue)).toBeUndefined();
  });
});

describe('advisor rule: a region far from the guild’s other projects', () => {
  it('fires when every other project is on another continent, naming them', () => {
    const advice = distantRegion(
      vm({ region: 'asia-east1', otherProjects: [{ name: 'api', provider: 'aws', region: 'eu-west-1' }, { name: 'shop', provider: 'azure', region: 'West Europe' }] }),
    );
    expect(advice?.rule).toBe('distant_region');
    expect(said(advice)).toMatch(/asia-east1 is in Asia-Pacific; this server's other projects are in Europe \(api, shop\)/);
  });

  it('stays quiet with a project on the same continent, with no other project, or an unknown region', () => {
    const others = [{ name: 'api', provider: 'aws' as const, region: 'eu-west-1' }, { name: 'ca', provider: 'azure' as const, region: 'eastus2' }];
    expect(distantRegion(vm({ region: 'us-central1', otherProjects: others }))).toBeUndefined();
    expect(distantRegion(vm({ region: 'asia-east1' }))).toBeUndefined();
    expect(distantRegion(vm({ region: 'mars-north1', otherProjects: others }))).toBeUndefined();
  });

  it('places each provider’s naming scheme on the right continent', () => {
    expect(geographyOf('gcp', 'europe-west4')).toBe('Europe');
    expect(geographyOf('aws', 'ap-southeast-2')).toBe('Asia-Pacific');
    expect(geographyOf('aws', 'sa-east-1')).toBe('South America');
    expect(geographyOf('azure', 'southafricanorth')).toBe('Africa');
    expect(geographyOf('azure', 'brazilsouth')).toBe('South America');
    expect(geographyOf('azure', 'East US 2')).toBe('North America');
    expect(geographyOf('azure', 'uksouth')).toBe('Europe');
    expect(geographyOf('azure', 'southeastasia')).toBe('Asia-Pacific');
  });
});

describe('advisor rules together', () => {
  it('give nothing for a well-sized deployment', () => {
    expect(adviseByRules(vm(), catalogue)).toEqual([]);
  });
});
