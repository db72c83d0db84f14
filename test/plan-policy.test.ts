/**
 * The policy on the plan, on its own (src/policy/planned-resources.ts, plan-cost.ts, plan-policy.ts): what is read
 * from `show -json`, what it costs, which rules it breaks. Plans are real Terraform output (test/fixtures/terraform-1.11.4,
 * and a fresh one when `terraform` is on PATH) and, for cloud resources that cannot be planned offline, documents
 * written by hand in the documented format (test/fixtures/plan-json: computed values in `after_unknown`,
 * sensitive ones in `after_sensitive`, module calls in `configuration`).
 */
import { sqliteDataAccess } from '../src/db/data-access.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { planViolationText } from '../commands/views/plan-policy.js';
import { generateConfig } from '../src/engine/config-generator.js';
import { PlanJsonInvalid } from '../src/engine/plan-summary.js';
import type { GuildFootprint } from '../src/policy/guild-footprint.js';
import { estimatePlanCost } from '../src/policy/plan-cost.js';
import { PlanConfiguration } from '../src/policy/plan-configuration.js';
import { judgePlan, type PlanCheck } from '../src/policy/plan-policy.js';
import { readPlannedResources, type PlannedResource } from '../src/policy/planned-resources.js';
import { BUILT_IN_TERRAFORM_TYPES, DEFAULT_POLICY, InvalidPolicy, PolicyService, type GuildPolicy } from '../src/policy/index.js';
import { PriceCatalogue } from '../src/pricing/catalogue.js';
import { plain } from '../src/shared/text.js';
import { FakeClock } from './support/clock.js';
import { hasRealTerraform } from './support/real-terraform.js';
import { makeTempDir, makeTestDatabase } from './support/tmp.js';

const GUILD = '111111111111111111';
const ADMIN = '333333333333333333';
const pricing = PriceCatalogue.load();
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8'));
const planned = (name: string) => readPlannedResources(fixture(name));
const byAddress = (resources: PlannedResource[], address: string) => resources.find((r) => r.address === address);

const policy = (settings: Partial<GuildPolicy> = {}): GuildPolicy => ({ guildId: GUILD, ...DEFAULT_POLICY, updatedAt: null, updatedBy: null, ...settings });
const NOTHING: GuildFootprint = { spend: 0, vms: 0, unsettledVms: 0 };
const judge = (resources: PlannedResource[], settings: Partial<GuildPolicy> = {}, footprint = NOTHING, extra: Partial<PlanCheck> = {}) =>
  judgePlan(policy(settings), footprint, pricing, { guildId: GUILD, provider: 'gcp', planned: resources, ...extra });
const rules = (decision: ReturnType<typeof judge>) => decision.violations.map((v) => v.rule);

describe('reading a plan', () => {
  it('real Terraform 1.11.4: terraform_data resources are created, supporting, of no cloud and free', async () => {
    const resources = planned('terraform-1.11.4/show.json');
    expect(resources).toEqual([
      { address: 'terraform_data.bucket_2', terraformType: 'terraform_data', action: 'create', category: null, supporting: true, provider: null, instanceType: null, disks: [] },
      { address: 'terraform_data.vm_1', terraformType: 'terraform_data', action: 'create', category: null, supporting: true, provider: null, instanceType: null, disks: [] },
    ]);
    expect(estimatePlanCost(pricing, 'gcp', resources)).toEqual({ estimate: { monthlyUsd: 0, lines: [] }, notEstimated: [] });
    expect(judge(resources, { allowedResourceTypes: ['vm'] })).toMatchObject({ allowed: true, requiresApproval: false });
  });

  it('a VM without a disk size gets its image’s boot disk; data sources and deletions make nothing', async () => {
    const resources = planned('plan-json/gcp-vm-no-disk-size.json');
    expect(resources.map((r) => [r.address, r.action])).toEqual([
      ['google_compute_instance.web', 'create'],
      ['google_compute_disk.data', 'create'],
      ['google_compute_network.net', 'create'],
      ['google_storage_bucket.assets', 'no-op'],
    ]);
    expect(byAddress(resources, 'google_compute_instance.web')).toEqual({
      address: 'google_compute_instance.web',
      terraformType: 'google_compute_instance',
      action: 'create',
      category: 'vm',
      supporting: false,
      provider: 'gcp',
      instanceType: { state: 'known', value: 'e2-standard-2', sensitive: false },
      disks: [
        // Unknown in the plan, and not set by the configuration: the image decides (debian-12: 10 GB).
        { role: 'boot', sizeGb: 10, source: 'default' },
        { role: 'scratch', sizeGb: 375, source: 'plan' },
      ],
    });
  });

  it('a disk size the module sets from something known only after apply stays unknown, never guessed', async () => {
    expect(byAddress(planned('plan-json/gcp-vm-no-disk-size.json'), 'google_compute_disk.data')?.disks).toEqual([{ role: 'standalone', sizeGb: null, source: 'unknown' }]);
    // The same unknown boot disk size, set by the configuration from a computed value:
    const json = fixture('plan-json/gcp-vm-no-disk-size.json') as { configuration: { root_module: { resources: Array<{ name: string; expressions: { boot_disk: unknown } }> } } };
    const web = json.configuration.root_module.resources.find((r) => r.name === 'web')!;
    web.expressions.boot_disk = [{ initialize_params: [{ size: { references: ['terraform_data.size.output'] } }] }];
    expect(byAddress(readPlannedResources(json), 'google_compute_instance.web')?.disks[0]).toEqual({ role: 'boot', sizeGb: null, source: 'unknown' });
    // And without any configuration to tell, unknown too.
    delete (json as { configuration?: unknown }).configuration;
    expect(byAddress(readPlannedResources(json), 'google_compute_instance.web')?.disks[0]).toEqual({ role: 'boot', sizeGb: null, source: 'unknown' });
  });

  it('resources inside modules, with count, replaced, from an OpenTofu registry; a secret in the plan is never read out', async () => {
    const resources = planned('plan-json/aws-module.json');
    expect(resources.map((r) => [r.address, r.action, r.category, r.supporting, r.provider])).toEqual([
      ['module.app.aws_instance.this[0]', 'create', 'vm', false, 'aws'],
      ['module.app.aws_instance.this[1]', 'replace', 'vm', false, 'aws'],
      ['module.app.aws_db_instance.db', 'create', null, false, 'aws'],
      ['module.app.aws_security_group.web', 'create', null, true, 'aws'],
      ['aws_s3_bucket.logs', 'update', 'bucket', false, 'aws'],
    ]);
    expect(byAddress(resources, 'module.app.aws_instance.this[0]')?.disks).toEqual([
      { role: 'boot', sizeGb: 30, source: 'plan' },
      { role: 'data', sizeGb: 100, source: 'plan' },
    ]);
    // The module's configuration (module_calls.app) sets no volume_size: the AMI's 8 GB.
    expect(byAddress(resources, 'module.app.aws_instance.this[1]')?.disks).toEqual([{ role: 'boot', sizeGb: 8, source: 'default' }]);
    expect(JSON.stringify(resources)).not.toContain('hunter2');
  });

  it('a sensitive instance type is read for the checks and flagged; Windows and Azure disks', async () => {
    const resources = planned('plan-json/azure-vms.json');
    expect(byAddress(resources, 'azurerm_linux_virtual_machine.app')).toMatchObject({
      action: 'update',
      instanceType: { state: 'known', value: 'Standard_D8s_v5', sensitive: true },
      disks: [{ role: 'boot', sizeGb: 64, source: 'plan' }],
    });
    expect(byAddress(resources, 'azurerm_windows_virtual_machine.build')?.disks).toEqual([{ role: 'boot', sizeGb: 127, source: 'default' }]);
    expect(byAddress(resources, 'azurerm_managed_disk.data')?.disks).toEqual([{ role: 'standalone', sizeGb: 256, source: 'plan' }]);
    expect(byAddress(resources, 'azurerm_storage_container.files')).toMatchObject({ category: 'bucket', supporting: true });
  });

  it('refuses what is not a plan, unknown actions and more resource changes than it reads', async () => {
    expect(() => readPlannedResources({ resource_changes: 'nope' })).toThrow(PlanJsonInvalid);
    const change = (actions: string[]) => ({ address: 'a_b.c', type: 'a_b', name: 'c', change: { actions } });
    expect(() => readPlannedResources({ resource_changes: [change(['move'])] })).toThrow(/unknown actions/);
    expect(() => readPlannedResources({ resource_changes: Array.from({ length: 20_001 }, () => change(['no-op'])) })).toThrow(/more than 20000 resource changes/);
    expect(readPlannedResources({ format_version: '1.2' })).toEqual([]);
  });

  it.skipIf(!hasRealTerraform())('a fresh real plan: module addresses, a value known only after apply, and what the configuration sets', async () => {
    const { dir, cleanup } = makeTempDir('plan-policy-real-');
    try {
      writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ resource: { terraform_data: { seed: { input: 'x' } } }, module: { app: { source: './app', seed: '${terraform_data.seed.id}' } } }));
      const app = join(dir, 'app');
      await execa('mkdir', [app]);
      writeFileSync(join(app, 'main.tf.json'), JSON.stringify({ variable: { seed: { type: 'string' } }, resource: { terraform_data: { child: { count: 2, input: '${var.seed}' } } } }));
      const env = { HOME: dir, PATH: process.env.PATH ?? '', TF_IN_AUTOMATION: '1' };
      for (const args of [['init', '-input=false', '-no-color'], ['plan', '-input=false', '-no-color', '-out=p.tfplan']]) {
        const run = await execa('terraform', args, { cwd: dir, env, extendEnv: false, reject: false });
        expect(run.exitCode, run.stderr).toBe(0);
      }
      const json: unknown = JSON.parse((await execa('terraform', ['show', '-json', 'p.tfplan'], { cwd: dir, env, extendEnv: false })).stdout);
      expect(readPlannedResources(json).map((r) => [r.address, r.action, r.supporting])).toEqual([
        ['terraform_data.seed', 'create', true],
        ['module.app.terraform_data.child[0]', 'create', true],
        ['module.app.terraform_data.child[1]', 'create', true],
      ]);
      const configuration = PlanConfiguration.of(json);
      expect(configuration.sets('module.app', 'terraform_data', 'child', ['input'])).toBe(true);
      expect(configuration.sets('module.app', 'terraform_data', 'child', ['triggers_replace'])).toBe(false);
      expect(configuration.sets('module.other', 'terraform_data', 'child', ['input'])).toBeUndefined();
    } finally {
      cleanup();
    }
  });
});

describe('the cost of a plan', () => {
  it('prices VMs with every disk, buckets, flat-priced and free types; counts unchanged resources; lists what it cannot price', async () => {
    const gcp = estimatePlanCost(pricing, 'gcp', planned('plan-json/gcp-vm-no-disk-size.json'));
    expect(gcp.estimate.lines).toEqual([
      { label: 'google_compute_instance.web: e2-standard-2 instance (on-demand)', monthlyUsd: 48.92 },
      { label: 'google_compute_instance.web: 10 GB boot disk', monthlyUsd: 1 },
      { label: 'google_compute_instance.web: 375 GB scratch disk', monthlyUsd: 37.5 },
      { label: 'google_storage_bucket.assets: bucket (base)', monthlyUsd: 1 },
    ]);
    expect(gcp.estimate.monthlyUsd).toBe(88.42);
    expect(gcp.notEstimated).toEqual([{ address: 'google_compute_disk.data', terraformType: 'google_compute_disk', reason: 'disk_size_unknown' }]);

    const aws = estimatePlanCost(pricing, 'aws', planned('plan-json/aws-module.json'), { expectedStorageGb: 100 });
    expect(aws.estimate.monthlyUsd).toBe(60.74 * 2 + 2.4 + 8 + 0.64 + 1 + 2.3);
    expect(aws.notEstimated).toEqual([{ address: 'module.app.aws_db_instance.db', terraformType: 'aws_db_instance', reason: 'unknown_type' }]);

    const azure = estimatePlanCost(pricing, 'azure', planned('plan-json/azure-vms.json'));
    expect(azure.estimate.lines.map((l) => l.label)).toEqual([
      // The sensitive instance type is priced, and not named.
      'azurerm_linux_virtual_machine.app: instance (on-demand)',
      'azurerm_linux_virtual_machine.app: 64 GB boot disk',
      'azurerm_windows_virtual_machine.build: Standard_B2s instance (on-demand)',
      'azurerm_windows_virtual_machine.build: 127 GB boot disk',
      'azurerm_managed_disk.data: 256 GB standalone disk',
      'azurerm_public_ip.build: azurerm_public_ip',
      'azurerm_storage_account.files: bucket (base)',
    ]);
    expect(azure.notEstimated).toEqual([]);
  });

  it('an instance type the catalogue does not list, or one known only after apply, is not estimated rather than free', async () => {
    const vm = (instanceType: PlannedResource['instanceType']): PlannedResource => ({
      address: 'google_compute_instance.x', terraformType: 'google_compute_instance', action: 'create', category: 'vm', supporting: false, provider: 'gcp', instanceType, disks: [],
    });
    expect(estimatePlanCost(pricing, 'gcp', [vm({ state: 'known', value: 'a3-megagpu-8g', sensitive: false })]).notEstimated).toEqual([
      { address: 'google_compute_instance.x', terraformType: 'google_compute_instance', reason: 'instance_type_not_priced', instanceType: 'a3-megagpu-8g' },
    ]);
    expect(estimatePlanCost(pricing, 'gcp', [vm({ state: 'known', value: 'secret-type', sensitive: true })]).notEstimated[0]).not.toHaveProperty('instanceType');
    expect(estimatePlanCost(pricing, 'gcp', [vm({ state: 'unknown' })]).notEstimated[0]?.reason).toBe('instance_type_unknown');
  });

  it('an operator’s overrides file can price a type the catalogue does not know', async () => {
    const { dir, cleanup } = makeTempDir();
    try {
      writeFileSync(join(dir, 'prices.json'), JSON.stringify({ providers: { aws: { resources: { aws_db_instance: 15.5 } } } }));
      const priced = estimatePlanCost(PriceCatalogue.load(join(dir, 'prices.json')), 'aws', planned('plan-json/aws-module.json'));
      expect(priced.notEstimated).toEqual([]);
      expect(priced.estimate.lines).toContainEqual({ label: 'module.app.aws_db_instance.db: aws_db_instance', monthlyUsd: 15.5 });
      writeFileSync(join(dir, 'prices.json'), JSON.stringify({ providers: { aws: { resources: { 'AWS DB': 1 } } } }));
      expect(() => PriceCatalogue.load(join(dir, 'prices.json'))).toThrow(/providers\.aws\.resources\..*: a key that is not a Terraform resource type/);
    } finally {
      cleanup();
    }
  });
});

describe('the policy on a plan', () => {
  it('every disk is held to max_disk, including the default one and one of unknown size', async () => {
    const decision = judge(planned('plan-json/gcp-vm-no-disk-size.json'), { maxDiskSizeGb: 5 });
    expect(decision.violations.filter((v) => v.rule === 'disk')).toEqual([
      { rule: 'disk', address: 'google_compute_instance.web', disk: { role: 'boot', sizeGb: 10, source: 'default' }, maxGb: 5 },
      { rule: 'disk', address: 'google_compute_instance.web', disk: { role: 'scratch', sizeGb: 375, source: 'plan' }, maxGb: 5 },
      { rule: 'disk', address: 'google_compute_disk.data', disk: { role: 'standalone', sizeGb: null, source: 'unknown' }, maxGb: 5 },
    ]);
    expect(decision.violations.map((v) => plain(planViolationText(v)))).toEqual([
      'The boot disk of google_compute_instance.web (10 GB, its image’s size as no size is set) exceeds the guild limit (5 GB).',
      'The scratch disk of google_compute_instance.web (375 GB) exceeds the guild limit (5 GB).',
      'The size of the disk of google_compute_disk.data is known only after apply, so it cannot be checked against the guild limit (5 GB): give it a size in the configuration.',
    ]);
  });

  it('resource types: categories and Terraform types; supporting resources pass; one line per type refused', async () => {
    const aws = planned('plan-json/aws-module.json');
    const refused = judge(aws, { allowedResourceTypes: ['vm'], unpricedResources: 'allow' });
    expect(refused.violations).toEqual([
      { rule: 'resource_type', terraformType: 'aws_db_instance', category: null, addresses: ['module.app.aws_db_instance.db'], allowed: ['vm'] },
      { rule: 'resource_type', terraformType: 'aws_s3_bucket', category: 'bucket', addresses: ['aws_s3_bucket.logs'], allowed: ['vm'] },
    ]);
    expect(plain(planViolationText(refused.violations[0]!))).toBe('Resource type aws_db_instance is not allowed in this guild (module.app.aws_db_instance.db); allowed: vm.');
    expect(judge(aws, { allowedResourceTypes: ['aws_instance', 'bucket', 'aws_db_instance'], unpricedResources: 'allow' }).allowed).toBe(true);
  });

  it('instance types: each VM, by name, hidden when sensitive; only changed resources are checked', async () => {
    const azure = judge(planned('plan-json/azure-vms.json'), { allowedInstanceTypes: ['Standard_B2s'] });
    expect(azure.violations).toEqual([
      { rule: 'instance_type', address: 'azurerm_linux_virtual_machine.app', instanceType: { state: 'known', value: 'Standard_D8s_v5', sensitive: true }, allowed: ['Standard_B2s'] },
    ]);
    expect(plain(planViolationText(azure.violations[0]!))).not.toContain('Standard_D8s_v5');
    const unchanged = planned('plan-json/azure-vms.json').map((r) => ({ ...r, action: 'no-op' as const }));
    expect(judge(unchanged, { allowedInstanceTypes: ['Standard_B2s'] }).violations).toEqual([]);
  });

  it('counts the plan’s compute instances with those that may exist and those reserved', async () => {
    const aws = planned('plan-json/aws-module.json');
    const decision = judge(aws, { maxInstances: 3, unpricedResources: 'allow' }, { spend: 0, vms: 1, unsettledVms: 1 }, { reserved: { monthlyUsd: 0, vms: 1 } });
    expect(decision.vms).toBe(2);
    expect(decision.violations).toEqual([{ rule: 'instances', running: 2, unsettled: 1, adding: 2, max: 3 }]);
    expect(plain(planViolationText(decision.violations[0]!))).toMatch(/^The plan adds 2 instances, and the guild already runs 2 of its 3 allowed instances \(1 of them failed.*destroy 1 first\.$/);
    // Planned again, its own instances are not counted twice.
    expect(judge(aws, { maxInstances: 3, unpricedResources: 'allow' }, { spend: 0, vms: 3, unsettledVms: 0 }, { alreadyCounted: { monthlyUsd: 0, vms: 2 } }).allowed).toBe(true);
  });

  it('the budget counts the plan’s estimate with the guild’s spend and reservations, and says what was not estimated', async () => {
    const gcp = planned('plan-json/gcp-vm-no-disk-size.json');
    const decision = judge(gcp, { maxBudgetMonthly: 100 }, { spend: 10, vms: 0, unsettledVms: 0 }, { reserved: { monthlyUsd: 5, vms: 0 } });
    expect(decision.projectedMonthlyUsd).toBe(103.42);
    expect(decision.violations.filter((v) => v.rule === 'budget')).toEqual([{ rule: 'budget', estimateUsd: 88.42, projectedUsd: 103.42, maxUsd: 100, notEstimated: 1 }]);
    expect(plain(planViolationText(decision.violations.find((v) => v.rule === 'budget')!))).toBe(
      'Estimated monthly cost ($88.42, not counting 1 resource that could not be estimated) would bring the guild to $103.42, over its budget limit ($100.00).',
    );
  });

  it('resources not estimated: require approval by default, or pass, or refuse, as the policy says', async () => {
    const aws = planned('plan-json/aws-module.json');
    expect(judge(aws)).toMatchObject({ allowed: true, requiresApproval: true, approvalReasons: ['unpriced'] });
    expect(judge(aws, { requireApproval: true })).toMatchObject({ requiresApproval: true, approvalReasons: ['policy', 'unpriced'] });
    expect(judge(aws, { unpricedResources: 'allow' })).toMatchObject({ allowed: true, requiresApproval: false, approvalReasons: [] });
    const refused = judge(aws, { unpricedResources: 'refuse' });
    expect(refused).toMatchObject({ allowed: false, violations: [{ rule: 'unpriced', resources: [{ address: 'module.app.aws_db_instance.db', reason: 'unknown_type' }] }] });
    expect(plain(planViolationText(refused.violations[0]!))).toBe(
      'This guild’s policy refuses resources that cannot be estimated: module.app.aws_db_instance.db (no price for this resource type).',
    );
    // A fully priced plan needs nothing more.
    expect(judge(planned('plan-json/azure-vms.json'))).toMatchObject({ allowed: true, requiresApproval: false, notEstimated: [] });
  });

  it('reports every broken rule at once', async () => {
    const decision = judge(planned('plan-json/aws-module.json'), {
      maxBudgetMonthly: 10, maxInstances: 1, maxDiskSizeGb: 20, allowedInstanceTypes: ['t3.micro'], allowedResourceTypes: ['vm'], unpricedResources: 'refuse',
    });
    expect(rules(decision)).toEqual(['budget', 'instances', 'disk', 'disk', 'instance_type', 'instance_type', 'resource_type', 'resource_type', 'unpriced']);
  });
});

describe('the policy settings the plan check reads', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));
  function service() {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    return new PolicyService(sqliteDataAccess(database), pricing, new FakeClock());
  }

  it('stores what to do with resources not estimated, and Terraform types among the allowed resource types', async () => {
    const policies = service();
    await policies.update(GUILD, { unpricedResources: 'refuse', allowedResourceTypes: ['vm', 'google_sql_database_instance', 'vm'] }, ADMIN);
    expect(await policies.get(GUILD)).toMatchObject({ unpricedResources: 'refuse', allowedResourceTypes: ['vm', 'google_sql_database_instance'] });
    await expect(policies.update(GUILD, { unpricedResources: 'maybe' }, ADMIN)).rejects.toThrow(/must be one of: allow, require_approval, refuse/);
    await expect(policies.update(GUILD, { allowedResourceTypes: ['vm', 'Google Compute', 'x'] }, ADMIN)).rejects.toThrow(/or Terraform resource types such as google_compute_instance \(not "Google Compute", "x"\)/);
    await expect(policies.update(GUILD, { allowedResourceTypes: Array.from({ length: 101 }, (_, i) => `aws_type_${i}`) }, ADMIN)).rejects.toThrow(InvalidPolicy);
  });

  it('the option check reads a Terraform type in the allowed list as the built-in resource it names', async () => {
    const policies = service();
    await policies.update(GUILD, { allowedResourceTypes: ['google_storage_bucket', 'aws_instance'] }, ADMIN);
    expect((await policies.validate(GUILD, { provider: 'gcp', resourceType: 'bucket' })).allowed).toBe(true);
    expect((await policies.validate(GUILD, { provider: 'aws', resourceType: 'vm', instanceType: 't3.micro' })).allowed).toBe(true);
    expect((await policies.validate(GUILD, { provider: 'gcp', resourceType: 'vm', instanceType: 'e2-micro' })).violations.map((v) => v.rule)).toEqual(['resource_type']);
  });

  it('the built-in Terraform types are the ones the generated configuration writes, read as their category', async () => {
    for (const [provider, types] of Object.entries(BUILT_IN_TERRAFORM_TYPES) as Array<[keyof typeof BUILT_IN_TERRAFORM_TYPES, Record<'vm' | 'bucket', string>]>) {
      for (const [resourceType, terraformType] of Object.entries(types) as Array<['vm' | 'bucket', string]>) {
        const config = generateConfig(
          { id: 1, guildId: GUILD, slug: 'web', provider, region: provider === 'azure' ? 'eastus' : provider === 'aws' ? 'us-east-1' : 'us-central1' },
          [{ id: 7, name: 'r', resourceType, instanceType: resourceType === 'vm' ? pricing.instanceTypes(provider)[0]! : null, diskSizeGb: null }],
        );
        expect(Object.keys((config.document.resource ?? {}) as object)).toContain(terraformType);
        const change = { address: `${terraformType}.x`, type: terraformType, name: 'x', change: { actions: ['create'], after: {} } };
        expect(readPlannedResources({ resource_changes: [change] })[0]?.category).toBe(resourceType);
      }
    }
  });
});
